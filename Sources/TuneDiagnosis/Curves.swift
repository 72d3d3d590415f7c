import Foundation

/// A training run's curves, as plain numbers: what the doctor reads. Epoch series are indexed by epoch (element 0 is
/// epoch 1) and may have gaps (nil) where a value was not logged.
public struct Curves: Sendable, Equatable {
    /// The kind of problem, when known: it decides what chance-level loss means.
    public enum Task: String, Sendable, Codable {
        case binary, multiclass, regression, unknown
    }

    public var trainLoss: [Double?] = []
    public var validationLoss: [Double?] = []
    /// The monitored validation metric, when there is one.
    public var metricName: String?
    public var metricHigherIsBetter = true
    public var metric: [Double?] = []
    /// The training loss of every step, when logged.
    public var stepLoss: [Double] = []
    /// The learning rate per epoch, when logged.
    public var learningRate: [Double?] = []
    /// The gradient norm per epoch (mean over the epoch's steps, and maximum), when logged.
    public var gradientNormMean: [Double?] = []
    public var gradientNormMax: [Double?] = []
    public var task: Task = .unknown
    /// The number of classes, for classification.
    public var classes: Int?
    /// The number of training rows and the batch size, when known (for batch-size advice).
    public var trainingRows: Int?
    public var batchSize: Int?
    /// Where the curves came from, for the report.
    public var source: String = ""

    public init() {}

    /// The number of epochs covered by any epoch series.
    public var epochCount: Int { max(trainLoss.count, validationLoss.count, metric.count) }

    /// The loss a model that knows nothing scores: ln 2 for binary, ln C for C balanced classes; nil otherwise.
    public var chanceLoss: Double? {
        switch task {
        case .binary: return 0.6931471805599453
        case .multiclass: return classes.map { log(Double(max($0, 2))) }
        default: return nil
        }
    }
}

/// The logged values of a series with their 1-based epochs.
func points(_ series: [Double?]) -> [(epoch: Int, value: Double)] {
    series.enumerated().compactMap { i, v in v.map { (i + 1, $0) } }
}

/// The logged values of a series by epoch, the non-finite ones left out when `finiteOnly`.
func byEpoch(_ series: [Double?], finiteOnly: Bool) -> [Int: Double] {
    Dictionary(uniqueKeysWithValues: points(series).filter { !finiteOnly || $0.value.isFinite }.map { ($0.epoch, $0.value) })
}
