import Foundation
import TuneData
import TuneNN
import TuneReport
import TuneRun
import TuneSearch
import TuneTraining

/// One configuration the recipe trains: every hyperparameter it tunes.
public struct RecipeCandidate: Codable, Sendable, Hashable {
    public var lr: Double
    public var batchSize: Int
    public var schedule: ScheduleKind
    public var warmup: Int
    public var dropout: Float
    public var batchnorm: Bool
    public var activation: Activation
    public var width: Int
    public var depth: Int
    public var weightDecay: Double
    public var optimizer: OptimizerKind

    /// The hyperparameters a candidate sets, sorted by name.
    public static let hyperparameters: [Hyperparameter] = [
        .activation, .batchSize, .batchnorm, .depth, .dropout, .lr, .optimizer, .schedule, .warmup, .weightDecay,
        .width
    ]

    /// The names of `parameters`, sorted.
    public static let parameterNames = hyperparameters.map(\.rawValue)

    /// The candidate's values by name, as recorded in the study.
    public var parameters: [String: ParameterValue] {
        let values: [Hyperparameter: ParameterValue] = [
            .lr: .double(lr), .batchSize: .int(batchSize), .schedule: .string(schedule.rawValue), .warmup: .int(warmup),
            .dropout: Hyperparameter.float(dropout), .batchnorm: .bool(batchnorm),
            .activation: .string(activation.rawValue), .width: .int(width), .depth: .int(depth),
            .weightDecay: .double(weightDecay), .optimizer: .string(optimizer.rawValue)
        ]
        return Dictionary(uniqueKeysWithValues: values.map { ($0.key.rawValue, $0.value) })
    }

    /// The parameters that differ from `other`, as "name=value" (all of them when `other` is nil).
    public func changes(from other: RecipeCandidate?) -> String {
        let mine = parameters, theirs = other?.parameters ?? [:]
        let changed = mine.keys.sorted().filter { theirs[$0] != mine[$0] }
        if changed.isEmpty { return "as before" }
        return changed.map { "\($0)=\(mine[$0]!.compactDescription)" }.joined(separator: " ")
    }
}

/// One trained configuration: what it scored and what its curves said.
public struct RecipeTrial: Codable, Sendable {
    public var number: Int
    public var stage: Int
    public var candidate: RecipeCandidate
    /// The best validation value of the monitored metric, nil when the run failed.
    public var value: Double?
    /// The validation loss at the best epoch: breaks ties on the metric (an AUC of 1 reached by several runs).
    public var validationLoss: Double?
    public var bestEpoch: Int?
    public var epochsRun: Int
    /// The epoch limit the trial ran under.
    public var epochLimit: Int
    public var status: String
    public var reason: String
    public var samplesPerSecond: Double
    public var seconds: Double
    /// When the trial started (seconds since 1970; absent in records of older versions).
    public var startedAt: Double?
    /// The doctor's findings on the trial's curves (their ids).
    public var findings: [String]
    public var failure: String?
    /// Whether the trial was read back from the study instead of trained (a resumed search).
    public var reused = false
}

/// A stage's account: what was tried, what won and why.
public struct RecipeStage: Codable, Sendable {
    public var number: Int
    public var name: String
    public var trials: [Int] = []
    public var winner: Int?
    public var decision: String = ""
    public var reason: String = ""
    public var notes: [String] = []
}

/// Stage 0's measurements.
public struct SanityReport: Codable, Sendable {
    /// The training loss of the untrained network, and a chance-level model's loss.
    public var initialLoss: Double
    public var chanceLoss: Double
    /// Overfitting one small batch: its rows, the loss before and after, the steps and learning rate it took.
    public var batchRows: Int
    public var batchLossBefore: Double
    public var batchLossAfter: Double
    public var batchSteps: Int
    public var batchLearningRate: Double
    /// The validation metrics of an input-free model (class frequencies, or the training mean).
    public var baseline: [String: Double]
    public var passed: Bool
    public var messages: [String]
}

/// What the recipe's `summary.json` holds.
public struct RecipeSummary: Codable, Sendable {
    public var strategy = "recipe"
    public var monitor: String
    public var direction: String
    public var task: String
    public var rows: [String: Int]
    public var budget: String?
    /// The data check's report: each column's kind, role and missing share, and the findings.
    public var data: DataCheckReport?
    public var sanity: SanityReport
    public var rangeTest: [String: Double]
    public var stages: [RecipeStage]
    public var trials: [RecipeTrial]
    public var best: RecipeTrial?
    /// The best configuration as `tune train` settings.
    public var bestSettings: TrainSettings?
    public var test: [String: Double]
    public var ensemble: EnsembleReport?
    /// What the search stages spent, and the ensemble on top.
    public var spent: [String: Double]
}

/// The recipe stopped: a sanity check failed, or nothing trained.
public struct RecipeStopped: Error, CustomStringConvertible {
    public let stage: String
    public let message: String
    public var description: String { "the recipe stopped at \(stage): \(message)" }
}
