import Foundation
import TuneData
import TuneDiagnosis
import TuneNN
import TuneReport
import TuneSearch
import TuneTensor
import TuneTraining

/// The result of `tune train`.
public struct TrainOutcome {
    /// The trained network, holding the selected epoch's weights.
    public let model: MLP
    public let result: TrainingResult
    public let preprocessor: Preprocessor
    public let specification: MLPSpecification
    /// Metrics of the selected model on the test rows (empty when the split has no test part).
    public let testMetrics: [String: Double]
    /// The loss a constant predictor scores on the validation rows (see ``Baseline``).
    public var baselineLoss: Double? = nil
    public let rows: (train: Int, validation: Int, test: Int)
    public let notes: [String]

    public init(
        model: MLP, result: TrainingResult, preprocessor: Preprocessor, specification: MLPSpecification,
        testMetrics: [String: Double], baselineLoss: Double? = nil, rows: (train: Int, validation: Int, test: Int),
        notes: [String]
    ) {
        self.model = model
        self.result = result
        self.preprocessor = preprocessor
        self.specification = specification
        self.testMetrics = testMetrics
        self.baselineLoss = baselineLoss
        self.rows = rows
        self.notes = notes
    }
}

/// `tune train` as a library call: read and check everything, prepare the data, build and train the network,
/// evaluate the selected model on the test rows, and write the run directory. Nothing is written unless every input
/// checks out; every file is written atomically.
public final class TrainRun {
    public let settings: TrainSettings
    /// The command that started the run, recorded in `command.txt`.
    public var command: String
    public var onNote: (String) -> Void = { _ in }
    public var onEpoch: ((EpochRecord, History) -> Void)?
    public var onStep: ((Int, Int, Int, Double) -> Void)?
    public var callbacks: [TrainingCallback] = []

    public init(settings: TrainSettings, command: String = "") {
        self.settings = settings
        self.command = command
    }

    /// Checks and prepares the data, the model and the configuration without training.
    public func prepare() throws -> (
        data: PreparedData, specification: MLPSpecification, configuration: TrainingConfiguration
    ) {
        let s = settings
        guard let dataPath = s.data else { throw DataError(path: "tune train", "no data file: pass --data FILE") }
        guard let target = s.target else { throw DataError(path: dataPath, "no target column: pass --target COLUMN") }
        let configuration = s.trainingConfiguration
        if let problem = configuration.validationError() { throw DataError(path: "settings", problem) }
        var fractions = SplitFractions.standard
        var splitColumn: String?
        if s.split.hasPrefix("column:") {
            splitColumn = String(s.split.dropFirst("column:".count))
        } else {
            switch SplitFractions.parse(s.split) {
            case .success(let f): fractions = f
            case .failure(let e): throw e
            }
        }
        let table = try CSVReader.read(path: dataPath, delimiter: try s.delimiterByte())
        let data = try DataPreparation.prepare(
            table, target: target, task: s.task, split: fractions, seed: s.seed,
            options: s.preprocessingOptions, splitColumn: splitColumn,
            targetTransform: s.targetTransform, check: s.dataCheckOptions)
        let task = data.preprocessor.target.task
        if let metric = s.metric, !MetricName.reported(for: task).contains(metric) {
            throw DataError(
                path: "--metric",
                "'\(metric.rawValue)' does not apply to \(task.rawValue) tasks; choose one of \(MetricName.reported(for: task).map(\.rawValue).joined(separator: ", "))"
            )
        }
        let specification = MLPSpecification(
            inputSize: data.preprocessor.inputSize, hiddenSizes: s.hidden,
            outputSize: data.preprocessor.outputSize, activation: s.activation,
            dropout: s.dropout, batchNorm: s.batchnorm ? .beforeActivation : .none)
        if let problem = specification.validationError() { throw DataError(path: "settings", problem) }
        return (data, specification, configuration)
    }

    /// Runs everything and, when `settings.out` is set, writes the run directory.
    @discardableResult
    public func run() throws -> TrainOutcome {
        let (data, specification, configuration) = try prepare()
        for note in data.messages { onNote(note) }
        let model = MLP(specification, seed: settings.seed)
        let trainer = Trainer(configuration: configuration)
        let parameters = Self.hyperparameters(settings)
        let (board, mlflow) = try startTrackers(
            parameters: parameters, task: data.preprocessor.target.task, metric: configuration.metric)
        // Last of all: what is queued for MLflow is sent (or kept on disk).
        defer { if mlflow != nil { MLflowLog.finish(onNote: onNote) } }
        let userOnEpoch = onEpoch
        let observers = [board as (any RunObserver)?, mlflow].compactMap { $0 }
        trainer.onEpoch = { record, history in
            for observer in observers { observer.epoch(record, history: history) }
            userOnEpoch?(record, history)
        }
        trainer.onStep = onStep
        trainer.callbacks = callbacks
        if let reason = configuration.batchSize.resolve(trainingRows: data.train.count).reason { onNote(reason) }
        let result = trainer.fit(
            model, train: data.train, validation: data.validation, target: data.preprocessor.target)
        let end: RunEnd = result.history.status == .diverged ? .failed : .finished
        let testMetrics =
            data.test.count > 0
            ? Evaluation.metrics(
                outputs: withoutGradient { model(data.test.x) }, data: data.test, target: data.preprocessor.target)
            : [:]
        let outcome = TrainOutcome(
            model: model, result: result, preprocessor: data.preprocessor, specification: specification,
            testMetrics: testMetrics, baselineLoss: Baseline.validationLoss(data),
            rows: (data.train.count, data.validation.count, data.test.count),
            notes: data.notes)
        if let board {
            board.text(
                "doctor",
                TensorBoardLog.findingsText(
                    Doctor().diagnose(Curves(result: result, data: data, settings: parameters.mapValues(\.description)))
                        .map { ($0.id.rawValue, $0.explanation, $0.nextStep) }))
            board.ended(end)
            if let problem = board.problem { onNote("TensorBoard: \(problem)") }
        }
        if let out = settings.out { try write(outcome, model: model, to: URL(fileURLWithPath: out)) }
        if let mlflow {
            mlflow.metrics(Dictionary(uniqueKeysWithValues: testMetrics.map { ("test_\($0.key)", $0.value) }))
            mlflow.artifact("history.csv", Data(result.history.csv().utf8))
            mlflow.artifact("history.json", try jsonData(result.history))
            mlflow.ended(end)
        }
        return outcome
    }

