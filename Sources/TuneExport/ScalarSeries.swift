import Foundation
import TuneData
import TuneDiagnosis

/// Turning named scalar series (from TensorBoard or MLflow) into the doctor's curves.
public enum ScalarSeries {
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

    /// Curves from scalar series by run and tag (TensorBoard runs and tags, or MLflow metric keys under run ""):
    /// series found by their usual names or named (`tag` or `run:tag`). A training-loss series with far more points
    /// than the validation one is taken as step-level and averaged into epochs.
    public static func curves(_ all: [String: [String: [TensorBoardReader.Point]]], source path: String,
                              columns: CurveColumns = CurveColumns()) throws -> Curves {
        func lookup(_ named: String?, _ usual: [(String?, String)], _ what: String) throws -> (name: String, points: [TensorBoardReader.Point])? {
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

    static func catalogue(_ all: [String: [String: [TensorBoardReader.Point]]]) -> String {
        all.keys.sorted().flatMap { run in all[run]!.keys.sorted().map { run.isEmpty ? $0 : "\(run):\($0)" } }.joined(separator: ", ")
    }
}
