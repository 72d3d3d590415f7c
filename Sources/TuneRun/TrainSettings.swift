import Foundation
import TuneData
import TuneExport
import TuneNN
import TuneReport
import TuneTraining
import Yams

/// Everything `tune train` takes: from flags, or from a YAML/JSON file whose keys are the flags' names
/// (`hidden: [64, 64]`, `lr: 0.001`, `batch-size: auto`, ...); flags override the file.
public struct TrainSettings: Codable, Sendable, Equatable {
    public var data: String?
    public var target: String?
    public var task: TaskKind?
    public var hidden: [Int] = [64, 64]
    public var activation: Activation = .relu
    public var dropout: Float = 0
    public var batchnorm = false
    public var optimizer: OptimizerKind = .adam
    public var lr: Double = 1e-3
    public var weightDecay: Double = 0
    public var momentum: Double = 0.9
    public var batchSize: BatchSize = .auto
    public var epochs = 50
    public var warmup = 0
    public var schedule: ScheduleKind = .constant
    public var metric: MetricName?
    public var earlyStop: Int?
    public var reduceOnPlateau: Int?
    public var clip: Double?
    public var labelSmoothing: Double = 0
    public var seed: UInt64 = 0
    public var split = "0.6,0.2,0.2"
    public var ignore: [String] = []
    /// Columns kept as features although the data check takes them for identifiers.
    public var keep: [String]? = nil
    /// Columns the data check may find leaking without stopping training.
    public var allowLeak: [String]? = nil
    /// A regression target's transform (`log`): trained on, undone in predictions and metrics.
    public var targetTransform: TargetTransform?
    public var missing: MissingPolicy = .impute
    public var categoryLimit = 32
    public var delimiter: String?
    public var out: String?
    /// A directory for TensorBoard event files.
    public var tensorboard: String?
    /// An MLflow tracking server to log to, and the experiment's name there.
    public var mlflow: String?
    public var mlflowExperiment: String?

    public init() {}

    /// Reads a YAML (or JSON, which is YAML) settings file; unknown keys and wrong types are errors naming the key.
    public static func load(path: String) throws -> TrainSettings {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DataError(path: path, "cannot read the settings file: \(error.localizedDescription)")
        }
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        do {
            guard let node = try Yams.compose(yaml: text) else { return TrainSettings() }
            guard let mapping = node.mapping else {
                throw DataError(
                    path: path, "expected a mapping of settings (key: value), found \(node.tag.description)")
            }
            for key in mapping.keys {
                guard let name = key.string, known.contains(name) else {
                    throw DataError(
                        path: path, line: key.mark.map { $0.line },
                        "unknown setting '\(key.string ?? "?")'; the settings are: \(known.sorted().joined(separator: ", "))"
                    )
                }
            }
            return try YAMLDecoder().decode(TrainSettings.self, from: text)
        } catch let error as DataError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context), let
            DecodingError.valueNotFound(_, context)
        {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw DataError(path: path, column: nil, "setting '\(key)': \(context.debugDescription)")
        } catch {
            throw DataError(path: path, "not a valid YAML or JSON settings file: \(error)")
        }
    }

    /// These settings as they may be saved or shown: an MLflow address without any user name or password in it.
    public var redacted: TrainSettings {
        var s = self
        s.mlflow = mlflow.map(MLflowClient.withoutCredentials)
        return s
    }

    /// These settings with the network and the training configuration a search chose (the inverse of
    /// `trainingConfiguration` and of the specification `TrainRun.prepare` builds).
    public func applying(_ s: MLPSpecification, _ c: TrainingConfiguration) -> TrainSettings {
        var t = self
        t.hidden = s.hiddenSizes
        t.activation = s.activation
        t.dropout = s.dropout
        t.batchnorm = s.batchNorm != .none
        t.epochs = c.epochs
        t.batchSize = c.batchSize
        t.optimizer = c.optimizer
        t.lr = c.learningRate
        t.weightDecay = c.weightDecay
        t.momentum = c.momentum
        t.schedule = c.schedule
        t.warmup = c.warmupEpochs
        t.metric = c.metric
        t.earlyStop = c.earlyStoppingPatience
        t.reduceOnPlateau = c.reduceOnPlateauPatience
        t.clip = c.gradientClipNorm
        t.labelSmoothing = c.labelSmoothing
        t.seed = c.seed
        return t
    }

    /// The training configuration these settings describe.
    public var trainingConfiguration: TrainingConfiguration {
        var c = TrainingConfiguration()
        c.epochs = epochs
        c.batchSize = batchSize
        c.optimizer = optimizer
        c.learningRate = lr
        c.weightDecay = weightDecay
        c.momentum = momentum
        c.schedule = schedule
        c.warmupEpochs = warmup
        c.metric = metric
        c.earlyStoppingPatience = earlyStop
        c.reduceOnPlateauPatience = reduceOnPlateau
        c.gradientClipNorm = clip
        c.labelSmoothing = labelSmoothing
        c.seed = seed
        return c
    }

    /// What the data check is told.
    public var dataCheckOptions: DataCheckOptions { DataCheckOptions(keep: keep ?? [], allowLeak: allowLeak ?? []) }

    public var preprocessingOptions: PreprocessingOptions {
        var o = PreprocessingOptions()
        o.missing = missing
        o.categoryLimit = categoryLimit
        o.ignore = ignore
        return o
    }

    /// The delimiter byte, or nil to detect it; an error for anything but one ASCII character or "tab".
    public func delimiterByte() throws -> UInt8? {
        guard let delimiter else { return nil }
        if delimiter == "tab" || delimiter == "\\t" || delimiter == "\t" { return 0x09 }
        guard delimiter.utf8.count == 1, let b = delimiter.utf8.first, b < 0x80, b != 0x22, b != 0x0A, b != 0x0D else {
            throw DataError(path: "--delimiter", "expected one ASCII character (or 'tab'), got '\(delimiter)'")
        }
        return b
    }
}
