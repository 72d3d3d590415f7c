import Foundation

/// Evaluation metrics as pure functions, matching scikit-learn's definitions (pinned by fixtures). A metric that is
/// undefined for the data (ROC AUC with one class present, R^2 of a constant target) gives nil, never NaN.
public enum Metrics {
    // MARK: Classification from labels

    /// The fraction of correct predictions.
    public static func accuracy(_ truth: [Int], _ predicted: [Int]) -> Double? {
        guard !truth.isEmpty, truth.count == predicted.count else { return nil }
        return Double(zip(truth, predicted).filter { $0 == $1 }.count) / Double(truth.count)
    }

    /// `matrix[t][p]`: how many rows of true class t were predicted as p.
    public static func confusionMatrix(_ truth: [Int], _ predicted: [Int], classes: Int) -> [[Int]] {
        var m = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (t, p) in zip(truth, predicted) where t >= 0 && t < classes && p >= 0 && p < classes { m[t][p] += 1 }
        return m
    }

    /// The mean recall over the classes present in the truth (scikit-learn's `balanced_accuracy_score`).
    public static func balancedAccuracy(_ truth: [Int], _ predicted: [Int], classes: Int) -> Double? {
        let m = confusionMatrix(truth, predicted, classes: classes)
        let recalls = (0..<classes).compactMap { c -> Double? in
            let total = m[c].reduce(0, +)
            return total > 0 ? Double(m[c][c]) / Double(total) : nil
        }
        return recalls.isEmpty ? nil : recalls.reduce(0, +) / Double(recalls.count)
    }

    /// Precision, recall and F1 of class `positive` (0 where a ratio's denominator is 0, as scikit-learn's
    /// `zero_division=0`).
    public static func precisionRecallF1(_ truth: [Int], _ predicted: [Int], positive: Int) -> (
        precision: Double, recall: Double, f1: Double
    ) {
        var tp = 0, fp = 0, fn = 0
        for (t, p) in zip(truth, predicted) {
            if p == positive && t == positive {
                tp += 1
            } else if p == positive {
                fp += 1
            } else if t == positive {
                fn += 1
            }
        }
        let precision = tp + fp > 0 ? Double(tp) / Double(tp + fp) : 0
        let recall = tp + fn > 0 ? Double(tp) / Double(tp + fn) : 0
        let f1 = 2 * tp + fp + fn > 0 ? 2 * Double(tp) / Double(2 * tp + fp + fn) : 0
        return (precision, recall, f1)
    }

    /// The unweighted mean over classes of precision, recall and F1 (scikit-learn's `average='macro'`, over the
    /// classes present in the truth or the predictions).
    public static func macroPrecisionRecallF1(_ truth: [Int], _ predicted: [Int], classes: Int) -> (
        precision: Double, recall: Double, f1: Double
    ) {
        let present = (0..<classes).filter { c in truth.contains(c) || predicted.contains(c) }
        guard !present.isEmpty else { return (0, 0, 0) }
        let scores = present.map { precisionRecallF1(truth, predicted, positive: $0) }
        let n = Double(present.count)
        return (
            scores.map(\.precision).reduce(0, +) / n, scores.map(\.recall).reduce(0, +) / n,
            scores.map(\.f1).reduce(0, +) / n
        )
    }

    // MARK: Classification from scores

    /// The area under the ROC curve of `scores` for the positive rows (`truth` 1), ties counted half; nil when only
    /// one class is present.
    public static func rocAUC(_ truth: [Int], _ scores: [Double]) -> Double? {
        let positives = truth.filter { $0 == 1 }.count, negatives = truth.count - positives
        guard positives > 0, negatives > 0, scores.allSatisfy({ $0.isFinite }) else { return nil }
        // Mann-Whitney U with average ranks for ties.
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSumPositive = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j + 2) / 2
            for k in i...j where truth[order[k]] == 1 { rankSumPositive += averageRank }
            i = j + 1
        }
        let u = rankSumPositive - Double(positives) * Double(positives + 1) / 2
        return u / (Double(positives) * Double(negatives))
    }

    /// The macro average over classes of one-vs-rest ROC AUC (scikit-learn's `multi_class='ovr', average='macro'`);
    /// `probabilities[i][c]` is row i's score for class c. Classes absent from the truth make it undefined (nil).
    public static func macroRocAUC(_ truth: [Int], _ probabilities: [[Double]], classes: Int) -> Double? {
        var total = 0.0
        for c in 0..<classes {
            guard let auc = rocAUC(truth.map { $0 == c ? 1 : 0 }, probabilities.map { $0[c] }) else { return nil }
            total += auc
        }
        return total / Double(classes)
    }

    /// Average precision (scikit-learn's `average_precision_score`): the sum over thresholds of the precision
    /// weighted by the step in recall; nil without positive rows.
    public static func averagePrecision(_ truth: [Int], _ scores: [Double]) -> Double? {
        let positives = truth.filter { $0 == 1 }.count
        guard positives > 0, scores.allSatisfy({ $0.isFinite }) else { return nil }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var tp = 0, fp = 0, previousRecall = 0.0, ap = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            for k in i...j { if truth[order[k]] == 1 { tp += 1 } else { fp += 1 } }
            let recall = Double(tp) / Double(positives), precision = Double(tp) / Double(tp + fp)
            ap += (recall - previousRecall) * precision
            previousRecall = recall
            i = j + 1
        }
        return ap
    }

    /// Mean negative log-likelihood of the true classes (scikit-learn's `log_loss`: each row's probabilities
    /// normalised to sum to 1, then clipped to [eps, 1 - eps] with eps the machine epsilon of Double).
    public static func logLoss(_ truth: [Int], _ probabilities: [[Double]]) -> Double? {
        guard !truth.isEmpty, truth.count == probabilities.count else { return nil }
        let eps = Double.ulpOfOne
        var total = 0.0
        for (t, p) in zip(truth, probabilities) {
            guard t >= 0 && t < p.count else { return nil }
            let sum = p.reduce(0, +)
            total -= Foundation.log(min(max(p[t] / sum, eps), 1 - eps))
        }
        return total / Double(truth.count)
    }

    // MARK: Regression

    public static func rmse(_ truth: [Double], _ predicted: [Double]) -> Double? {
        guard !truth.isEmpty, truth.count == predicted.count else { return nil }
        return (zip(truth, predicted).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(truth.count))
            .squareRoot()
    }

    public static func mae(_ truth: [Double], _ predicted: [Double]) -> Double? {
        guard !truth.isEmpty, truth.count == predicted.count else { return nil }
        return zip(truth, predicted).reduce(0) { $0 + abs($1.0 - $1.1) } / Double(truth.count)
    }

    /// The coefficient of determination; nil for a constant target.
    public static func r2(_ truth: [Double], _ predicted: [Double]) -> Double? {
        guard truth.count >= 2, truth.count == predicted.count else { return nil }
        let mean = truth.reduce(0, +) / Double(truth.count)
        let total = truth.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        guard total > 0 else { return nil }
        let residual = zip(truth, predicted).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return 1 - residual / total
    }
}
