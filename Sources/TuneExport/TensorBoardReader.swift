import Foundation
import SwiftProtobuf
import TuneData
import TuneDiagnosis

/// Reads scalar series from TensorBoard event files: those PyTorch's `SummaryWriter` writes (`simple_value`), those of
/// TF2 and Keras (scalars stored as tensors, `train/` and `validation/` run directories), and swift-tune's own.
public enum TensorBoardReader {
    /// One logged scalar.
    public struct Point: Sendable, Equatable {
        public var step: Int64
        public var value: Double
        public var wallTime: Double
    }

    /// What a TensorBoard log holds for the doctor: scalar series by run and tag, and each run's HParams settings.
    public struct Log: Sendable {
        /// By run (the event file's directory relative to the path read, "" for the path itself), then tag; each
        /// series sorted by step (the last value wins for a repeated step).
        public var scalars: [String: [String: [Point]]] = [:]
        /// The settings of the HParams plugin's session records (`_hparams_/session_start_info`, as PyTorch's
        /// `add_hparams` and swift-tune write them), by run, as text.
        public var hyperparameters: [String: [String: String]] = [:]
    }

    /// Every scalar series under `path` (an event file or a log directory), by run (the event file's directory
    /// relative to `path`, "" for `path` itself) and tag, each sorted by step (the last value wins for a repeated step).
    public static func scalars(at path: String) throws -> [String: [String: [Point]]] {
        try read(at: path).scalars
    }

    /// The scalar series and HParams settings under `path` (an event file or a log directory).
    public static func read(at path: String) throws -> Log {
        let files = try eventFiles(at: path)
        var series: [String: [String: [Int64: Point]]] = [:]
        var settings: [String: [String: String]] = [:]
        for file in files {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: file.path))
            } catch {
                throw DataError(path: file.path, "cannot read: \(error.localizedDescription)")
            }
            let records: [Data]
            do {
                records = try TFRecord.records(data, path: file.path)
            } catch let problem as TFRecord.Problem {
                throw DataError(path: file.path, problem.message + " (byte \(problem.offset))")
            }
            for record in records {
                guard let event = try? Tensorboard_Event(serializedBytes: record),
                    case .summary(let summary)? = event.what
                else { continue }
                for value in summary.value {
                    if value.hasMetadata, value.metadata.pluginData.pluginName == "hparams" {
                        if let data = try? Tensorboard_Hparams_HParamsPluginData(
                            serializedBytes: value.metadata.pluginData.content),
                            case .sessionStartInfo(let info)? = data.data
                        {
                            settings[file.run, default: [:]].merge(info.hparams.mapValues(text)) { $1 }
                        }
                        continue
                    }
                    guard let v = scalar(value) else { continue }
                    let tag = value.tag.isEmpty ? value.nodeName : value.tag
                    series[file.run, default: [:]][tag, default: [:]][event.step] = Point(
                        step: event.step, value: v, wallTime: event.wallTime)
                }
            }
        }
        return Log(
            scalars: series.mapValues { $0.mapValues { $0.values.sorted { $0.step < $1.step } } },
            hyperparameters: settings)
    }

    /// The event files under `path`, sorted by path, each with its run (its directory relative to `path`); `path`
    /// itself, as run "", when it is a file.
    static func eventFiles(at path: String) throws -> [(run: String, path: String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(path: path, "no such file or directory")
        }
        var files: [(run: String, path: String)] = []
        if isDirectory.boolValue {
            let enumerator = FileManager.default.enumerator(atPath: path)
            while let relative = enumerator?.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                guard name.contains("tfevents") else { continue }
                files.append(
                    (
                        (relative as NSString).deletingLastPathComponent,
                        (path as NSString).appendingPathComponent(relative)
                    ))
            }
            files.sort { $0.path < $1.path }
        } else {
            files = [("", path)]
        }
        guard !files.isEmpty else { throw DataError(path: path, "no TensorBoard event files (*tfevents*) here") }
        return files
    }

    /// A protobuf `Value` as text: numbers as Swift prints them, strings as they are, booleans as true/false.
    static func text(_ value: Google_Protobuf_Value) -> String {
        switch value.kind {
        case .numberValue(let n)?: return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : "\(n)"
        case .stringValue(let s)?: return s
        case .boolValue(let b)?: return b ? "true" : "false"
        default: return ""
        }
    }

    /// The number in a summary value: `simple_value`, or a one-element float or double tensor.
    static func scalar(_ value: Tensorboard_Summary.Value) -> Double? {
        switch value.value {
        case .simpleValue(let v)?:
            return Double(v)
        case .tensor(let t)?:
            if value.hasMetadata, !value.metadata.pluginData.pluginName.isEmpty,
                value.metadata.pluginData.pluginName != "scalars"
            {
                return nil
            }
            guard t.tensorShape.dim.allSatisfy({ $0.size == 1 }) else { return nil }
            switch t.dtype {
            case .dtFloat:
                if let f = t.floatVal.first { return Double(f) }
                if t.tensorContent.count == 4 {
                    return Double(
                        Float(
                            bitPattern: t.tensorContent.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                                .littleEndian))
                }
            case .dtDouble:
                if let d = t.doubleVal.first { return d }
                if t.tensorContent.count == 8 {
                    return Double(
                        bitPattern: t.tensorContent.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
                }
            default:
                return nil
            }
            return nil
        default:
            return nil
        }
    }

    /// The curves in a TensorBoard log: series found by their usual tags (or named, as `tag` or `run:tag`); see
    /// ``ScalarSeries/curves(_:source:columns:)``.
    public static func curves(at path: String, columns: CurveColumns = CurveColumns()) throws -> Curves {
        try ScalarSeries.curves(try scalars(at: path), source: path, columns: columns)
    }
}
