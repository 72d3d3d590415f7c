/// Lowers the learning rate when a monitored metric stops improving (PyTorch's `ReduceLROnPlateau`), as a rule the
/// training loop drives: call `step(_:learningRate:)` once per epoch with the metric and the current rate.
public struct ReduceOnPlateau: Sendable, Codable {
    public enum Mode: String, Sendable, Codable { case min, max }
    public enum ThresholdMode: String, Sendable, Codable { case relative, absolute }

    public var mode: Mode
    /// The factor the rate is multiplied by on a plateau.
    public var factor: Double
    /// Epochs without improvement tolerated before the rate is lowered.
    public var patience: Int
    /// How much better than the best a value must be to count as an improvement.
    public var threshold: Double
    public var thresholdMode: ThresholdMode
    /// Epochs to wait after a reduction before counting bad epochs again.
    public var cooldown: Int
    /// The rate is never lowered below this.
    public var minimumRate: Double
    /// Reductions smaller than this are skipped.
    public var epsilon: Double

    /// The best value seen so far (nil before the first).
    public private(set) var best: Double?
    public private(set) var badEpochs = 0
    public private(set) var cooldownCounter = 0

    public init(
        mode: Mode = .min, factor: Double = 0.1, patience: Int = 10, threshold: Double = 1e-4,
        thresholdMode: ThresholdMode = .relative, cooldown: Int = 0, minimumRate: Double = 0, epsilon: Double = 1e-8
    ) {
        precondition(factor < 1 && factor > 0, "ReduceOnPlateau: factor must be in (0, 1), got \(factor)")
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.thresholdMode = thresholdMode
        self.cooldown = cooldown
        self.minimumRate = minimumRate
        self.epsilon = epsilon
    }

    /// Whether `value` improves on the best so far by more than the threshold.
    public func isImprovement(_ value: Double) -> Bool {
        guard let best else { return !value.isNaN }
        switch (mode, thresholdMode) {
        case (.min, .relative): return value < best * (1 - threshold)
        case (.min, .absolute): return value < best - threshold
        case (.max, .relative): return value > best * (1 + threshold)
        case (.max, .absolute): return value > best + threshold
        }
    }

    /// Records one epoch's metric and returns the learning rate to use from now on.
    public mutating func step(_ metric: Double, learningRate: Double) -> Double {
        if isImprovement(metric) {
            best = metric
            badEpochs = 0
        } else {
            badEpochs += 1
        }
        if cooldownCounter > 0 {
            cooldownCounter -= 1
            badEpochs = 0
        }
        guard badEpochs > patience else { return learningRate }
        cooldownCounter = cooldown
        badEpochs = 0
        let reduced = max(learningRate * factor, minimumRate)
        return learningRate - reduced > epsilon ? reduced : learningRate
    }
}
