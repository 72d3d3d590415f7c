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

    /// Every scalar series under `path` (an event file or a log directory), by run (the event file's directory
    /// relative to `path`, "" for `path` itself) and tag, each sorted by step (the last value wins for a repeated step).
    public static func scalars(at path: String) throws -> [String: [String: [Point]]] {
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
                files.append(((relative as NSString).deletingLastPathComponent, (path as NSString).appendingPathComponent(relative)))
            }
            files.sort { $0.path < $1.path }
        } else {
            files = [("", path)]
        }
        guard !files.isEmpty else { throw DataError(path: path, "no TensorBoard event files (*tfevents*) here") }
        var series: [String: [String: [Int64: Point]]] = [:]
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
                guard let event = try? Tensorboard_Event(serializedBytes: record), case .summary(let summary)? = event.what else { continue }
                for value in summary.value {
                    guard let v = scalar(value) else { continue }
                    let tag = value.tag.isEmpty ? value.nodeName : value.tag
                    series[file.run, default: [:]][tag, default: [:]][event.step] = Point(step: event.step, value: v, wallTime: event.wallTime)
                }
            }
        }
        return series.mapValues { $0.mapValues { $0.values.sorted { $0.step < $1.step } } }
    }

    /// The number in a summary value: `simple_value`, or a one-element float or double tensor.
    static func scalar(_ value: Tensorboard_Summary.Value) -> Double? {
        switch value.value {
        case .simpleValue(let v)?:
            return Double(v)
        case .tensor(let t)?:
            if value.hasMetadata, !value.metadata.pluginData.pluginName.isEmpty, value.metadata.pluginData.pluginName != "scalars" { return nil }
            guard t.tensorShape.dim.allSatisfy({ $0.size == 1 }) else { return nil }
            switch t.dtype {
            case .dtFloat:
                if let f = t.floatVal.first { return Double(f) }
                if t.tensorContent.count == 4 {
                    return Double(Float(bitPattern: t.tensorContent.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }.littleEndian))
                }
            case .dtDouble:
                if let d = t.doubleVal.first { return d }
                if t.tensorContent.count == 8 {
                    return Double(bitPattern: t.tensorContent.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian)
                }
            default:
                return nil
            }
            return nil
        default:
            return nil
        }
    }

    /// Usual (run, tag) pairs of each series, best first; a run of nil matches any run.
    static let trainLossTags: [(String?, String)] = [
        (nil, "train/loss_epoch"), (nil, "train_loss_epoch"), (nil, "train/loss"), (nil, "Loss/train"), (nil, "loss/train"),
        (nil, "train_loss"), (nil, "training/loss"), ("train", "epoch_loss"), (nil, "epoch_loss"), (nil, "loss"),
    ]
    static let validationLossTags: [(String?, String)] = [
        (nil, "val/loss"), (nil, "Loss/val"), (nil, "loss/val"), (nil, "Loss/validation"), (nil, "val_loss"), (nil, "validation/loss"),
        ("validation", "epoch_loss"), (nil, "valid/loss"), (nil, "eval/loss"),
    ]
    static let stepLossTags: [(String?, String)] = [
        (nil, "train/loss_step"), (nil, "train_loss_step"), ("train", "batch_loss"), (nil, "batch_loss"), (nil, "train/step_loss"),
    ]
    static let metricTags: [(String?, String)] = [
        (nil, "val/auc"), (nil, "val_auc"), ("validation", "epoch_auc"), (nil, "AUC/val"), (nil, "val/accuracy"), (nil, "val/acc"),
        (nil, "val_accuracy"), (nil, "val_acc"), ("validation", "epoch_accuracy"), (nil, "Accuracy/val"), (nil, "accuracy/val"),
        (nil, "val/rmse"), (nil, "val_rmse"),
    ]

    /// The curves in a TensorBoard log: series found by their usual tags (or named, as `tag` or `run:tag`). A
    /// training-loss series with far more points than the validation one is taken as step-level, and averaged between
    /// validation points into epochs.
    public static func curves(at path: String, columns: CurveColumns = CurveColumns()) throws -> Curves {
        let all = try scalars(at: path)
        func lookup(_ named: String?, _ usual: [(String?, String)], _ what: String) throws -> (name: String, points: [Point])? {
            if let named {
                let parts = named.split(separator: ":", maxSplits: 1).map(String.init)
                let (run, tag) = parts.count == 2 ? (parts[0], parts[1]) : (nil as String?, parts[0])
                guard let found = all.first(where: { (run == nil || $0.key == run) && $0.value[tag] != nil }) else {
                    throw DataError(path: path, "no scalar series '\(named)' for the \(what); the series are: \(catalogue(all))")
                }
                return (tag, found.value[tag]!)
            }
            for (run, tag) in usual {
                for key in all.keys.sorted() where run == nil || key == run || key.hasSuffix("/" + (run ?? "")) {
                    if let points = all[key]?[tag], !points.isEmpty { return (tag, points) }
                }
            }
            return nil
        }
        let train = try lookup(columns.trainLoss, trainLossTags, "training loss")
        let validation = try lookup(columns.validationLoss, validationLossTags, "validation loss")
        guard train != nil || validation != nil else {
            throw DataError(path: path, "no loss series found by the usual tags (train/loss, Loss/train, epoch_loss in train/, val/loss, ...); the series are: \(catalogue(all)); name them with --train-loss and --val-loss (run:tag)")
        }
        let metric = try lookup(columns.metric, metricTags, "metric")
        var steps = columns.trainLoss == nil ? try lookup(nil, stepLossTags, "step loss") : nil
        var curves = Curves()
        curves.source = path
        if let train, let validation, train.points.count > 2 * max(validation.points.count, 1) {
            // Step-level training loss: each step belongs to the first validation point written after it (by wall
            // time, which does not depend on how the steps were numbered; by step where the times tie), and each
            // epoch's training loss is the mean of its steps.
            if steps == nil { steps = train }
            var sums = [Double](repeating: 0, count: validation.points.count), counts = [Int](repeating: 0, count: validation.points.count)
            for p in train.points {
                guard let k = validation.points.firstIndex(where: { $0.wallTime > p.wallTime || ($0.wallTime == p.wallTime && $0.step >= p.step) }) else { continue }
                sums[k] += p.value
                counts[k] += 1
            }
            curves.trainLoss = zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : nil }
        } else {
            curves.trainLoss = train?.points.map { $0.value } ?? []
        }
        curves.validationLoss = validation?.points.map { $0.value } ?? []
        if let metric {
            var name = metric.name
            for prefix in ["val/", "val_", "epoch_", "evaluation_"] where name.hasPrefix(prefix) { name.removeFirst(prefix.count) }
            if let slash = name.firstIndex(of: "/") { name = String(name[..<slash]) }
            curves.metricName = name.lowercased()
            curves.metricHigherIsBetter = columns.metricHigherIsBetter ?? CSVLogReader.higherIsBetter(metric.name)
            curves.metric = metric.points.map { $0.value }
            if curves.metricName == "auc" { curves.task = .binary }
        }
        curves.stepLoss = steps?.points.map(\.value) ?? []
        return curves
    }

    static func catalogue(_ all: [String: [String: [Point]]]) -> String {
        all.keys.sorted().flatMap { run in all[run]!.keys.sorted().map { run.isEmpty ? $0 : "\(run):\($0)" } }.joined(separator: ", ")
    }
}
