import Foundation
import SwiftProtobuf

/// A hyperparameter's value as TensorBoard's HParams plugin shows it.
public enum HParamValue: Sendable, Equatable {
    case number(Double), string(String), bool(Bool)

    var protobuf: Google_Protobuf_Value {
        switch self {
        case .number(let d): return Google_Protobuf_Value(numberValue: d)
        case .string(let s): return Google_Protobuf_Value(stringValue: s)
        case .bool(let b): return Google_Protobuf_Value(boolValue: b)
        }
    }
}

/// Writes a TensorBoard event file (TFRecord framing, masked CRC-32C, `Event` messages) in a directory: scalars,
/// text, and the HParams plugin's records, so that TensorBoard's Scalars, Text and HParams tabs show the run.
///
/// Records are appended whole (an epoch's together), so a reader (TensorBoard itself, while training runs) never sees
/// a record cut short except at the end of a file still being written, which readers skip.
public final class TensorBoardWriter {
    public let directory: URL
    public let file: URL
    private let handle: FileHandle

    /// The HParams plugin's tags and version (as TensorBoard's `summary_v2.hparams` and PyTorch's SummaryWriter write them).
    static let pluginName = "hparams"
    static let experimentTag = "_hparams_/experiment"
    static let sessionStartTag = "_hparams_/session_start_info"
    static let sessionEndTag = "_hparams_/session_end_info"

