import Foundation
import TuneData
import TuneNN
import TuneTensor

/// The metrics swift-tune computes, by the names used on the command line and in histories.
public enum MetricName: String, Codable, Sendable, CaseIterable {
    case auc, accuracy
    case balancedAccuracy = "balanced_accuracy"
    case averagePrecision = "average_precision"
    case logLoss = "log_loss"
    case precision, recall, f1
    case f1Macro = "f1_macro"
    case rmse, mae, r2

    /// Whether a larger value is better.
    public var higherIsBetter: Bool {
        switch self {
        case .logLoss, .rmse, .mae: return false
        default: return true
        }
    }

    /// The metrics reported for a task, in display order.
    public static func reported(for task: TaskKind) -> [MetricName] {
        switch task {
        case .binary: return [.auc, .accuracy, .balancedAccuracy, .averagePrecision, .logLoss, .precision, .recall, .f1]
        case .multiclass: return [.accuracy, .balancedAccuracy, .auc, .logLoss, .f1Macro]
        case .regression: return [.rmse, .mae, .r2]
        }
    }

    /// The metric models are selected by when none is named.
    public static func defaultMonitor(for task: TaskKind) -> MetricName {
        switch task {
        case .binary: return .auc
        case .multiclass: return .accuracy
        case .regression: return .rmse
        }
    }
}

/// Predictions turned into the task's metrics.
public enum Evaluation {
    /// Class probabilities from the network's outputs: sigmoid of one logit (binary, as [1-p, p]) or softmax.
    public static func probabilities(_ outputs: Tensor, task: TaskKind) -> [[Double]] {
        let n = outputs.shape[0]
        switch task {
        case .binary:
            let p = sigmoid(outputs).scalars
            return (0..<n).map { [1 - Double(p[$0]), Double(p[$0])] }
        case .multiclass:
            let p = softmax(outputs).scalars, c = outputs.shape[1]
            return (0..<n).map { i in (0..<c).map { Double(p[i * c + $0]) } }
        case .regression:
            return []
        }
    }

    /// Every reported metric of `task` for the network outputs against `data`'s targets (regression metrics in the
    /// target's original units). Undefined metrics are left out.
    public static func metrics(outputs: Tensor, data: LabeledData, target: Preprocessor.Target) -> [String: Double] {
        switch target.task {
        case .binary, .multiclass:
            return metrics(probabilities: probabilities(outputs, task: target.task), data: data, target: target)
        case .regression:
            return metrics(predictions: outputs.scalars, data: data, target: target)
        }
    }

    /// Every reported classification metric for class probabilities (one row per example) against `data`'s classes:
    /// how an ensemble that averages its members' probabilities is scored.
    public static func metrics(probabilities: [[Double]], data: LabeledData, target: Preprocessor.Target) -> [String:
        Double]
    {
        var result: [String: Double] = [:]
        func put(_ name: MetricName, _ value: Double?) {
            if let value, value.isFinite { result[name.rawValue] = value }
        }
        guard let truth = data.classes, target.task.isClassification else { return [:] }
        let classes = target.classes?.count ?? 2
        let predicted = probabilities.map { p in p.indices.max { p[$0] < p[$1] }! }
        put(.accuracy, Metrics.accuracy(truth, predicted))
        put(.balancedAccuracy, Metrics.balancedAccuracy(truth, predicted, classes: classes))
        put(.logLoss, Metrics.logLoss(truth, probabilities))
        if target.task == .binary {
            let scores = probabilities.map { $0[1] }
            put(.auc, Metrics.rocAUC(truth, scores))
            put(.averagePrecision, Metrics.averagePrecision(truth, scores))
            let prf = Metrics.precisionRecallF1(truth, predicted, positive: 1)
            put(.precision, prf.precision)
            put(.recall, prf.recall)
            put(.f1, prf.f1)
        } else {
            put(.auc, Metrics.macroRocAUC(truth, probabilities, classes: classes))
            put(.f1Macro, Metrics.macroPrecisionRecallF1(truth, predicted, classes: classes).f1)
        }
        return result
    }

    /// The regression metrics, in the target's original units, of predictions on the standardised scale.
    public static func metrics(predictions: [Float], data: LabeledData, target: Preprocessor.Target) -> [String: Double]
    {
        var result: [String: Double] = [:]
        func put(_ name: MetricName, _ value: Double?) {
            if let value, value.isFinite { result[name.rawValue] = value }
        }
        guard let values = data.values else { return [:] }
        let truth = values.map { target.original(Double($0)) }
        let predicted = predictions.map { target.original(Double($0)) }
        put(.rmse, Metrics.rmse(truth, predicted))
        put(.mae, Metrics.mae(truth, predicted))
        put(.r2, Metrics.r2(truth, predicted))
        return result
    }

    /// The training loss of the task: BCE on logits (binary), cross-entropy (multiclass), MSE (regression, on the
    /// standardised target).
    public static func loss(outputs: Tensor, data: LabeledData, task: TaskKind, labelSmoothing: Float = 0) -> Tensor {
        switch task {
        case .binary:
            let targets = Tensor(shape: [data.count, 1], scalars: data.classes!.map { Float($0) })
            return binaryCrossEntropyWithLogits(outputs, targets)
        case .multiclass:
            return crossEntropy(outputs, labels: data.classes!, labelSmoothing: labelSmoothing)
        case .regression:
            return mseLoss(outputs, Tensor(shape: [data.count, 1], scalars: data.values!))
        }
    }
}
