import Foundation

/// A training run's curves, as plain numbers: what the doctor reads. Epoch series are indexed by epoch (element 0 is
/// epoch 1) and may have gaps (nil) where a value was not logged.
public struct Curves: Sendable, Equatable, Codable {
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
    /// The training loss of every step (or of every k-th step), when logged.
    public var stepLoss: [Double] = []
    /// Whether `stepLoss[0]` is the loss of the very first step, before any update: only then does it say how the
    /// network was initialised (false when unknown, or when the log starts later).
    public var firstStepLogged = false
    /// The learning rate per epoch, when logged.
    public var learningRate: [Double?] = []
    /// The gradient norm per epoch (mean over the epoch's steps, and maximum), when logged.
    public var gradientNormMean: [Double?] = []
    public var gradientNormMax: [Double?] = []
    public var task: Task = .unknown
    /// The number of classes, for classification.
    public var classes: Int?
    /// The run's settings, as far as the logs say them.
    public var hyperparameters = Hyperparameters()
    /// The number of training rows and the batch size, when known (for batch-size advice).
    public var trainingRows: Int? {
        get { hyperparameters.trainingRows }
        set { hyperparameters.trainingRows = newValue }
    }
    public var batchSize: Int? {
        get { hyperparameters.batchSize }
        set { hyperparameters.batchSize = newValue }
    }
    /// The optimizer steps in an epoch, when the log says it (the global step at each epoch's end): with the batch
    /// size it gives the number of training rows.
    public var stepsPerEpoch: Int?
    /// The loss of a constant predictor on the validation rows (the class frequencies' cross-entropy, the target's
    /// variance), when known, and where it came from: the level below which the network learned anything.
    public var baselineLoss: Double?
    public var baselineSource: String?
    /// The lowest validation loss reached on the same data and loss by the best run known (another run, the
    /// study's best trial), and which: the level that shows what is achievable.
    public var referenceLoss: Double?
    public var referenceSource: String?
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

    /// The constant predictor's loss: given (`baselineLoss`), named in the settings, or the chance loss of a
    /// classification (ln C, which balanced classes reach and imbalanced ones undercut a little).
    public var constantLoss: Double? { baselineLoss ?? hyperparameters.baselineLoss ?? chanceLoss }

    /// The task a metric's name implies: binary for an AUC, regression for an error or R^2 (nil for accuracy and
    /// the rest, which any classification reports).
    public static func task(ofMetric name: String) -> Task? {
        let n = name.lowercased()
        if ["auc", "roc_auc", "auroc", "rocauc"].contains(n) { return .binary }
        if ["rmse", "mse", "mae", "r2", "mape"].contains(n) { return .regression }
        return nil
    }

    /// The training rows: as logged, or the steps of an epoch times the batch size.
    public var estimatedTrainingRows: Int? {
        trainingRows ?? (stepsPerEpoch.flatMap { s in batchSize.map { s * $0 } })
    }
}

/// The logged values of a series with their 1-based epochs.
func points(_ series: [Double?]) -> [(epoch: Int, value: Double)] {
    series.enumerated().compactMap { i, v in v.map { (i + 1, $0) } }
}

/// The logged values of a series by epoch, the non-finite ones left out when `finiteOnly`.
func byEpoch(_ series: [Double?], finiteOnly: Bool) -> [Int: Double] {
    Dictionary(
        uniqueKeysWithValues: points(series).filter { !finiteOnly || $0.value.isFinite }.map { ($0.epoch, $0.value) })
}
