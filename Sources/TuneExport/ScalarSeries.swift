import Foundation
import TuneData
import TuneDiagnosis

/// Turning named scalar series (from TensorBoard or MLflow) into the doctor's curves.
public enum ScalarSeries {
    /// Usual (run, tag) pairs of each series, best first; a run of nil matches any run.
    static let trainLossTags: [(String?, String)] = [
        (nil, "train/loss_epoch"), (nil, "train_loss_epoch"), (nil, "train/loss"), (nil, "Loss/train"),
        (nil, "loss/train"),
        (nil, "train_loss"), (nil, "training/loss"), ("train", "epoch_loss"), (nil, "epoch_loss"), (nil, "loss")
    ]
    static let validationLossTags: [(String?, String)] = [
        (nil, "val/loss"), (nil, "Loss/val"), (nil, "loss/val"), (nil, "Loss/validation"), (nil, "val_loss"),
        (nil, "validation/loss"),
        ("validation", "epoch_loss"), (nil, "valid/loss"), (nil, "eval/loss")
    ]
    static let stepLossTags: [(String?, String)] = [
        (nil, "train/loss_step"), (nil, "train_loss_step"), ("train", "batch_loss"), (nil, "batch_loss"),
        (nil, "train/step_loss")
    ]
    static let metricTags: [(String?, String)] = [
        (nil, "val/auc"), (nil, "val_auc"), ("validation", "epoch_auc"), (nil, "AUC/val"), (nil, "val/accuracy"),
        (nil, "val/acc"),
        (nil, "val_accuracy"), (nil, "val_acc"), ("validation", "epoch_accuracy"), (nil, "Accuracy/val"),
        (nil, "accuracy/val"),
        (nil, "val/rmse"), (nil, "val_rmse")
    ]

    /// A series found: its tag and its points.
    typealias Found = (name: String, points: [TensorBoardReader.Point])

    /// Curves from scalar series by run and tag (TensorBoard runs and tags, or MLflow metric keys under run ""):
    /// series found by their usual names or named (`tag` or `run:tag`). A training-loss series with far more points
    /// than the validation one is taken as step-level and averaged into epochs.
    public static func curves(
        _ everything: [String: [String: [TensorBoardReader.Point]]], source path: String,
        columns: CurveColumns = CurveColumns()
    ) throws -> Curves {
        // Several experiments under one directory (version_0, version_1, ...): read the most recent one, where
        // an experiment is a run with its train/validation subdirectories.
        let roots = Dictionary(grouping: everything.keys, by: experimentRoot)
        var all = everything
        var chosenRoot: String?
        if roots.count > 1 {
            let latest = roots.max { a, b in latestTime(a.value, everything) < latestTime(b.value, everything) }!
            chosenRoot = latest.key
            all = everything.filter { latest.value.contains($0.key) }
        }
        func lookup(_ named: String?, _ usual: [(String?, String)], _ what: String) throws -> Found? {
            try find(named, usual, what, in: all, path: path)
        }
        let train = try lookup(columns.trainLoss, trainLossTags, "training loss")
        let validation = try lookup(columns.validationLoss, validationLossTags, "validation loss")
        guard train != nil || validation != nil else {
            throw DataError(
                path: path,
                "no loss series found by the usual tags (train/loss, Loss/train, epoch_loss in train/, val/loss, ...); the series are: \(catalogue(all)); name them with --train-loss and --val-loss (run:tag)"
            )
        }
        var metric = try lookup(columns.metric, metricTags, "metric")
        if metric == nil && columns.metric == nil { metric = anyValidationMetric(all) }
        var steps = columns.trainLoss == nil ? try lookup(nil, stepLossTags, "step loss") : nil
        var curves = Curves()
        curves.source =
            chosenRoot.map { "\(path) (\($0.isEmpty ? "." : $0), the most recent of \(roots.count) runs)" } ?? path
        if isStepLevel(train, validation), let train, let validation {
            if steps == nil { steps = train }
            averageSteps(train, validation: validation, metric: metric, into: &curves)
        } else {
            alignEpochs(train, validation, metric, into: &curves)
        }
        if let metric { nameMetric(metric, columns, in: &curves) }
        curves.stepLoss = steps?.points.map(\.value) ?? []
        // The first step's loss is the initial one when the series starts at step 0 (or 1, for writers counting from 1).
        curves.firstStepLogged = (steps?.points.first?.step).map { $0 <= 1 } ?? false
        // Epoch-level points written at the global step: the median distance between them is the steps of an epoch.
        if let validation, steps != nil, validation.points.count >= 2 {
            let gaps = zip(validation.points.dropFirst(), validation.points).map { Double($0.step - $1.step) }
            let median = CurveMath.median(gaps)
            if median > 1 { curves.stepsPerEpoch = Int(median) }
        }
        return curves
    }

