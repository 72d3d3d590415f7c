import Foundation
import TuneData
import TuneDiagnosis
import TuneNN
import TuneReport
import TuneRun
import TuneSearch
import TuneTensor
import TuneTraining

/// How `tune search` proposes configurations when it does not run the staged recipe.
public enum SearchStrategy: String, Codable, Sendable, CaseIterable {
    case tpe, random, quasirandom, grid

    func sampler(seed: UInt64, space: SearchSpace, parallel: Bool = false) -> any Sampler {
        switch self {
        case .tpe: return TPESampler(seed: seed, constantLiar: parallel)
        case .random: return RandomSampler(seed: seed)
        case .quasirandom: return QuasiRandomSampler(seed: seed)
        case .grid: return GridSampler(space.gridValues, seed: seed)
        }
    }
}

/// Which pruner stops hopeless trials, judged on the monitored validation metric after each epoch.
public enum PrunerKind: String, Codable, Sendable, CaseIterable {
    case median, asha, hyperband, none

    func pruner(epochs: Int) -> any Pruner {
        switch self {
        case .median: return MedianPruner(startupTrials: 5, warmupSteps: 2)
        case .asha: return SuccessiveHalvingPruner(minResource: 1, reductionFactor: 3)
        case .hyperband: return HyperbandPruner(minResource: 1, maxResource: max(epochs, 1), reductionFactor: 3)
        case .none: return NoPruner()
        }
    }
}

/// One finished or abandoned trial as `tune search` reports it.
public struct SearchTrialSummary: Codable, Sendable {
    public var number: Int
    public var state: String
    public var value: Double?
    public var parameters: [String: String]
    public var failure: String?
    /// The trial's model on the test rows (complete trials).
    public var test: [String: Double]?
}

/// What `summary.json` holds.
public struct SearchSummary: Codable, Sendable {
    public var monitor: String
    public var direction: String
    public var strategy: String
    public var pruner: String
    /// The searched space, as text.
    public var space: String
    /// Training epochs over all trials (pruned ones included).
    public var epochs: Int
    public var best: SearchTrialSummary?
    public var counts: [String: Int]
    public var trials: [SearchTrialSummary]
}

/// `tune search` with a classic strategy: a study in `out/study.sqlite` over `space` (by default learning rate on a log
/// scale, width, depth, dropout and activation), each trial trained with the other settings of `tune train` and judged by its best
/// validation metric. Running it again on the same directory resumes the study: finished trials count towards
/// `trials` (a trial queued again counts once, by its retry), and trials left running by a process that stopped (no heartbeat for `staleAfter` seconds) are marked
/// failed and their configurations queued again.
public final class SearchRun {
    public let settings: TrainSettings
    public var strategy: SearchStrategy = .tpe
    public var pruner: PrunerKind = .median
    public var trials = 20
    /// What the search draws; the other settings come from `settings`.
    public var space = SearchSpace.standard
    /// When set, replaces `trials`: trials run until the study has spent this many trials, training epochs (every
    /// epoch of every trial, pruned ones included) or minutes (this run's, plus the wall-clock time that the trials
    /// finished before a resume took, from each trial's `started_at` and `seconds` attributes).
    public var budget: RecipeBudget?
    public var staleAfter: Double = 120
    /// Processes running trials at once (this one and `jobs - 1` workers started by the caller on the same study):
    /// the sampler then counts running trials as bad ones (TPE's constant liar), so that they spread out.
    public var jobs = 1
    /// A worker runs trials on a study another process leads: it writes no summary.
    public var isWorker = false
    public var onTrial: (FrozenTrial) -> Void = { _ in }
    public var onNote: (String) -> Void = { _ in }
    /// Called at the end of each epoch of this process's trials: the trial's number, the epoch, the history so far
    /// and the trial's epoch limit.
    public var onEpoch: (_ trial: Int, _ record: EpochRecord, _ history: History, _ limit: Int) -> Void = {
        _, _, _, _ in
    }

    public init(settings: TrainSettings) {
        self.settings = settings
    }

    /// The study's file in the output directory.
    public static func studyPath(_ out: String) -> String {
        URL(fileURLWithPath: out).appendingPathComponent("study.sqlite").path
    }

