import Foundation
import TuneData
import TuneDiagnosis

/// Which columns of a CSV log hold which series. Nil fields are found by their usual names.
public struct CurveColumns: Sendable, Equatable {
    public var trainLoss: String?
    public var validationLoss: String?
    public var metric: String?
    /// Whether larger values of the metric are better (nil: guessed from its name).
    public var metricHigherIsBetter: Bool?
    public init(
        trainLoss: String? = nil, validationLoss: String? = nil, metric: String? = nil,
        metricHigherIsBetter: Bool? = nil
    ) {
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.metric = metric
        self.metricHigherIsBetter = metricHigherIsBetter
    }
}

/// Reads training curves from CSV logs: PyTorch Lightning's CSVLogger `metrics.csv` (train and validation rows
/// interleaved, empty where a row did not log a value), Keras's CSVLogger (`epoch,loss,val_loss,...`, epochs from 0),
/// and any table with an `epoch` column.
public enum CSVLogReader {
    /// Usual names of the training loss, best first.
    public static let trainLossNames = [
        "train_loss_epoch", "train_loss", "loss", "train/loss", "training_loss", "epoch_loss", "train_loss_step"
    ]
    /// Usual names of the validation loss, best first.
    public static let validationLossNames = [
        "val_loss", "val/loss", "validation_loss", "valid_loss", "val_loss_epoch", "validation/loss", "eval_loss"
    ]
    /// Usual names of the step-level training loss.
    public static let stepLossNames = ["train_loss_step", "train/loss_step", "step_loss"]
    /// Metrics in order of preference, when none is named.
    public static let metricNames = [
        "val_auc", "val_roc_auc", "val_auroc", "val/auc", "val_accuracy", "val_acc", "val/acc", "val/accuracy",
        "val_f1", "val_balanced_accuracy", "val_r2", "val_rmse", "val_mae"
    ]

    /// Whether larger is better for a metric called `name` (losses, errors and distances are not).
    public static func higherIsBetter(_ name: String) -> Bool {
        let n = name.lowercased()
        return !["loss", "rmse", "mse", "mae", "error", "err", "perplexity"].contains { n.contains($0) }
    }

    /// The curves in the CSV log at `path`. A `DataError` names the columns found when no loss series is.
    public static func read(path: String, columns: CurveColumns = CurveColumns()) throws -> Curves {
        let table = try CSVReader.read(path: path)
        let trainColumn = try column(table, columns.trainLoss, trainLossNames, "training loss")
        let validationColumn = try column(table, columns.validationLoss, validationLossNames, "validation loss")
        guard trainColumn != nil || validationColumn != nil else {
            throw DataError(
                path: path,
                "no loss column found (looked for \(trainLossNames.joined(separator: ", ")) and \(validationLossNames.joined(separator: ", "))); the columns are: \(table.header.joined(separator: ", ")); name them with --train-loss and --val-loss"
            )
        }
        let metricColumn = try column(table, columns.metric, metricNames, "metric")
        let stepColumn = columns.trainLoss == nil ? stepLossNames.lazy.compactMap { table.columnIndex($0) }.first : nil
        let epochs = try rowEpochs(table, epochColumn: table.columnIndex("epoch"))
        let count = epochs.max() ?? 0
        func series(_ c: Int?) -> [Double?] { perEpochMeans(table, c, epochs: epochs, count: count) }
        var curves = Curves()
        curves.source = path
        curves.trainLoss = series(trainColumn)
        curves.validationLoss = series(validationColumn)
        if let m = metricColumn {
            curves.metricName = table.header[m].replacingOccurrences(of: "val_", with: "").replacingOccurrences(
                of: "val/", with: "")
            curves.metricHigherIsBetter = columns.metricHigherIsBetter ?? higherIsBetter(table.header[m])
            curves.metric = series(m)
            if let task = Curves.task(ofMetric: curves.metricName ?? "") { curves.task = task }
        }
        let globalStep = table.columnIndex("step")
        if let s = stepColumn, s != trainColumn { readStepLoss(table, s, globalStep: globalStep, into: &curves) }
        if let g = globalStep, let v = validationColumn ?? trainColumn,
            let steps = stepsPerEpoch(table, v, globalStep: g, epochs: epochs)
        {
            curves.stepsPerEpoch = steps
        }
        markNonFinite(table, trainColumn, \.trainLoss, epochs: epochs, in: &curves)
        markNonFinite(table, validationColumn, \.validationLoss, epochs: epochs, in: &curves)
        return curves
    }