    /// The series `named` (`tag` or `run:tag`; a `DataError` listing the series when there is none), or the first of
    /// the `usual` (run, tag) pairs that has points, runs in sorted order.
    static func find(
        _ named: String?, _ usual: [(String?, String)], _ what: String,
        in all: [String: [String: [TensorBoardReader.Point]]], path: String
    ) throws -> Found? {
        if let named {
            let parts = named.split(separator: ":", maxSplits: 1).map(String.init)
            let (run, tag) = parts.count == 2 ? (parts[0], parts[1]) : (nil as String?, parts[0])
            guard let found = all.first(where: { (run == nil || $0.key == run) && $0.value[tag] != nil }) else {
                throw DataError(
                    path: path, "no scalar series '\(named)' for the \(what); the series are: \(catalogue(all))")
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

    /// Any other spelling of a validation metric ("Accuracy/Val", "val-AUC", "AUROC/validation"): in the first run
    /// (in sorted order) that has one, the best ranked.
    static func anyValidationMetric(_ all: [String: [String: [TensorBoardReader.Point]]]) -> Found? {
        for (run, series) in all.sorted(by: { $0.key < $1.key }) {
            let candidates = series.keys.compactMap { tag in
                Self.validationMetricRank(run: run, tag: tag).map { ($0, tag) }
            }
            if let best = candidates.min(by: { $0 < $1 }), let points = series[best.1], !points.isEmpty {
                return (best.1, points)
            }
        }
        return nil
    }

    /// Whether the training loss is step-level: when its tag says so, or when it has more than four points per
    /// validation point (epoch-level logs with validation every few epochs have fewer).
    static func isStepLevel(_ train: Found?, _ validation: Found?) -> Bool {
        let trainName = train?.name.lowercased() ?? ""
        return train != nil && validation != nil && !trainName.contains("epoch")
            && (trainName.contains("step") || trainName.contains("batch")
                || train!.points.count > 4 * max(validation!.points.count, 1))
    }

    /// Step-level training losses: each step belongs to the first validation point written after it (by wall time,
    /// which does not depend on how the steps were numbered; by step where the times tie); an epoch's loss is the
    /// mean of its steps.
    static func averageSteps(_ train: Found, validation: Found, metric: Found?, into curves: inout Curves) {
        var sums = [Double](repeating: 0, count: validation.points.count),
            counts = [Int](repeating: 0, count: validation.points.count)
        for p in train.points {
            guard
                let k = validation.points.firstIndex(where: {
                    $0.wallTime > p.wallTime || ($0.wallTime == p.wallTime && $0.step >= p.step)
                })
            else { continue }
            sums[k] += p.value
            counts[k] += 1
        }
        curves.trainLoss = zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : nil }
        curves.validationLoss = validation.points.map { $0.value }
        if let metric { curves.metric = align(metric.points, to: validation.points.map(\.step)) }
    }

    /// Epoch-level series: one epoch per distinct step of any of them, each value at its step.
    static func alignEpochs(_ train: Found?, _ validation: Found?, _ metric: Found?, into curves: inout Curves) {
        let axis = Array(
            Set(
                (train?.points ?? []).map(\.step) + (validation?.points ?? []).map(\.step)
                    + (metric?.points ?? []).map(\.step))
        ).sorted()
        curves.trainLoss = train.map { align($0.points, to: axis) } ?? []
        curves.validationLoss = validation.map { align($0.points, to: axis) } ?? []
        if let metric { curves.metric = align(metric.points, to: axis) }
    }

    /// The metric's name without its validation prefix or its folder ("val/auc" -> "auc"), whether higher is better,
    /// and the task it implies.
    static func nameMetric(_ metric: Found, _ columns: CurveColumns, in curves: inout Curves) {
        var name = metric.name
        for prefix in ["val/", "val_", "epoch_", "evaluation_"] where name.hasPrefix(prefix) {
            name.removeFirst(prefix.count)
        }
        if let slash = name.firstIndex(of: "/") { name = String(name[..<slash]) }
        curves.metricName = name.lowercased()
        curves.metricHigherIsBetter = columns.metricHigherIsBetter ?? CSVLogReader.higherIsBetter(metric.name)
        if let task = Curves.task(ofMetric: curves.metricName ?? "") { curves.task = task }
    }

    /// The separate runs of a log directory: each experiment root (a run's path without a trailing train/validation
    /// folder) that holds a loss series, by name; a folder without any loss series (PyTorch's `add_hparams` writes its
    /// records into a sub-folder named by the time) joins the run above it, with its settings.
    public static func runs(_ log: TensorBoardReader.Log, columns: CurveColumns = CurveColumns())
        -> [(name: String, scalars: [String: [String: [TensorBoardReader.Point]]], hyperparameters: [String: String])]
    {
        let lossTags = Set(
            (trainLossTags + validationLossTags + stepLossTags).map(\.1)
                + [columns.trainLoss, columns.validationLoss].compactMap {
                    $0?.split(separator: ":").last.map(String.init)
                })
        let keys = Set(log.scalars.keys).union(log.hyperparameters.keys)
        let groups = Dictionary(grouping: keys, by: experimentRoot)
        let withLoss = Set(
            groups.filter {
                $0.value.contains { !Set(log.scalars[$0]?.keys.map { $0 } ?? []).isDisjoint(with: lossTags) }
            }.keys)
        // Each group without a loss series goes to the nearest enclosing group that has one.
        var members: [String: [String]] = [:]
        for (root, runs) in groups {
            var owner: String? = root
            while let o = owner, !withLoss.contains(o) {
                owner = o.isEmpty ? nil : (o.contains("/") ? String(o[..<o.lastIndex(of: "/")!]) : "")
            }
            if let owner { members[owner, default: []] += runs }
        }
        return members.keys.sorted().map { root in
            let runs = members[root]!
            var scalars: [String: [String: [TensorBoardReader.Point]]] = [:]
            var settings: [String: String] = [:]
            for run in runs.sorted() {
                // Runs of a group keep their path below the group (train/, validation/), so that run-specific tags match.
                let inner = run == root ? "" : String(run.dropFirst(root.isEmpty ? 0 : root.count + 1))
                if let s = log.scalars[run], experimentRoot(run) == root { scalars[inner] = s }
                if let h = log.hyperparameters[run] { settings.merge(h) { a, _ in a } }
            }
            return (root, scalars, settings)
        }
    }

    /// How good a guess a tag is for the validation metric (lower is better; nil: not one): its words must name the
    /// validation rows (or its run must be a validation run) and a metric, AUC before accuracy before F1, R^2,
    /// RMSE and MAE.
    static func validationMetricRank(run: String, tag: String) -> Int? {
        let words = Set(tag.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init))
        let validation =
            !words.isDisjoint(with: ["val", "valid", "validation", "eval", "dev"])
            || ["validation", "valid", "val", "eval"].contains(
                run.split(separator: "/").last.map { $0.lowercased() } ?? "")
        guard validation, words.isDisjoint(with: ["loss", "lr", "train", "training"]) else { return nil }
        let order: [[String]] = [["auc", "auroc", "rocauc"], ["accuracy", "acc"], ["f1"], ["r2"], ["rmse"], ["mae"]]
        return order.firstIndex { !words.isDisjoint(with: $0) }
    }

    /// A run's experiment: its path without a trailing train/validation directory.
    static func experimentRoot(_ run: String) -> String {
        var parts = run.split(separator: "/").map(String.init)
        if let last = parts.last,
            ["train", "training", "validation", "valid", "val", "eval", "test"].contains(last.lowercased())
        {
            parts.removeLast()
        }
        return parts.joined(separator: "/")
    }

    static func latestTime(_ runs: [String], _ all: [String: [String: [TensorBoardReader.Point]]]) -> Double {
        runs.compactMap { all[$0]?.values.flatMap { $0.map(\.wallTime) }.max() }.max() ?? 0
    }

    /// The values of `points` placed at the index of their step in `axis` (nil where a step has no value).
    static func align(_ points: [TensorBoardReader.Point], to axis: [Int64]) -> [Double?] {
        let index = Dictionary(uniqueKeysWithValues: axis.enumerated().map { ($1, $0) })
        var out = [Double?](repeating: nil, count: axis.count)
        for p in points { if let i = index[p.step] { out[i] = p.value } }
        return out
    }

    static func catalogue(_ all: [String: [String: [TensorBoardReader.Point]]]) -> String {
        all.keys.sorted().flatMap { run in all[run]!.keys.sorted().map { run.isEmpty ? $0 : "\(run):\($0)" } }.joined(
            separator: ", ")
    }
}
