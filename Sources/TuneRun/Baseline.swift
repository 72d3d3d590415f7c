import Foundation
import TuneData
import TuneDiagnosis
import TuneReport

/// The loss a constant predictor scores, the level below which a network has learned anything at all: the doctor
/// judges a validation loss against it.
public enum Baseline {
    /// On the validation rows of prepared data, in swift-tune's own loss: the cross-entropy of the training rows'
    /// class frequencies, or the squared error of the training mean on the standardised target. Nil without
    /// validation rows.
    public static func validationLoss(_ data: PreparedData) -> Double? {
        guard data.validation.count > 0 else { return nil }
        if let train = data.train.classes, let validation = data.validation.classes {
            return crossEntropy(of: frequencies(train), on: validation)
        }
        guard let train = data.train.values, let validation = data.validation.values, !train.isEmpty else { return nil }
        let mean = train.reduce(0.0) { $0 + Double($1) } / Double(train.count)
        return validation.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(validation.count)
    }

    /// Of a data file, for `tune doctor --data FILE --target COL`: the cross-entropy of its class frequencies
    /// (classification: what predicting them scores, ln 2 for balanced binary classes), or the variance of its
    /// target as the file holds it (regression: the squared error of predicting the mean). A program that trains on
    /// a standardised target has a baseline of 1 instead, and one that uses another loss needs `--baseline-loss`.
    public static func ofFile(path: String, target: String, task: TaskKind? = nil) throws -> (
        loss: Double, description: String, regression: Bool
    ) {
        let table = try CSVReader.read(path: path)
        let data = try DataPreparation.prepare(table, target: target, task: task)
        let parts = [data.train, data.validation, data.test]
        let name = (path as NSString).lastPathComponent
        if data.preprocessor.target.task.isClassification {
            let classes = parts.flatMap { $0.classes ?? [] }
            let p = frequencies(classes)
            let loss = crossEntropy(of: p, on: classes)
            let shares = p.map { String(format: "%.3g", $0) }.joined(separator: ", ")
            return (
                loss, "the cross-entropy of predicting the class frequencies of \(name) (\(shares)) for every row",
                false
            )
        }
        let sd = Double(data.preprocessor.target.standardDeviation ?? 1),
            mean = Double(data.preprocessor.target.mean ?? 0)
        let values = parts.flatMap { $0.values ?? [] }.map { Double($0) * sd + mean }
        guard !values.isEmpty else { throw DataError(path: path, "no rows with a value of '\(target)'") }
        let m = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)
        return (variance, "the squared error of predicting the mean of '\(target)' in \(name) (its variance)", true)
    }

    /// Whether a run's losses are far below a regression target's variance from the start: a network starts at the
    /// mean square of the target it predicts, at least its variance, so a first step 10x below the variance (or a
    /// first epoch 100x below it) means the program trains on a rescaled target, and the variance does not apply.
    public static func rescaled(_ curves: Curves, variance: Double) -> Bool {
        if curves.firstStepLogged, let first = curves.stepLoss.first, first.isFinite { return first < variance / 10 }
        guard let first = curves.trainLoss.compactMap({ $0 }).first, first.isFinite else { return false }
        return first < variance / 100
    }

    static func frequencies(_ classes: [Int]) -> [Double] {
        let k = (classes.max() ?? 0) + 1
        var counts = [Double](repeating: 0, count: k)
        for c in classes { counts[c] += 1 }
        return counts.map { $0 / Double(max(classes.count, 1)) }
    }

    /// The mean cross-entropy of predicting the probabilities `p` for every row of `classes` (a class the
    /// probabilities do not know scores as a probability of 1e-12).
    static func crossEntropy(of p: [Double], on classes: [Int]) -> Double {
        guard !classes.isEmpty else { return .nan }
        return -classes.reduce(0.0) { $0 + Foundation.log(max($1 < p.count ? p[$1] : 0, 1e-12)) }
            / Double(classes.count)
    }
}
