import Foundation
import TuneData
import TuneNN
import TuneTraining

/// Settings files and JSON: the keys are the flags' names; `shapesTraining` says which keys a resumed study's key
/// takes in (every setting but where the output goes and which trackers watch).
extension TrainSettings {
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case data, target, task, hidden, activation, dropout, batchnorm, optimizer, lr, momentum, epochs, warmup,
            schedule, metric, seed,
            split, ignore, missing, delimiter, out, clip, tensorboard, mlflow
        case weightDecay = "weight-decay", batchSize = "batch-size", earlyStop = "early-stop",
            reduceOnPlateau = "reduce-on-plateau", labelSmoothing = "label-smoothing", categoryLimit = "category-limit",
            mlflowExperiment = "mlflow-experiment", allowLeak = "allow-leak", targetTransform = "target-transform"
        case keep

        /// Whether the setting changes what training does. A study keys its trials on the settings that do, so that
        /// it resumes under other output or tracker options and never under other training.
        public var shapesTraining: Bool {
            switch self {
            case .out, .tensorboard, .mlflow, .mlflowExperiment: return false
            case .data, .target, .task, .hidden, .activation, .dropout, .batchnorm, .optimizer, .lr, .momentum, .epochs,
                .warmup, .schedule, .metric, .seed, .split, .ignore, .missing, .delimiter, .clip, .weightDecay,
                .batchSize, .earlyStop, .reduceOnPlateau, .labelSmoothing, .categoryLimit, .allowLeak,
                .targetTransform, .keep:
                return true
            }
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainSettings()
        data = try c.decodeIfPresent(String.self, forKey: .data)
        target = try c.decodeIfPresent(String.self, forKey: .target)
        task = try c.decodeIfPresent(TaskKind.self, forKey: .task)
        hidden = try c.decodeIfPresent([Int].self, forKey: .hidden) ?? d.hidden
        activation = try c.decodeIfPresent(Activation.self, forKey: .activation) ?? d.activation
        dropout = try c.decodeIfPresent(Float.self, forKey: .dropout) ?? d.dropout
        batchnorm = try c.decodeIfPresent(Bool.self, forKey: .batchnorm) ?? d.batchnorm
        optimizer = try c.decodeIfPresent(OptimizerKind.self, forKey: .optimizer) ?? d.optimizer
        lr = try c.decodeIfPresent(Double.self, forKey: .lr) ?? d.lr
        weightDecay = try c.decodeIfPresent(Double.self, forKey: .weightDecay) ?? d.weightDecay
        momentum = try c.decodeIfPresent(Double.self, forKey: .momentum) ?? d.momentum
        batchSize = try c.decodeIfPresent(BatchSize.self, forKey: .batchSize) ?? d.batchSize
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? d.epochs
        warmup = try c.decodeIfPresent(Int.self, forKey: .warmup) ?? d.warmup
        schedule = try c.decodeIfPresent(ScheduleKind.self, forKey: .schedule) ?? d.schedule
        metric = try c.decodeIfPresent(MetricName.self, forKey: .metric)
        earlyStop = try c.decodeIfPresent(Int.self, forKey: .earlyStop)
        reduceOnPlateau = try c.decodeIfPresent(Int.self, forKey: .reduceOnPlateau)
        clip = try c.decodeIfPresent(Double.self, forKey: .clip)
        labelSmoothing = try c.decodeIfPresent(Double.self, forKey: .labelSmoothing) ?? d.labelSmoothing
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        split = try c.decodeIfPresent(String.self, forKey: .split) ?? d.split
        ignore = try c.decodeIfPresent([String].self, forKey: .ignore) ?? d.ignore
        keep = try c.decodeIfPresent([String].self, forKey: .keep)
        allowLeak = try c.decodeIfPresent([String].self, forKey: .allowLeak)
        targetTransform = try c.decodeIfPresent(TargetTransform.self, forKey: .targetTransform)
        missing = try c.decodeIfPresent(MissingPolicy.self, forKey: .missing) ?? d.missing
        categoryLimit = try c.decodeIfPresent(Int.self, forKey: .categoryLimit) ?? d.categoryLimit
        delimiter = try c.decodeIfPresent(String.self, forKey: .delimiter)
        out = try c.decodeIfPresent(String.self, forKey: .out)
        tensorboard = try c.decodeIfPresent(String.self, forKey: .tensorboard)
        mlflow = try c.decodeIfPresent(String.self, forKey: .mlflow)
        mlflowExperiment = try c.decodeIfPresent(String.self, forKey: .mlflowExperiment)
    }

    public func encode(to encoder: Encoder) throws { try encode(to: encoder, keeping: { _ in true }) }

    /// Encodes the settings of the keys `accept` takes, as the synthesised encoding would (optionals only when set).
    func encode(to encoder: Encoder, keeping accept: (CodingKeys) -> Bool) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func put<T: Encodable>(_ value: T, _ key: CodingKeys) throws {
            if accept(key) { try c.encode(value, forKey: key) }
        }
        func putIfPresent<T: Encodable>(_ value: T?, _ key: CodingKeys) throws {
            if accept(key) { try c.encodeIfPresent(value, forKey: key) }
        }
        try putIfPresent(data, .data)
        try putIfPresent(target, .target)
        try putIfPresent(task, .task)
        try put(hidden, .hidden)
        try put(activation, .activation)
        try put(dropout, .dropout)
        try put(batchnorm, .batchnorm)
        try put(optimizer, .optimizer)
        try put(lr, .lr)
        try put(weightDecay, .weightDecay)
        try put(momentum, .momentum)
        try put(batchSize, .batchSize)
        try put(epochs, .epochs)
        try put(warmup, .warmup)
        try put(schedule, .schedule)
        try putIfPresent(metric, .metric)
        try putIfPresent(earlyStop, .earlyStop)
        try putIfPresent(reduceOnPlateau, .reduceOnPlateau)
        try putIfPresent(clip, .clip)
        try put(labelSmoothing, .labelSmoothing)
        try put(seed, .seed)
        try put(split, .split)
        try put(ignore, .ignore)
        try putIfPresent(self.keep, .keep)
        try putIfPresent(allowLeak, .allowLeak)
        try putIfPresent(targetTransform, .targetTransform)
        try put(missing, .missing)
        try put(categoryLimit, .categoryLimit)
        try putIfPresent(delimiter, .delimiter)
        try putIfPresent(out, .out)
        try putIfPresent(tensorboard, .tensorboard)
        try putIfPresent(mlflow, .mlflow)
        try putIfPresent(mlflowExperiment, .mlflowExperiment)
    }

    /// The settings that shape training (`CodingKeys.shapesTraining`), as JSON: what a study's resume key digests.
    public func shapingJSON() throws -> Data {
        struct Shaping: Encodable {
            let settings: TrainSettings
            func encode(to encoder: Encoder) throws { try settings.encode(to: encoder, keeping: \.shapesTraining) }
        }
        return try jsonData(Shaping(settings: self))
    }
}