    @discardableResult
    public func run() throws -> SearchSummary {
        // Last of all: what is queued for MLflow is sent (or kept on disk).
        defer { MLflowLog.finish(onNote: onNote) }
        guard let out = settings.out else {
            throw DataError(path: "tune search", "no output directory: pass --out DIR (the study lives there)")
        }
        let (data, base, configuration) = try TrainRun(settings: settings).prepare()
        for note in data.messages { onNote(note) }
        let monitor = configuration.metric ?? MetricName.defaultMonitor(for: data.preprocessor.target.task)
        let direction: Direction = monitor.higherIsBetter ? .maximize : .minimize
        try createOutputDirectory(out)
        let storage = try SQLiteStorage(path: Self.studyPath(out), direction: direction)
        let study = Study(
            direction: direction, sampler: strategy.sampler(seed: settings.seed, space: space, parallel: jobs > 1),
            pruner: pruner.pruner(epochs: configuration.epochs), storage: storage)
        if !isWorker { try requeueStale(storage) }
        if !isWorker { try startTrackers(out: out, monitor: monitor) }
        let parentRun = isWorker ? MLflowLog.readParent(out: out) : mlflowParent?.run
        onStudyReady()
        // A trial queued again after its process died is counted once, by its retry.
        let existing = try study.trials
        let retriedBefore = Self.retried(existing)
        let finished = existing.filter { $0.state.isFinished && !retriedBefore.contains($0.number) }.count
        if finished > 0 && !isWorker {
            onNote("resuming the study in \(Self.studyPath(out)): \(finished) trials already finished")
        }
        let started = Date()
        let earlierSeconds = Self.finishedSeconds(existing)
        func another() throws -> Bool {
            try budgetAllowsAnother(study, started: started, earlierSeconds: earlierSeconds)
        }
        let lock = FileLock(path: URL(fileURLWithPath: out).appendingPathComponent(".search.lock").path)
        while let trial = try lock.holding({ try another() ? try study.ask() : nil }) {
            let recorded = try study.run(trial) { trial in
                let began = Date()
                defer {
                    try? storage.setAttribute(
                        trial.number, key: "started_at", value: String(began.timeIntervalSince1970))
                    try? storage.setAttribute(
                        trial.number, key: "seconds", value: String(Date().timeIntervalSince(began)))
                }
                return try self.objective(
                    trial, data: data, base: base, configuration: configuration, monitor: monitor,
                    mlflowParent: parentRun)
            }
            trialLog?.finish(recorded.state == .complete ? "FINISHED" : recorded.state == .pruned ? "KILLED" : "FAILED")
            trialLog = nil
            try keepIfBest(recorded, study: study, lock: lock, out: out)
            pendingBest = nil
            onTrial(recorded)
        }
        guard !isWorker else { return try summary(study, monitor: monitor, direction: direction) }
        onFinishedOwnTrials()
        return try finish(study, monitor: monitor, direction: direction, out: out)
    }

    /// The leader's end: the summary to summary.json and the MLflow parent run, and report.html.
    func finish(_ study: Study, monitor: MetricName, direction: Direction, out: String) throws -> SearchSummary {
        defer { mlflowParent?.finish("FINISHED") }
        let result = try summary(study, monitor: monitor, direction: direction)
        if let parent = mlflowParent {
            if let best = result.best?.value { parent.metrics(["best_\(monitor.rawValue)": best]) }
            parent.artifact("summary.json", try jsonData(result))
        }
        try writeAtomically(try jsonData(result), to: URL(fileURLWithPath: out).appendingPathComponent("summary.json"))
        try ReportFiles.write(URL(fileURLWithPath: out))
        return result
    }

    /// Trials left running by a process that stopped: marked failed, their configurations queued again.
    func requeueStale(_ storage: any StudyStorage) throws {
        let requeued = try storage.failStaleTrials(olderThan: staleAfter, requeue: true)
        if !requeued.isEmpty {
            onNote(
                "trials \(requeued.map(String.init).joined(separator: ", ")) were left running by a process that stopped: marked failed, their configurations queued again"
            )
        }
    }