    /// The run's TensorBoard log (its configuration, the HParams experiment and session started) and MLflow run,
    /// where the settings ask for them.
    func startTrackers(parameters: [String: ParameterValue], task: TaskKind, metric: MetricName?) throws -> (
        TensorBoardLog?, MLflowLog?
    ) {
        let board = try settings.tensorboard.map { try TensorBoardLog(directory: URL(fileURLWithPath: $0)) }
        if let board {
            board.text(
                "configuration",
                "```json\n" + String(decoding: try jsonData(settings.redacted), as: UTF8.self) + "\n```")
            try TensorBoardLog.experiment(
                board.writer, parameters: parameters.keys.sorted().map { ($0, nil) },
                monitor: (metric ?? MetricName.defaultMonitor(for: task)).rawValue)
            board.sessionStart(parameters)
        }
        let mlflow = MLflowLog.start(
            settings, name: settings.out.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "tune train",
            parameters: MLflowLog.parameters(parameters),
            tags: ["data": settings.data ?? "", "target": settings.target ?? "", "task": task.rawValue],
            onNote: onNote)
        return (board, mlflow)
    }

    /// Writes the run directory; `name` titles its report (the directory's own name by default: a directory filled
    /// under a temporary name and renamed passes its final one).
    package func write(_ outcome: TrainOutcome, model: MLP, to directory: URL, name: String? = nil) throws {
        try createOutputDirectory(directory.path)
        let settingsJSON = try JSONValue.encoding(settings.redacted)
        try Checkpoint.save(
            model, to: directory.appendingPathComponent("model"),
            hyperparameters: settingsJSON.objectValue ?? [:],
            preprocessing: try JSONValue.encoding(outcome.preprocessor))
        let history = outcome.result.history
        try writeAtomically(Data(history.csv().utf8), to: directory.appendingPathComponent("history.csv"))
        try writeAtomically(try jsonData(history), to: directory.appendingPathComponent("history.json"))
        let summary = RunSummary(
            task: outcome.preprocessor.target.task.rawValue, monitor: history.monitor, status: history.status.rawValue,
            reason: history.reason, bestEpoch: history.bestEpoch,
            lowestValidationLossEpoch: history.lowestValidationLossEpoch,
            batchSize: outcome.result.batchSize,
            rows: [
                "train": outcome.rows.train, "validation": outcome.rows.validation,
                "test": outcome.rows.test
            ],
            validation: history.bestEpoch.map { history.epochs[$0 - 1].metrics } ?? [:],
            test: outcome.testMetrics, baselineValidationLoss: outcome.baselineLoss)
        try writeAtomically(try jsonData(summary), to: directory.appendingPathComponent("metrics.json"))
        try writeAtomically(Data((command + "\n").utf8), to: directory.appendingPathComponent("command.txt"))
        // The report from what is in memory (not read back from the files just written).
        let report = HTMLReport.run(history: history, summary: summary, name: name ?? directory.lastPathComponent)
        try writeAtomically(Data(report.utf8), to: directory.appendingPathComponent("report.html"))
    }
}

extension TrainRun {
    /// The settings a TensorBoard HParams session and an MLflow run show for a run.
    static func hyperparameters(_ s: TrainSettings) -> [String: ParameterValue] {
        Dictionary(uniqueKeysWithValues: Hyperparameter.recorded.map { ($0.rawValue, $0.value(in: s)) })
    }
}

/// Creates an output directory (and its parents) or says which one cannot be made.
public func createOutputDirectory(_ path: String) throws {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw DataError(path: path, "cannot create the output directory: \(error.localizedDescription)")
    }
}

/// Fills a directory that swift-tune owns (a study's `best/`, an ensemble member) through a temporary sibling and
/// renames, so that it always holds one whole run, never files of two (a reader may briefly find it absent).
package func replaceDirectory(_ url: URL, _ fill: (URL) throws -> Void) throws {
    let fm = FileManager.default
    let pid = ProcessInfo.processInfo.processIdentifier
    let parent = url.deletingLastPathComponent()
    let fresh = parent.appendingPathComponent(".\(url.lastPathComponent).new-\(pid)")
    let old = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(pid)")
    try? fm.removeItem(at: fresh)
    try? fm.removeItem(at: old)
    try fill(fresh)
    do {
        if fm.fileExists(atPath: url.path) { try fm.moveItem(at: url, to: old) }
        try fm.moveItem(at: fresh, to: url)
    } catch {
        throw DataError(path: url.path, "cannot put the new run in place: \(error.localizedDescription)")
    }
    try? fm.removeItem(at: old)
}

extension JSONValue {
    /// Any encodable value as JSON.
    static func encoding<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: jsonData(value))
    }

    /// The decoded value of this JSON.
    func decoding<T: Decodable>(_ type: T.Type) throws -> T {
        let encoder = JSONEncoder()
        return try JSONDecoder().decode(type, from: encoder.encode(self))
    }

    var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }
}
