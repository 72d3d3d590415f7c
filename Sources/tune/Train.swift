import ArgumentParser
import Foundation
import Tune

/// The case of `T` named by a flag's text, or an error naming the flag and the choices.
func parseChoice<T: RawRepresentable & CaseIterable>(
    _ text: String?, _ flag: String, _ type: T.Type, extra: [String] = []
) throws -> T? where T.RawValue == String {
    guard let text else { return nil }
    guard let value = T(rawValue: text) else {
        throw DataError(
            path: flag, "expected one of \((extra + T.allCases.map(\.rawValue)).joined(separator: ", ")), got '\(text)'"
        )
    }
    return value
}

extension TrainOptions {
    /// The error of `command`, which takes the training flags but does not log, given --tensorboard or --mlflow.
    func notLogging(_ command: String) -> DataError {
        DataError(
            path: tensorboard != nil ? "--tensorboard" : "--mlflow",
            "\(command) does not log to TensorBoard or MLflow; tune train and tune search do")
    }
}

/// The data, model, training and output flags of `tune train`, shared by `search`, `ensemble` and `lr-find`.
struct TrainOptions: ParsableArguments {
    @Option(help: "The CSV file.") var data: String?
    @Option(help: "The target column.") var target: String?
    @Option(help: "auto, binary, multiclass or regression (default: auto).") var task: String?
    @Option(help: "Hidden layer widths, comma-separated (default: 64,64).") var hidden: String?
    @Option(help: "relu, leakyRelu, elu, gelu, geluTanh, swish, mish, tanh, sigmoid, softplus (default: relu).")
    var activation: String?
    @Option(help: "Dropout probability after each hidden layer (default: 0).") var dropout: Float?
    @Flag(help: "Batch normalisation before each hidden activation.") var batchnorm = false
    @Option(help: "adam, adamw, sgd, rmsprop or adagrad (default: adam).") var optimizer: String?
    @Option(help: "Learning rate (default: 0.001).") var lr: Double?
    @Option(help: "Weight decay (default: 0).") var weightDecay: Double?
    @Option(help: "Momentum of sgd and rmsprop (default: 0.9).") var momentum: Double?
    @Option(help: "auto (the power of two nearest sqrt(N)) or a number (default: auto).") var batchSize: String?
    @Option(help: "Epochs (default: 50).") var epochs: Int?
    @Option(help: "Epochs of linear learning-rate warmup (default: 0).") var warmup: Int?
    @Option(help: "constant, cosine, step, exponential or onecycle (default: constant).") var schedule: String?
    @Option(
        help:
            "The metric to select the model by: auc, accuracy, balanced_accuracy, log_loss, f1, rmse, mae, r2, ... (default: auc for binary, accuracy for multiclass, rmse for regression)."
    ) var metric: String?
    @Option(help: "Stop after this many epochs without improvement of the metric.") var earlyStop: Int?
    @Option(help: "Lower the learning rate 10x after this many epochs without improvement.") var reduceOnPlateau: Int?
    @Option(help: "Clip gradients to this global norm.") var clip: Double?
    @Option(help: "Random seed for the split, the initial weights, dropout and shuffling (default: 0).") var seed:
        UInt64?
    @Option(
        help:
            "Train, validation and test fractions (default: 0.6,0.2,0.2), or column:NAME for the split a column gives (train, validation, test on each row)."
    ) var split: String?
    @Option(help: "Columns to leave out, comma-separated (identifiers).") var ignore: String?
    @Option(help: "Columns to keep as features although the data check takes them for identifiers, comma-separated.")
    var keep: String?
    @Option(
        help:
            "Columns the data check may find leaking the target without stopping, comma-separated (known at prediction time)."
    ) var allowLeak: String?
    @Option(
        help:
            "Train a positive regression target on its logarithm: log (metrics and predictions stay in the original units)."
    ) var targetTransform: String?
    @Option(help: "Missing values: impute, drop or fail (default: impute).") var missing: String?
    @Option(
        help: "The most one-hot columns per categorical column; rarer categories share an 'other' column (default: 32)."
    ) var categoryLimit: Int?
    @Option(help: "The CSV delimiter: a character or 'tab' (default: detected).") var delimiter: String?
    @Option(help: "A YAML or JSON file of settings.") var config: String?
    @Option(
        help:
            "The output directory (default: tune-train-<data file name>; tune search: tune-search-..., tune ensemble: tune-ensemble-...)."
    ) var out: String?
    @Option(help: "Log to TensorBoard event files in this directory (train and search).") var tensorboard: String?
    @Option(
        help:
            "Log to this MLflow tracking server (train and search; default: MLFLOW_TRACKING_URI when it is an http(s) address). A token in MLFLOW_TRACKING_TOKEN is sent, never printed. What the server cannot take is kept in mlflow-unsent/ of --out for tune mlflow-sync."
    ) var mlflow: String?
    @Option(help: "The MLflow experiment's name (default: swift-tune).") var mlflowExperiment: String?
    @Flag(help: "Print nothing but errors.") var quiet = false
    @Flag(help: "Print JSON lines (one per epoch, then a summary) instead of the table.") var json = false

