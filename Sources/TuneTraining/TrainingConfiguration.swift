import Foundation
import TuneNN

/// The mini-batch size: a number, or `auto`, the power of two nearest sqrt(N_train), clamped to 8...1024.
public enum BatchSize: Codable, Sendable, Equatable, CustomStringConvertible {
    case auto
    case fixed(Int)

    /// The size for `trainingRows` rows and, for `auto`, why.
    public func resolve(trainingRows n: Int) -> (size: Int, reason: String?) {
        switch self {
        case .fixed(let size):
            return (max(1, min(size, max(n, 1))), nil)
        case .auto:
            let root = Double(max(n, 1)).squareRoot()
            let power = Int(Foundation.pow(2, (Foundation.log2(root)).rounded()))
            let size = min(max(power, 8), 1024)
            return (
                size,
                "batch size \(size): the power of two nearest sqrt(\(n)) = \(String(format: "%.1f", root)), within 8...1024"
            )
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .fixed(let n): return String(n)
        }
    }

    /// Parses "auto" or a positive integer.
    public init?(_ text: String) {
        if text.lowercased() == "auto" {
            self = .auto
        } else if let n = Int(text), n >= 1 {
            self = .fixed(n)
        } else {
            return nil
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(Int.self) {
            guard n >= 1 else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "batch size must be at least 1, got \(n)")
            }
            self = .fixed(n)
            return
        }
        let text = try container.decode(String.self)
        guard let value = BatchSize(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected 'auto' or a positive integer, got '\(text)'")
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .auto: try container.encode("auto")
        case .fixed(let n): try container.encode(n)
        }
    }
}

/// The optimizers `tune train` offers.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case adam, adamw, sgd, rmsprop, adagrad
}

/// The learning-rate schedules `tune train` offers (over the whole run, after any warmup).
public enum ScheduleKind: String, Codable, Sendable, CaseIterable {
    case constant, cosine, step, exponential, onecycle
}

/// Everything that decides a training run besides the data and the architecture.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public var epochs = 50
    public var batchSize: BatchSize = .auto
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Double = 1e-3
    public var weightDecay: Double = 0
    /// SGD's and RMSprop's momentum.
    public var momentum: Double = 0.9
    public var schedule: ScheduleKind = .constant
    /// Epochs of linear warmup before the schedule.
    public var warmupEpochs = 0
    /// The metric models are selected by (nil: the task's default).
    public var metric: MetricName?
    /// Stop after this many epochs without improvement of the monitored metric (nil: never).
    public var earlyStoppingPatience: Int?
    /// The smallest change that counts as an improvement.
    public var minimumDelta: Double = 0
    /// Lower the rate 10x after this many epochs without improvement (nil: never).
    public var reduceOnPlateauPatience: Int?
    /// Clip gradients to this global norm (nil: no clipping).
    public var gradientClipNorm: Double?
    public var labelSmoothing: Double = 0
    public var seed: UInt64 = 0

    public init() {}

    /// What is wrong with these settings, naming the setting, if anything.
    public func validationError() -> String? {
        if epochs < 1 || epochs > 1_000_000 { return "epochs must be in 1...1000000, got \(epochs)" }
        if !(learningRate > 0 && learningRate.isFinite) {
            return "learning rate must be a positive number, got \(learningRate)"
        }
        if !(weightDecay >= 0 && weightDecay.isFinite) {
            return "weight decay must be a non-negative number, got \(weightDecay)"
        }
        if !(momentum >= 0 && momentum < 1) { return "momentum must be in [0, 1), got \(momentum)" }
        if warmupEpochs < 0 || warmupEpochs >= epochs {
            return "warmup epochs must be in 0..<epochs, got \(warmupEpochs)"
        }
        if let p = earlyStoppingPatience, p < 1 { return "early-stopping patience must be at least 1, got \(p)" }
        if let p = reduceOnPlateauPatience, p < 0 { return "reduce-on-plateau patience must not be negative, got \(p)" }
        if let c = gradientClipNorm, !(c > 0 && c.isFinite) {
            return "gradient clip norm must be a positive number, got \(c)"
        }
        if !(labelSmoothing >= 0 && labelSmoothing < 1) {
            return "label smoothing must be in [0, 1), got \(labelSmoothing)"
        }
        return nil
    }

    /// The learning-rate schedule over `totalSteps` steps with `warmupSteps` of warmup.
    public func learningRateSchedule(totalSteps: Int, warmupSteps: Int) -> LearningRateSchedule {
        let steps = max(totalSteps - warmupSteps, 1)
        let main: LearningRateSchedule
        switch schedule {
        case .constant: main = .constant(learningRate)
        case .cosine: main = .cosine(learningRate, steps: steps)
        case .step: main = .step(learningRate, stepSize: max(steps / 3, 1), gamma: 0.1)
        case .exponential: main = .exponential(learningRate, gamma: Foundation.pow(0.01, 1 / Double(steps)))
        case .onecycle: main = .oneCycle(maximum: learningRate, totalSteps: max(steps, 2))
        }
        return warmupSteps > 0 ? .warmup(steps: warmupSteps, then: main) : main
    }
}
