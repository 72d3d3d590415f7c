import Foundation

/// What one epoch did.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var validationLoss: Double
    /// Every validation metric, by name.
    public var metrics: [String: Double]
    /// The learning rate of the epoch's last step.
    public var learningRate: Double
    public var gradientNormMean: Double
    public var gradientNormMax: Double
    public var seconds: Double
    public var samplesPerSecond: Double
}

/// How a run ended.
public enum RunStatus: String, Codable, Sendable {
    case completed
    case earlyStopped = "early_stopped"
    /// A loss or gradient became NaN or infinite.
    case diverged
    /// A callback (such as a tuner's pruner) stopped it.
    case stopped
}

/// A training run's record: every epoch, every step's loss, and which epochs were best.
public struct History: Codable, Sendable, Equatable {
    public var epochs: [EpochRecord] = []
    /// The training loss of every step, in order (the doctor reads noise from it).
    public var stepLosses: [Double] = []
    /// The learning rate of every step, in order and aligned with `stepLosses`: the rate the optimizer used for that
    /// step (the schedule's rate times reduce-on-plateau's factor, in 32-bit precision as applied). For a last step
    /// whose loss was not finite (a diverged run), the rate it would have used. Nil in a history written before it
    /// was recorded; `EpochRecord.learningRate` has the rate per epoch.
    public var stepLearningRates: [Double]?
    /// The steps per epoch.
    public var stepsPerEpoch: Int = 0
    public var status: RunStatus = .completed
    /// Why the run stopped where it did, in a sentence.
    public var reason: String = ""
    /// The monitored metric and whether larger is better.
    public var monitor: String = ""
    public var monitorHigherIsBetter = true
    /// The epoch with the best monitored metric (whose weights are kept), and the one with the lowest validation loss.
    public var bestEpoch: Int?
    public var lowestValidationLossEpoch: Int?

    public init() {}

    /// The metric names that appear in any epoch, sorted.
    public var metricNames: [String] { Set(epochs.flatMap { $0.metrics.keys }).sorted() }

    /// The epochs as CSV: one row per epoch, metrics by name, empty where undefined.
    public func csv() -> String {
        let metrics = metricNames
        var lines = [
            (["epoch", "train_loss", "val_loss"] + metrics + [
                "lr", "grad_norm_mean", "grad_norm_max", "seconds", "samples_per_second"
            ]).joined(separator: ",")
        ]
        for e in epochs {
            var cells = [String(e.epoch), format(e.trainLoss), format(e.validationLoss)]
            cells += metrics.map { e.metrics[$0].map(format) ?? "" }
            cells += [
                format(e.learningRate), format(e.gradientNormMean), format(e.gradientNormMax), format(e.seconds),
                format(e.samplesPerSecond)
            ]
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func format(_ v: Double) -> String {
        v.isFinite ? String(format: "%.9g", v) : (v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf"))
    }
}