    /// The settings from --config and the flags; without --out, `defaultOut` with the data file's name
    /// (`tune-train-cancer` for cancer.csv), when given.
    func settings(defaultOut: String? = nil) throws -> TrainSettings {
        var s = try config.map { try TrainSettings.load(path: $0) } ?? TrainSettings()
        try applyDataAndModel(&s)
        try applyTraining(&s)
        try applySplitColumnsAndLogs(&s)
        if let out { s.out = out }
        if s.out == nil, let prefix = defaultOut, let data = s.data {
            s.out = prefix + URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent
        }
        return s
    }

    /// The data, the task and the network's shape, over the settings file's.
    func applyDataAndModel(_ s: inout TrainSettings) throws {
        if let data { s.data = data }
        if let target { s.target = target }
        if let task {
            if task == "auto" {
                s.task = nil
            } else {
                guard let t = TaskKind(rawValue: task) else {
                    throw DataError(path: "--task", "expected auto, binary, multiclass or regression, got '\(task)'")
                }
                s.task = t
            }
        }
        if let hidden {
            let widths = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !widths.isEmpty, widths.allSatisfy({ $0 != nil && $0! >= 1 }) else {
                throw DataError(
                    path: "--hidden", "expected positive widths separated by commas, like 64,64, got '\(hidden)'")
            }
            s.hidden = widths.map { $0! }
        }
        if let a = try parseChoice(activation, "--activation", Activation.self) { s.activation = a }
        if let dropout { s.dropout = dropout }
        if batchnorm { s.batchnorm = true }
    }

    /// The optimizer, the schedule, the epochs and the seed, over the settings file's.
    func applyTraining(_ s: inout TrainSettings) throws {
        if let o = try parseChoice(optimizer, "--optimizer", OptimizerKind.self) { s.optimizer = o }
        if let lr { s.lr = lr }
        if let weightDecay { s.weightDecay = weightDecay }
        if let momentum { s.momentum = momentum }
        if let batchSize {
            guard let b = BatchSize(batchSize) else {
                throw DataError(path: "--batch-size", "expected auto or a positive integer, got '\(batchSize)'")
            }
            s.batchSize = b
        }
        if let epochs { s.epochs = epochs }
        if let warmup { s.warmup = warmup }
        if let k = try parseChoice(schedule, "--schedule", ScheduleKind.self) { s.schedule = k }
        if let m = try parseChoice(metric, "--metric", MetricName.self) { s.metric = m }
        if let earlyStop { s.earlyStop = earlyStop }
        if let reduceOnPlateau { s.reduceOnPlateau = reduceOnPlateau }
        if let clip { s.clip = clip }
        if let seed { s.seed = seed }
    }

    /// The split, the columns to leave out or keep, missing values and the trackers, over the settings file's.
    func applySplitColumnsAndLogs(_ s: inout TrainSettings) throws {
        if let split { s.split = split }
        if let tensorboard { s.tensorboard = tensorboard }
        if let mlflow { s.mlflow = mlflow }
        if let mlflowExperiment { s.mlflowExperiment = mlflowExperiment }
        func names(_ list: String) -> [String] {
            list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let ignore { s.ignore = names(ignore) }
        if let keep { s.keep = names(keep) }
        if let allowLeak { s.allowLeak = names(allowLeak) }
        if let t = try parseChoice(targetTransform, "--target-transform", TargetTransform.self) {
            s.targetTransform = t
        }
        if let missing = try parseChoice(missing, "--missing", MissingPolicy.self) { s.missing = missing }
        if let delimiter { s.delimiter = delimiter }
        if let categoryLimit {
            guard categoryLimit >= 1 else {
                throw DataError(path: "--category-limit", "expected a positive integer, got \(categoryLimit)")
            }
            s.categoryLimit = categoryLimit
        }
    }
}

extension TuneCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Train a network on a CSV file, print the metrics every epoch, keep the best epoch by its metric.",
            discussion: """
                Writes to --out: model/ (safetensors weights and model.json with the preprocessing), history.csv, \
                history.json, metrics.json (test metrics of the selected model) and command.txt. A YAML or JSON --config \
                file can hold the same settings under the flags' names; flags override it. Bad input exits with status 2 \
                and writes nothing; a diverged run exits with status 1.

                Before training, a data check looks at the table (docs/DATA.md): identifiers (a row number, an unnamed \
                index, UUIDs, hashes, ids) are left out of the features (--keep to keep one); a column that gives the \
                target away stops the run with status 2 (--allow-leak if it is known when predicting); a sorted \
                target, duplicate rows, conflicting labels, a rare class, constant, near-constant, mostly missing, \
                high-cardinality or numbers-as-text columns and a skewed target (--target-transform log) are noted.
                """)

        @OptionGroup var options: TrainOptions

        func run() throws {
            let run = TrainRun(
                settings: try options.settings(defaultOut: "tune-train-"),
                command: CommandLine.arguments.map(shellQuoted).joined(separator: " "))
            let printer = EpochPrinter(mode: options.quiet ? .quiet : (options.json ? .json : .table))
            run.onNote = { printer.note($0) }
            run.onEpoch = { printer.epoch($0, history: $1) }
            run.onStep = { printer.progress(epoch: $0, step: $1, steps: $2, elapsed: $3) }
            let outcome = try run.run()
            printer.summary(outcome, out: run.settings.out ?? "")
            if outcome.result.history.status == .diverged { throw ExitCode(1) }
        }
    }
}
