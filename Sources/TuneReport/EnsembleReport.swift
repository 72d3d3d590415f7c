import Foundation

/// Single models against their average, on the test rows.
public struct EnsembleReport: Codable, Sendable {
    public var monitor: String
    /// The rows scored: "test", or "validation" when the split has no test part.
    public var split: String
    public var seeds: [UInt64]
    /// Each member's test value of the monitored metric.
    public var members: [Double]
    public var mean: Double
    /// The members' sample standard deviation: the seed noise.
    public var spread: Double
    public var ensemble: Double
    /// The ensemble's improvement over the mean member (positive: better, whatever the metric's direction).
    public var gain: Double
    public var gainExceedsNoise: Bool
    /// All test metrics of the ensemble, and of the first member (the base seed).
    public var ensembleMetrics: [String: Double]
    public var singleMetrics: [String: Double]

    /// One line: single models against the ensemble, and whether the gain is more than seed noise.
    public var sentence: String {
        String(
            format: "%@ %@: single models %.4f ± %.4f over %d seeds, ensemble %.4f; the gain %+.4f %@ the seed noise",
            split, monitor, mean, spread, members.count, ensemble, gain,
            gainExceedsNoise ? "exceeds" : "does not exceed")
    }

    public init(
        monitor: String, split: String, seeds: [UInt64], members: [Double], mean: Double, spread: Double,
        ensemble: Double, gain: Double, gainExceedsNoise: Bool, ensembleMetrics: [String: Double],
        singleMetrics: [String: Double]
    ) {
        self.monitor = monitor
        self.split = split
        self.seeds = seeds
        self.members = members
        self.mean = mean
        self.spread = spread
        self.ensemble = ensemble
        self.gain = gain
        self.gainExceedsNoise = gainExceedsNoise
        self.ensembleMetrics = ensembleMetrics
        self.singleMetrics = singleMetrics
    }
}
