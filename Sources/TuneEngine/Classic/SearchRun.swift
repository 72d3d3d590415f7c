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

/// `tune search` with a classic strategy: a study in `out/study.sqlite` over `space` (by default learning rate on a
/// log scale, width, depth, dropout and activation), each trial trained with the other settings of `tune train` and
/// judged by its best validation metric. Running it again on the same directory resumes the study: finished trials
/// count towards `trials` (a trial queued again counts once, by its retry), and trials left running by a process
/// that stopped (no heartbeat for `staleAfter` seconds) are marked failed and their configurations queued again.
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
    public var budget: Budget?
    public var staleAfter: Double = 120
    /// Processes running trials at once (this one and `jobs - 1` workers started by the caller on the same study):
    /// this process queues trials in the study while the budget allows, every process claims and samples them, and
    /// the sampler counts running trials as bad ones (TPE's constant liar), so that they spread out.
    public var jobs = 1
    /// Where the study is kept when not in `out/study.sqlite` (a study shared with workers on other machines, which
    /// then claim the trials this process queues, as `jobs` workers do).
    public var location: StudyLocation?
    /// Whether trials are queued for other processes: several jobs, or a shared study.
    var queuesTrials: Bool { jobs > 1 || location != nil }
    /// A worker trains the trials another process queues, until `shouldStop` says so (checked between trials).
    public var isWorker = false
    public var shouldStop: () -> Bool = { false }
    /// A worker on a shared study stops when no trial came for this many seconds.
    public var exitWhenIdle: Double?
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
    public static func studyPath(_ out: String) -> String { StudySession.studyPath(out) }

    @discardableResult
    public func run() throws -> SearchSummary {
        // Last of all: what is queued for MLflow is sent (or kept on disk).
        defer { MLflowLog.finish(onNote: onNote) }
        guard settings.out != nil else {
            throw DataError(path: "tune search", "no output directory: pass --out DIR (the study lives there)")
        }
        let (data, base, configuration) = try TrainRun(settings: settings).prepare()
        for note in data.messages { onNote(note) }
        let monitor = configuration.metric ?? MetricName.defaultMonitor(for: data.preprocessor.target.task)
        let direction: Direction = monitor.higherIsBetter ? .maximize : .minimize
        let session = try StudySession(
            settings: settings, direction: direction,
            sampler: strategy.sampler(seed: settings.seed, space: space, parallel: queuesTrials),
            pruner: pruner.pruner(epochs: configuration.epochs), isWorker: isWorker, staleAfter: staleAfter,
            location: location, onNote: onNote)
        if !isWorker {
            try session.failStale(requeue: true, then: "marked failed, their configurations queued again")
            try startTensorBoard(monitor: monitor)
            try session.startParent(
                "search",
                parameters: ["strategy": strategy.rawValue, "pruner": pruner.rawValue, "space": space.description])
        }
        onStudyReady()
        let runner = TrialRunner(session: session, data: data, monitor: monitor, onEpoch: onEpoch)
        let lock = FileLock(path: URL(fileURLWithPath: session.out).appendingPathComponent(".search.lock").path)
        func train(_ trial: Trial) throws {
            let recorded = try session.study.run(trial) { trial in
                try session.timed(trial) {
                    try self.objective(trial, runner: runner, base: base, configuration: configuration)
                }
            }
            try keepIfBest(recorded, study: session.study, lock: lock, out: session.out)
            pendingBest = nil
            onTrial(recorded)
        }
        if isWorker {
            try session.work(train, shouldStop: shouldStop, idleLimit: exitWhenIdle)
            return try summary(session.study, monitor: monitor, direction: direction)
        }
        try trainAll(session, lock: lock, train: train)
        onFinishedOwnTrials()
        return try finish(session, monitor: monitor, direction: direction)
    }

    /// The leader's trials: asked and trained one after the other, or, with `jobs > 1`, queued for every process
    /// (each claims one and samples it) while the budget allows another, until none waits or runs.
    func trainAll(_ session: StudySession, lock: FileLock, train: (Trial) throws -> Void) throws {
        let study = session.study
        // A trial queued again after its process died is counted once, by its retry.
        let existing = try study.trials
        let retriedBefore = Self.retried(existing)
        let finished = existing.filter { $0.state.isFinished && !retriedBefore.contains($0.number) }.count
        if finished > 0 {
            onNote("resuming the study in \(session.studyDescription): \(finished) trials already finished")
        }
        let started = Date()
        let earlierSeconds = Self.finishedSeconds(existing)
        guard queuesTrials else {
            func another() throws -> Trial? {
                try budgetAllowsAnother(try study.trials, started: started, earlierSeconds: earlierSeconds)
                    ? try study.ask() : nil
            }
            while let trial = try lock.holding(another) { try train(trial) }
            return
        }
        try session.serve(
            until: { trials in
                try !trials.contains { $0.state == .waiting || $0.state == .running }
                    && !budgetAllowsAnother(trials, started: started, earlierSeconds: earlierSeconds)
            }, requeue: true, then: "marked failed, their configurations queued again",
            refill: { trials in
                // One empty slot for the processes of --jobs, which claim at once; in a shared study one for each
                // process seen at work lately and one more, so that a worker that just joined finds one.
                let wanted = location == nil ? 1 : StudySession.recentProcesses(trials, within: 2 * staleAfter) + 1
                var waiting = trials.filter { $0.state == .waiting }.count
                while waiting < max(wanted, 1),
                    try budgetAllowsAnother(trials, started: started, earlierSeconds: earlierSeconds, pending: waiting)
                {
                    try study.enqueue([:])
                    waiting += 1
                }
            }, train: train)
    }

    /// The leader's end: the best model from the study when another machine trained it, the summary to summary.json
    /// and the MLflow parent run, and report.html.
    func finish(_ session: StudySession, monitor: MetricName, direction: Direction) throws -> SearchSummary {
        defer { session.parent?.ended(.finished) }
        try BestModelFiles.restore(session)
        let result = try summary(session.study, monitor: monitor, direction: direction)
        try session.finish(summary: try jsonData(result), monitor: monitor, best: result.best?.value)
        return result
    }

    /// The TensorBoard experiment's records: each searched setting, its interval or choices, and the monitor.
    func startTensorBoard(monitor: MetricName) throws {
        guard let directory = settings.tensorboard else { return }
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
    /// once) and `pending` ones queued, against --trials, or what they spent against the budget.
    func budgetAllowsAnother(_ all: [FrozenTrial], started: Date, earlierSeconds: Double, pending: Int = 0) throws
        -> Bool
    {
        let retried = Self.retried(all)
        let counted = all.filter { $0.state != .waiting && !retried.contains($0.number) }.count + pending
        guard let budget else { return counted < trials }
        return !budget.isSpent(
            trials: counted, epochs: all.map { $0.intermediate.count }.reduce(0, +),
            seconds: Date().timeIntervalSince(started) + earlierSeconds)
    }

    /// The best complete trial's model is kept in out/best; the check and the write hold the lock, so that processes
    /// sharing the study never leave a worse model there.
    func keepIfBest(_ recorded: FrozenTrial, study: Study, lock: FileLock, out: String) throws {
        if recorded.state == .complete, let candidate = pendingBest {
            try lock.holding {
                if try study.bestTrial?.number == recorded.number {
                    let best = URL(fileURLWithPath: out).appendingPathComponent("best")
                    try replaceDirectory(best) {
                        try candidate.run.write(
                            candidate.outcome, model: candidate.outcome.model, to: $0, name: "best")
                    }
                    try BestModelFiles.keep(best, trial: recorded, in: study.storage)
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

    /// The last trained trial's model and run, written to out/best if it turns out the best.
    private var pendingBest: (run: TrainRun, outcome: TrainOutcome)?

    /// Called when every trial of the study has ended, before the summary: the caller stops its workers.
    public var onFinishedOwnTrials: () -> Void = {}
    /// Called once the study's file exists (the caller may start workers on it).
    public var onStudyReady: () -> Void = {}

    /// Trains the trial's configuration and returns its best validation value of the monitored metric.
    func objective(_ trial: Trial, runner: TrialRunner, base: MLPSpecification, configuration: TrainingConfiguration)
        throws -> Double
    {
        var specification = base
        var c = configuration
        try space.suggest(trial, specification: &specification, configuration: &c)
        if let problem = c.validationError() ?? specification.validationError() { throw InvalidTrial(reason: problem) }
        let trained = try runner.train(
            trial, specification: specification, configuration: c, parameters: try trial.frozen.parameters)
        if trained.pruned { throw SearchError.pruned }
        let history = trained.result.history
        guard history.status != .diverged else { throw TrialDiverged(reason: history.reason) }
        guard let value = trained.value else {
            throw TrialDiverged(reason: "no epoch had a finite \(runner.monitor.rawValue)")
        }
        // The test metrics are recorded; the model is kept in case it is the best (see `run`).
        let data = runner.data, model = trained.model
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
                model: model, result: trained.result, preprocessor: data.preprocessor, specification: specification,
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