    /// Opens a new event file in `directory` (created if needed), named as TensorFlow names them.
    public init(directory: URL, clock: () -> Double = { Date().timeIntervalSince1970 }) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TFRecord.Problem(
                path: directory.path, offset: 0,
                message: "cannot create the log directory: \(error.localizedDescription)")
        }
        let now = clock()
        let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_")
        var name = "events.out.tfevents.\(Int(now)).\(host).\(ProcessInfo.processInfo.processIdentifier)"
        var suffix = 0
        while FileManager.default.fileExists(atPath: directory.appendingPathComponent(name + ".\(suffix)").path) {
            suffix += 1
        }
        name += ".\(suffix)"
        file = directory.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: file.path, contents: nil),
            let h = FileHandle(forWritingAtPath: file.path)
        else {
            throw TFRecord.Problem(path: file.path, offset: 0, message: "cannot create the event file")
        }
        handle = h
        var first = Tensorboard_Event()
        first.wallTime = now
        first.fileVersion = "brain.Event:2"
        try write(first)
    }

    deinit { try? handle.close() }

    /// Records held by `grouped` until its end.
    private var held: Data?

    /// Runs `body` and writes the records it makes in one write (an epoch's scalars and steps), not one each.
    public func grouped(_ body: () throws -> Void) throws {
        held = Data()
        defer { held = nil }
        try body()
        if let data = held, !data.isEmpty { try append(data) }
    }

    /// Appends one event (or holds it, inside `grouped`).
    func write(_ event: Tensorboard_Event) throws {
        let data: Data
        do { data = try event.serializedData() } catch {
            throw TFRecord.Problem(path: file.path, offset: 0, message: "cannot encode an event: \(error)")
        }
        if held != nil { held!.append(TFRecord.frame(data)) } else { try append(TFRecord.frame(data)) }
    }

    private func append(_ bytes: Data) throws {
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw TFRecord.Problem(path: file.path, offset: 0, message: "cannot write: \(error.localizedDescription)")
        }
    }

    private func event(step: Int, wallTime: Double?, _ values: [Tensorboard_Summary.Value]) -> Tensorboard_Event {
        var e = Tensorboard_Event()
        e.wallTime = wallTime ?? Date().timeIntervalSince1970
        e.step = Int64(step)
        var s = Tensorboard_Summary()
        s.value = values
        e.summary = s
        return e
    }

    /// A scalar (a 32-bit float, as TensorBoard stores scalars) at `step`.
    public func scalar(_ tag: String, _ value: Double, step: Int, wallTime: Double? = nil) throws {
        var v = Tensorboard_Summary.Value()
        v.tag = tag
        v.simpleValue = Float(value)
        try write(event(step: step, wallTime: wallTime, [v]))
    }

    /// A text summary (Markdown, shown in the Text tab) at `step`.
    public func text(_ tag: String, _ text: String, step: Int = 0) throws {
        var v = Tensorboard_Summary.Value()
        v.tag = tag
        var metadata = Tensorboard_SummaryMetadata()
        metadata.pluginData.pluginName = "text"
        v.metadata = metadata
        var tensor = Tensorboard_TensorProto()
        tensor.dtype = .dtString
        tensor.tensorShape = Tensorboard_TensorShapeProto()
        tensor.stringVal = [Data(text.utf8)]
        v.tensor = tensor
        try write(event(step: step, wallTime: nil, [v]))
    }

    private func hparams(_ tag: String, _ data: Tensorboard_Hparams_HParamsPluginData) throws {
        var v = Tensorboard_Summary.Value()
        v.tag = tag
        var metadata = Tensorboard_SummaryMetadata()
        metadata.pluginData.pluginName = Self.pluginName
        do { metadata.pluginData.content = try data.serializedData() } catch {
            throw TFRecord.Problem(path: file.path, offset: 0, message: "cannot encode the hparams data: \(error)")
        }
        v.metadata = metadata
        try write(event(step: 0, wallTime: nil, [v]))
    }

    /// The HParams experiment (written once, in the study's root directory): the hyperparameters' names (with their
    /// values when they are a set of choices, or their interval when they are a range) and the metrics' tags, as the
    /// HParams tab lists them.
    public func experiment(
        hyperparameters: [(name: String, values: [HParamValue]?)], metrics: [String],
        intervals: [String: ClosedRange<Double>] = [:]
    ) throws {
        var experiment = Tensorboard_Hparams_Experiment()
        experiment.hparamInfos = hyperparameters.map { h in
            var info = Tensorboard_Hparams_HParamInfo()
            info.name = h.name
            if let range = intervals[h.name] {
                var interval = Tensorboard_Hparams_Interval()
                interval.minValue = range.lowerBound
                interval.maxValue = range.upperBound
                info.domainInterval = interval
                info.type = .float64
            } else if let values = h.values, let first = values.first {
                var list = Google_Protobuf_ListValue()
                list.values = values.map(\.protobuf)
                info.domainDiscrete = list
                switch first {
                case .number: info.type = .float64
                case .string: info.type = .string
                case .bool: info.type = .bool
                }
            }
            return info
        }
        experiment.metricInfos = metrics.map { tag in
            var info = Tensorboard_Hparams_MetricInfo()
            info.name.tag = tag
            return info
        }
        var data = Tensorboard_Hparams_HParamsPluginData()
        data.version = 0
        data.experiment = experiment
        try hparams(Self.experimentTag, data)
    }

    /// The start of one session (a trial, in its own directory) with its hyperparameters.
    public func sessionStart(_ hyperparameters: [String: HParamValue], group: String = "", startTime: Double? = nil)
        throws
    {
        var info = Tensorboard_Hparams_SessionStartInfo()
        info.hparams = hyperparameters.mapValues(\.protobuf)
        info.groupName = group
        info.startTimeSecs = startTime ?? Date().timeIntervalSince1970
        var data = Tensorboard_Hparams_HParamsPluginData()
        data.version = 0
        data.sessionStartInfo = info
        try hparams(Self.sessionStartTag, data)
    }

    /// The end of the session: success, or failure (a pruned or failed trial).
    public func sessionEnd(success: Bool, endTime: Double? = nil) throws {
        var info = Tensorboard_Hparams_SessionEndInfo()
        info.status = success ? .success : .failure
        info.endTimeSecs = endTime ?? Date().timeIntervalSince1970
        var data = Tensorboard_Hparams_HParamsPluginData()
        data.version = 0
        data.sessionEndInfo = info
        try hparams(Self.sessionEndTag, data)
    }
}

extension TFRecord {
    /// `data` framed as one record: its length, the length's masked CRC-32C, the data, the data's masked CRC-32C.
    public static func frame(_ data: Data) -> Data {
        var out = Data(capacity: data.count + 16)
        var length = UInt64(data.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: &length) { Data($0) }
        out.append(lengthBytes)
        func append32(_ v: UInt32) {
            var le = v.littleEndian
            out.append(withUnsafeBytes(of: &le) { Data($0) })
        }
        append32(CRC32C.masked(lengthBytes))
        out.append(data)
        append32(CRC32C.masked(data))
        return out
    }
}