    /// The TensorBoard experiment's records and the study's MLflow parent run (started by the leader, its id left in
    /// the output directory for the workers).
    func startTrackers(out: String, monitor: MetricName) throws {
        if let directory = settings.tensorboard {
            var intervals: [String: ClosedRange<Double>] = [:]
            for e in space.entries {
                if case let .float(low, high, _, _) = e.distribution { intervals[e.setting.rawValue] = low...high }
                if case let .int(low, high, _, _) = e.distribution {
                    intervals[e.setting.rawValue] = Double(low)...Double(high)
                }
            }
            try TensorBoardLog.experiment(
                directory: URL(fileURLWithPath: directory),
                parameters: space.entries.map { e in
                    if case .categorical(let c) = e.distribution { return (e.setting.rawValue, c) }
                    return (e.setting.rawValue, nil)
                }, monitor: monitor.rawValue, intervals: intervals)
        }
        if MLflowLog.server(settings) != nil {
            mlflowParent = MLflowLog.start(
                settings, name: "search \(URL(fileURLWithPath: out).lastPathComponent)",
                parameters: ["strategy": strategy.rawValue, "pruner": pruner.rawValue, "space": space.description],
                tags: ["data": settings.data ?? "", "target": settings.target ?? ""], onNote: onNote)
            try MLflowLog.writeParent(mlflowParent, out: out)
        }
    }

    /// The wall-clock seconds the finished trials of a resumed study took (trials that ran at once counted once),
    /// which a minutes budget counts.
    static func finishedSeconds(_ existing: [FrozenTrial]) -> Double {
        wallSeconds(
            existing.filter { $0.state.isFinished }.compactMap { t in
                guard let start = t.attributes["started_at"].flatMap(Double.init),
                    let seconds = t.attributes["seconds"].flatMap(Double.init)
                else { return nil }
                return (start, start + seconds)
            })
    }

    /// Whether another trial should start: the trials started so far (running or finished, a retried one counted
    /// once) against --trials, or what they spent against the budget.
    func budgetAllowsAnother(_ study: Study, started: Date, earlierSeconds: Double) throws -> Bool {
        let all = try study.trials
        let retried = Self.retried(all)
        let counted = all.filter { $0.state != .waiting && !retried.contains($0.number) }
        guard let budget else { return counted.count < trials }
        switch budget.unit {
        case .trials: return Double(counted.count) < budget.amount
        case .epochs: return Double(all.map { $0.intermediate.count }.reduce(0, +)) < budget.amount
        case .minutes: return (Date().timeIntervalSince(started) + earlierSeconds) / 60 < budget.amount
        }
    }

    /// The best complete trial's model is kept in out/best; the check and the write hold the lock, so that processes
    /// sharing the study never leave a worse model there.
    func keepIfBest(_ recorded: FrozenTrial, study: Study, lock: FileLock, out: String) throws {
        if recorded.state == .complete, let candidate = pendingBest {
            try lock.holding {
                if try study.bestTrial?.number == recorded.number {
                    try replaceDirectory(URL(fileURLWithPath: out).appendingPathComponent("best")) {
                        try candidate.run.write(
                            candidate.outcome, model: candidate.outcome.model, to: $0, name: "best")
                    }
                }
            }
        }
    }

    /// The trials that a requeued trial repeats.
    static func retried(_ trials: [FrozenTrial]) -> Set<Int> {
        Set(trials.compactMap { $0.attributes["retry_of"].flatMap(Int.init) })
    }

    func summary(_ study: Study, monitor: MetricName, direction: Direction) throws -> SearchSummary {
        let all = try study.trials
        func summary(_ t: FrozenTrial) -> SearchTrialSummary {
            SearchTrialSummary(
                number: t.number, state: t.state.rawValue, value: t.value,
                parameters: t.parameters.mapValues(\.description), failure: t.failure,
                test: t.attributes["test_metrics"].flatMap {
                    try? JSONDecoder().decode([String: Double].self, from: Data($0.utf8))
                })
        }
        return SearchSummary(
            monitor: monitor.rawValue, direction: direction.rawValue, strategy: strategy.rawValue,
            pruner: pruner.rawValue, space: space.description, epochs: all.map { $0.intermediate.count }.reduce(0, +),
            best: try study.bestTrial.map(summary),
            counts: Dictionary(grouping: all, by: { $0.state.rawValue }).mapValues(\.count),
            trials: all.map(summary))
    }

    private var mlflowParent: MLflowLog?
    /// The running trial's MLflow run.
    private var trialLog: MLflowLog?

    /// The last trained trial's model and run, written to out/best if it turns out the best.
    private var pendingBest: (run: TrainRun, outcome: TrainOutcome)?

    /// Called when this process has no more trials to start, before the summary: the caller waits for its workers.
    public var onFinishedOwnTrials: () -> Void = {}
    /// Called once the study's file exists (the caller may start workers on it).
    public var onStudyReady: () -> Void = {}