    /// The column `requested` (a `DataError` when there is none), or the first of the `usual` names that has
    /// values, or whose values are all NaN (a run that diverged at once).
    static func column(_ table: CSVTable, _ requested: String?, _ usual: [String], _ what: String) throws -> Int? {
        if let requested {
            guard let i = table.columnIndex(requested) else {
                throw DataError(
                    path: table.path,
                    "no column '\(requested)' for the \(what); the columns are: \(table.header.joined(separator: ", "))"
                )
            }
            return i
        }
        return usual.lazy.compactMap { table.columnIndex($0) }.first {
            table.missing[$0].contains(false) || !table.nanRows[$0].isEmpty
        }
    }

    /// The epoch of each row, from 1; 0 for the rows before a restart. The epoch column counts from 0 when it starts
    /// at 0 (as Keras and Lightning write it); without one, each row is an epoch.
    static func rowEpochs(_ table: CSVTable, epochColumn: Int?) throws -> [Int] {
        var rawEpochs: [Int] = []
        for r in 0..<table.rowCount {
            guard let e = epochColumn, !table.missing[e][r] else {
                rawEpochs.append(r)
                continue
            }
            let value = Double(table.numbers[e][r])
            guard let epoch = Int(exactly: value), epoch >= 0, epoch <= 10 * table.rowCount + 1000 else {
                throw DataError(
                    path: table.path, line: Int(table.rowLines[r]), column: "epoch",
                    "\(table.numbers[e][r]) is not an epoch number (a whole number from 0 to \(10 * table.rowCount + 1000))"
                )
            }
            rawEpochs.append(epoch)
        }
        // A log appended to after a restart goes back in epochs: keep the last run, from where the epochs last fell.
        var start = 0
        if epochColumn != nil {
            var highest = -1
            for (r, e) in rawEpochs.enumerated() {
                if e < highest { start = r }
                highest = r == start ? e : max(highest, e)
            }
        }
        let base = epochColumn == nil ? 0 : (rawEpochs[start...].min() == 0 ? 0 : 1)
        return rawEpochs.enumerated().map { $0.offset < start ? 0 : $0.element - base + 1 }
    }

    /// The per-epoch mean of column `c` over the rows that logged it, for `count` epochs; none without a column.
    static func perEpochMeans(_ table: CSVTable, _ c: Int?, epochs: [Int], count: Int) -> [Double?] {
        guard let c else { return [] }
        var sums = [Double](repeating: 0, count: count), counts = [Int](repeating: 0, count: count)
        for r in 0..<table.rowCount where !table.missing[c][r] && table.texts[c]?[r] == nil && epochs[r] >= 1 {
            sums[epochs[r] - 1] += Double(table.numbers[c][r])
            counts[epochs[r] - 1] += 1
        }
        return (0..<count).map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : nil }
    }

    /// The step losses of column `s` (NaN included), and whether the initial loss is there: the first step row is
    /// step 0.
    static func readStepLoss(_ table: CSVTable, _ s: Int, globalStep: Int?, into curves: inout Curves) {
        let rows = (0..<table.rowCount).filter { !table.missing[s][$0] || table.nanRows[s].contains($0) }
        curves.stepLoss = rows.map { Double(table.numbers[s][$0]) }
        if let g = globalStep, let first = rows.first, !table.missing[g][first] {
            curves.firstStepLogged = table.numbers[g][first] == 0
        }
    }

    /// Epoch rows carry the global step at the epoch's end (Lightning): the median distance between the epochs' last
    /// steps (where column `v` logged a value) is the steps of an epoch; nil when it is not above 1.
    static func stepsPerEpoch(_ table: CSVTable, _ v: Int, globalStep g: Int, epochs: [Int]) -> Int? {
        var last: [Int: Double] = [:]
        for r in 0..<table.rowCount where epochs[r] >= 1 && !table.missing[v][r] && !table.missing[g][r] {
            last[epochs[r]] = max(last[epochs[r]] ?? -.infinity, Double(table.numbers[g][r]))
        }
        let ends = last.keys.sorted().map { last[$0]! }
        guard ends.count >= 2 else { return nil }
        let median = CurveMath.median(zip(ends.dropFirst(), ends).map { $0 - $1 })
        return median > 1 ? Int(median) : nil
    }

    /// A diverged run logs "nan" or "inf": the table keeps "nan" cells as missing (listed in nanRows) with NaN as
    /// their number; the first such epoch of the kept run of column `c` is marked non-finite in the series.
    static func markNonFinite(
        _ table: CSVTable, _ c: Int?, _ keyPath: WritableKeyPath<Curves, [Double?]>, epochs: [Int],
        in curves: inout Curves
    ) {
        guard let c else { return }
        if let r = (0..<table.rowCount).first(where: {
            epochs[$0] >= 1 && (table.numbers[c][$0].isInfinite || table.nanRows[c].contains($0))
        }) {
            curves[keyPath: keyPath][epochs[r] - 1] = Double(table.numbers[c][r])
        }
    }
}
