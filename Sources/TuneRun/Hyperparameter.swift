import Foundation
import TuneNN
import TuneSearch
import TuneTraining

/// The one list of the training settings that tuning searches, records and shows. Each has one name, its flag's
/// (`batch-size`, `weight-decay`), used everywhere: `--param`, a `--space` file, a settings file, the study's
/// parameters, the recipe's candidates, TensorBoard's HParams and MLflow's parameters. Adding a setting is adding a
/// case here: the compiler then asks for it in every switch below.
public enum Hyperparameter: String, CaseIterable, Sendable {
    case lr, width, depth, dropout, activation, batchnorm, optimizer, schedule, warmup, momentum
    case batchSize = "batch-size", weightDecay = "weight-decay", labelSmoothing = "label-smoothing"
    /// Recorded for a run, not searched: the layer sizes (a search draws width and depth), the epoch limit (early
    /// stopping decides the epochs) and the seed (a search compares configurations, not initialisations).
    case hidden, epochs, seed

    /// Whether a search space may search it.
    public var isSearchable: Bool {
        switch self {
        case .hidden, .epochs, .seed: return false
        default: return true
        }
    }

    /// The settings a search space may search, in the order they are suggested.
    public static let searchable = allCases.filter(\.isSearchable)

    /// What `tune train` records of a run (TensorBoard's HParams, MLflow's parameters).
    public static let recorded: [Hyperparameter] = [
        .lr, .hidden, .activation, .dropout, .batchnorm, .optimizer, .weightDecay, .batchSize, .epochs, .schedule,
        .warmup, .seed
    ]

    /// Whole numbers.
    public var isInteger: Bool { [.width, .depth, .batchSize, .warmup, .epochs, .seed].contains(self) }

    /// Named choices, never a range.
    public var takesChoices: Bool { [.activation, .optimizer, .schedule, .batchnorm, .hidden].contains(self) }

    /// What is wrong with `value` for this setting, if anything.
    public func problem(_ value: ParameterValue) -> String? {
        switch self {
        case .lr:
            guard let v = value.double, v > 0, v.isFinite else { return "a learning rate must be a positive number" }
        case .width, .depth, .batchSize, .epochs:
            guard let v = value.int, v >= 1 else { return "\(rawValue) must be a whole number of at least 1" }
        case .warmup:
            guard let v = value.int, v >= 0 else { return "warmup must be a whole number of epochs, at least 0" }
        case .seed:
            guard let v = value.int, v >= 0 else { return "a seed must be a whole number of at least 0" }
        case .dropout, .momentum, .labelSmoothing:
            guard let v = value.double, v >= 0, v < 1 else { return "\(rawValue) must be in [0, 1)" }
        case .weightDecay:
            guard let v = value.double, v >= 0, v.isFinite else { return "weight decay must be a number of at least 0" }
        case .activation:
            guard let s = value.string, Activation(rawValue: s) != nil else {
                return "unknown activation; expected one of "
                    + Activation.allCases.map(\.rawValue).joined(separator: ", ")
            }
        case .optimizer:
            guard let s = value.string, OptimizerKind(rawValue: s) != nil else {
                return "unknown optimizer; expected one of "
                    + OptimizerKind.allCases.map(\.rawValue).joined(separator: ", ")
            }
        case .schedule:
            guard let s = value.string, ScheduleKind(rawValue: s) != nil else {
                return "unknown schedule; expected one of "
                    + ScheduleKind.allCases.map(\.rawValue).joined(separator: ", ")
            }
        case .batchnorm:
            guard value.bool != nil else { return "batchnorm takes true or false" }
        case .hidden:
            guard let s = value.string, !s.isEmpty, s.split(separator: ",").allSatisfy({ (Int($0) ?? 0) >= 1 }) else {
                return "hidden takes layer sizes separated by commas (64,64)"
            }
        }
        return nil
    }

    /// A choice written as text, typed for this setting.
    public func value(_ text: String) -> ParameterValue {
        let t = text.trimmingCharacters(in: .whitespaces)
        switch self {
        case .activation, .optimizer, .schedule, .hidden: return .string(t)
        case .batchnorm:
            return ["true", "yes", "on", "1"].contains(t.lowercased())
                ? .bool(true)
                : ["false", "no", "off", "0"].contains(t.lowercased()) ? .bool(false) : .string(t)
        default:
            if isInteger, let i = Int(t) { return .int(i) }
            if !isInteger, let d = Double(t) { return .double(d) }
            return .string(t)
        }
    }

    /// The setting's value in `settings`, as a run records it.
    public func value(in s: TrainSettings) -> ParameterValue {
        switch self {
        case .lr: return .double(s.lr)
        case .width: return .int(s.hidden.max() ?? 0)
        case .depth: return .int(s.hidden.count)
        case .hidden: return .string(s.hidden.map(String.init).joined(separator: ","))
        case .dropout: return Self.float(s.dropout)
        case .activation: return .string(s.activation.rawValue)
        case .batchnorm: return .bool(s.batchnorm)
        case .optimizer: return .string(s.optimizer.rawValue)
        case .schedule: return .string(s.schedule.rawValue)
        case .warmup: return .int(s.warmup)
        case .momentum: return .double(s.momentum)
        case .batchSize: return .string(s.batchSize.description)
        case .weightDecay: return .double(s.weightDecay)
        case .labelSmoothing: return .double(s.labelSmoothing)
        case .epochs: return .int(s.epochs)
        case .seed: return .int(Int(truncatingIfNeeded: s.seed))
        }
    }

    /// A `Float` setting as the `Double` its decimal text reads as (0.1, not 0.10000000149).
    public static func float(_ v: Float) -> ParameterValue { .double(Double("\(v)") ?? Double(v)) }

    /// Applies a drawn value to the network and the training configuration. Width and depth act together (on
    /// `hiddenSizes`), so a caller that draws both applies them at once; here each alone keeps the other as it is.
    public func apply(
        _ v: ParameterValue, to specification: inout MLPSpecification, _ configuration: inout TrainingConfiguration
    ) {
        switch self {
        case .lr: configuration.learningRate = v.double!
        case .width:
            specification.hiddenSizes = Array(repeating: v.int!, count: specification.hiddenSizes.count)
        case .depth:
            specification.hiddenSizes = Array(
                repeating: specification.hiddenSizes.max() ?? 64, count: v.int!)
        case .hidden: specification.hiddenSizes = v.string!.split(separator: ",").compactMap { Int($0) }
        case .dropout: specification.dropout = Float(v.double!)
        case .activation: specification.activation = Activation(rawValue: v.string!)!
        case .batchnorm: specification.batchNorm = v.bool! ? .beforeActivation : .none
        case .optimizer: configuration.optimizer = OptimizerKind(rawValue: v.string!)!
        case .schedule: configuration.schedule = ScheduleKind(rawValue: v.string!)!
        case .warmup: configuration.warmupEpochs = v.int!
        case .momentum: configuration.momentum = v.double!
        case .batchSize: configuration.batchSize = .fixed(v.int!)
        case .weightDecay: configuration.weightDecay = v.double!
        case .labelSmoothing: configuration.labelSmoothing = v.double!
        case .epochs: configuration.epochs = v.int!
        case .seed: configuration.seed = UInt64(v.int!)
        }
    }
}