    /// Trains the trial's configuration and returns its best validation value of the monitored metric.
    func objective(
        _ trial: Trial, data: PreparedData, base: MLPSpecification, configuration: TrainingConfiguration,
        monitor: MetricName, mlflowParent: String? = nil
    ) throws -> Double {
        var specification = base
        var c = configuration
        try space.suggest(trial, specification: &specification, configuration: &c)
        if let problem = c.validationError() ?? specification.validationError() { throw InvalidTrial(reason: problem) }
        let reporter = TrialReporter(trial: trial, monitor: monitor)
        let trainer = Trainer(configuration: c)
        trainer.callbacks = [reporter]
        // The trial's parameters, read back once and only for a log that shows them.
        let parameters = settings.tensorboard != nil || mlflowParent != nil ? try trial.frozen.parameters : [:]
        let board = try TensorBoardLog.trial(settings.tensorboard, number: trial.number, parameters: parameters)
        if let parent = mlflowParent {
            trialLog = MLflowLog.start(
                settings, name: "trial \(trial.number)", parent: parent,
                parameters: MLflowLog.parameters(parameters), onNote: onNote)
        }
        let mlflow = trialLog
        let staleAfter = self.staleAfter
        trainer.onStep = { _, _, _, _ in trial.keepAlive(staleAfter: staleAfter) }
        let onEpoch = self.onEpoch, number = trial.number, limit = c.epochs
        trainer.onEpoch = {
            board?.epoch($0, history: $1); mlflow?.epoch($0); onEpoch(number, $0, $1, limit)
        }
        let model = MLP(specification, seed: settings.seed)
        let result = trainer.fit(
            model, train: data.train, validation: data.validation, target: data.preprocessor.target)
        try StudyCurves.store(
            Curves(result: result, data: data, settings: try trial.frozen.parameters.mapValues(\.description)),
            trial: trial.number, in: trial.study.storage)
        board?.sessionEnd(success: !reporter.pruned && result.history.status != .diverged)
        if let problem = board?.problem { onNote("TensorBoard: \(problem)") }
        if let error = reporter.error { throw error }
        if reporter.pruned { throw SearchError.pruned }
        let history = result.history
        guard history.status != .diverged else { throw TrialDiverged(reason: history.reason) }
        guard let best = history.bestEpoch, let value = reporter.value(history.epochs[best - 1]) else {
            throw TrialDiverged(reason: "no epoch had a finite \(monitor.rawValue)")
        }
        // The test metrics are recorded; the model is kept in case it is the best (see `run`).
        let testMetrics =
            data.test.count > 0
            ? Evaluation.metrics(
                outputs: withoutGradient { model(data.test.x) }, data: data.test, target: data.preprocessor.target)
            : [:]
        try trial.study.storage.setAttribute(
            trial.number, key: "test_metrics", value: String(decoding: try jsonData(testMetrics), as: UTF8.self))
        pendingBest = (
            TrainRun(settings: settings.applying(specification, c), command: "tune search: trial \(trial.number)"),
            TrainOutcome(
                model: model, result: result, preprocessor: data.preprocessor, specification: specification,
                testMetrics: testMetrics, baselineLoss: Baseline.validationLoss(data),
                rows: (data.train.count, data.validation.count, data.test.count), notes: data.notes)
        )
        return value
    }
}

/// A trial whose drawn settings do not go together (warmup longer than the run, say): recorded as failed.
struct InvalidTrial: Error, CustomStringConvertible {
    let reason: String
    var description: String { "invalid settings: \(reason)" }
}

/// A trial whose training diverged: recorded as failed with the trainer's reason.
struct TrialDiverged: Error, CustomStringConvertible {
    let reason: String
    var description: String { "diverged: \(reason)" }
}

/// Reports the monitored validation value after each epoch and stops the training when the pruner says so.
final class TrialReporter: TrainingCallback {
    let trial: Trial
    let monitor: MetricName
    var pruned = false
    var error: (any Error)?

    init(trial: Trial, monitor: MetricName) {
        self.trial = trial
        self.monitor = monitor
    }

    func value(_ record: EpochRecord) -> Double? {
        record.metrics[monitor.rawValue].flatMap { $0.isFinite ? $0 : nil }
    }

    func epochEnded(_ record: EpochRecord, history: History) -> Bool {
        do {
            try trial.report(value(record) ?? .nan, step: record.epoch)
            pruned = try trial.shouldPrune()
        } catch {
            self.error = error
            return false
        }
        return !pruned
    }
}
