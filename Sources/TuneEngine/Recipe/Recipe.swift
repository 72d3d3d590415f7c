import Foundation
import TuneData
import TuneDiagnosis
import TuneNN
import TuneReport
import TuneRun
import TuneSearch
import TuneTensor
import TuneTraining

/// The staged recipe, `tune search`'s default strategy: the folk procedure for tuning a network, run and explained.
///
/// 0. Sanity: the untrained network's loss against chance, overfitting one small batch, an input-free baseline. A
///    failure stops the search: tuning a broken pipeline is wasted work.
/// 1. Learning rate and epochs: the LR range test's suggestion (the median over 3 seeds), then a 10x grid around it (widened while the best
///    point sits on its edge), then a 3x refinement around the best; early stopping decides the epochs, and the best
///    run's peak sets the epoch limit of the later stages.
/// 2. Batch size: powers of two around sqrt(N), from half to 4x, each with the learning rate rescaled by the square
///    root of the batch ratio; a new size gets its rate rechecked 3x either way. Throughput is recorded.
/// 3. Decay: cosine, step and one-cycle schedules against the constant rate, then a warmup of about 5% of the epochs.
/// 4. Regularisation and architecture, steered by the doctor's findings on the best run so far: overfitting tries
///    dropout, weight decay (AdamW, log grid) and batch norm; underfitting tries width, depth and Swish; a healthy
///    run tries a little of each. A change is kept only when it improves the validation metric.
/// 5. Seed ensemble: the best configuration retrained with `members` seeds on the same split, probabilities
///    averaged; single models' mean and spread against the ensemble on the test rows.
///
/// Every trial is recorded in `out/study.sqlite` with its stage; running the recipe again on the same directory
/// reads finished trials back instead of training them again, so a stopped search resumes where it was. Each trial
/// trains from the same seed (the comparison is between configurations, not initialisations).
public final class RecipeRun {
    /// The settings; the data check may choose the metric (average precision for a rare positive class).
    public private(set) var settings: TrainSettings
    public var budget: Budget?
    /// Seeds in the final ensemble (0 or 1: no ensemble; the best model is still trained and saved).
    public var members = 5
    public var staleAfter: Double = 120
    /// Processes training at once: this one and `jobs - 1` workers (`work()`) started by the caller on the same
    /// output directory. A stage's independent candidates (the learning-rate grid, the batch sizes, the schedules)
    /// are queued in the study and trained by whichever process is free; every trial trains from the same seed
    /// whoever runs it, so the results and the decisions are those of a sequential run at one BLAS thread (with an
    /// epochs or minutes budget, a stage's last batch may hold a trial or two more).
    public var jobs = 1
    /// Where the study is kept when not in `out/study.sqlite` (a study shared with workers on other machines, which
    /// claim a stage's queued candidates as `jobs` workers do).
    public var location: StudyLocation?
    /// Whether a stage's candidates are queued for other processes: several jobs, or a shared study.
    var queuesTrials: Bool { jobs > 1 || location != nil }
    public var onNote: (String) -> Void = { _ in }
    /// Called at the end of each epoch of this process's trials: the trial's number, the epoch, the history so far
    /// and the trial's epoch limit.
    public var onEpoch: (_ trial: Int, _ record: EpochRecord, _ history: History, _ limit: Int) -> Void = {
        _, _, _, _ in
    }
    public var onTrial: (RecipeTrial) -> Void = { _ in }
    public var onStage: (RecipeStage) -> Void = { _ in }
    /// Called once the study's file exists (the caller may start workers on it).
    public var onStudyReady: () -> Void = {}

    public init(settings: TrainSettings) {
        self.settings = settings
    }

    /// The last run's state, kept to be looked at (what it read back, what it spent).
    private(set) var last: RecipeStudy?

    @discardableResult
    public func run() throws -> RecipeSummary {
        // Last of all: what is queued for MLflow is sent (or kept on disk).
        defer { MLflowLog.finish(onNote: onNote) }
        let recipe = try RecipeStudy(self, isWorker: false)
        settings = recipe.settings
        last = recipe
        return try recipe.run()
    }

    /// A worker: trains the trials the leading process queues in the study until `shouldStop` says so (checked
    /// between trials; `Workers` says so when the leader closes the worker's input).
    /// On a shared study the worker also stops when the leader has finished, or after `idleLimit` seconds without a
    /// trial.
    public func work(shouldStop: () -> Bool, idleLimit: Double? = nil) throws {
        defer { MLflowLog.finish(onNote: onNote) }
        let recipe = try RecipeStudy(self, isWorker: true)
        try recipe.session.work(recipe.trainClaimed, shouldStop: shouldStop, idleLimit: idleLimit)
    }
}

/// One run of the recipe on its study: what it read and chose at the start, and what it has spent since. The
/// stages are its methods (`Recipe+*.swift`); what they decide is in `RecipeDecisions`.
final class RecipeStudy {
    /// What the caller asked for: the budget, the ensemble's size, the jobs and the callbacks.
    let options: RecipeRun
    /// The settings, with the metric the data check may have chosen.
    let settings: TrainSettings
    /// The output directory.
    let out: String
    let data: PreparedData
    /// What the recipe chose because of the data check's findings, one sentence each.
    let dataChoices: [String]
    /// The network and the training configuration of the settings, which the candidates change.
    let base: MLPSpecification
    let configuration: TrainingConfiguration
    let monitor: MetricName
    /// Early stopping's patience in every trial.
    let patience: Int
    /// The study in the output directory.
    let session: StudySession
    var study: Study { session.study }
    var storage: any StudyStorage { session.storage }
    var trials: [RecipeTrial] = []
    var spentTrials = 0, spentEpochs = 0
    /// When the trials read back from the study ran: a resumed search counts the wall-clock time they took (trials
    /// that ran at once counted once) against a minutes budget, as it counts their epochs against an epochs budget.
    var readBackIntervals: [(start: Double, end: Double)] = []
    /// Read-back trials recorded without a start time (older versions): their seconds are added.
    var readBackUntimed = 0.0
    var readBackSeconds: Double { wallSeconds(readBackIntervals) + readBackUntimed }
    let started = Date()

    var direction: Direction { monitor.higherIsBetter ? .maximize : .minimize }
    /// The epochs stage 5 spent on the ensemble.
    var ensembleEpochs = 0
    /// The digest of the settings that shape training, computed once (`settings` does not change).
    var shapingDigest: UInt64?

    func better(_ a: Double?, than b: Double?) -> Bool {
        guard let a else { return false }
        guard let b else { return true }
        return direction.isBetter(a, than: b)
    }

    /// Whether trial `a` beats `b`: a better validation metric, or the same with a lower validation loss.
    func better(_ a: RecipeTrial, than b: RecipeTrial) -> Bool {
        if better(a.value, than: b.value) { return true }
        guard a.value != nil, a.value == b.value else { return false }
        return (a.validationLoss ?? .infinity) < (b.validationLoss ?? .infinity)
    }

    var budget: Budget? { options.budget }
    var members: Int { options.members }
    var jobs: Int { options.jobs }
    var onNote: (String) -> Void { options.onNote }
    var onEpoch: (_ trial: Int, _ record: EpochRecord, _ history: History, _ limit: Int) -> Void { options.onEpoch }
    var onTrial: (RecipeTrial) -> Void { options.onTrial }
    var onStage: (RecipeStage) -> Void { options.onStage }

    /// Reads the data, makes the choices the data check calls for, and opens the study.
    init(_ options: RecipeRun, isWorker: Bool) throws {
        var settings = options.settings
        guard let out = settings.out else { throw DataError(path: "tune search", "no output directory") }
        var prepared = try TrainRun(settings: settings).prepare()
        var dataChoices: [String] = []
        // A rare positive class: selected and compared by average precision, unless --metric says otherwise.
        if let imbalance = prepared.data.dataCheck?.findings.first(where: { $0.id == .imbalance }),
            prepared.data.preprocessor.target.task == .binary, settings.metric == nil
        {
            settings.metric = .averagePrecision
            prepared.configuration.metric = .averagePrecision
            dataChoices.append(
                String(
                    format: "the rarer class is %.2f%% of the rows: the recipe selects and compares models by average "
                        + "precision (ROC AUC hides a rare class's errors), keeps the stratified split, and weights no "
                        + "class (--metric auc to choose otherwise)",
                    100 * (imbalance.evidence["minority_share"] ?? 0)))
        }
        self.options = options
        self.settings = settings
        self.out = out
        self.dataChoices = dataChoices
        data = prepared.data
        base = prepared.specification
        configuration = prepared.configuration
        let monitor = configuration.metric ?? MetricName.defaultMonitor(for: data.preprocessor.target.task)
        self.monitor = monitor
        patience = settings.earlyStop ?? max(5, configuration.epochs / 5)
        session = try StudySession(
            settings: settings, direction: monitor.higherIsBetter ? .maximize : .minimize,
            sampler: RandomSampler(seed: settings.seed), pruner: NoPruner(), isWorker: isWorker,
            staleAfter: options.staleAfter, location: options.location, onNote: options.onNote)
    }

    /// The stages in order, then summary.json and report.html.
    func run() throws -> RecipeSummary {
        var finishedWell = false
        defer { session.parent?.ended(finishedWell ? .finished : .failed) }
        try startTrackers()
        options.onStudyReady()
        for note in data.messages + dataChoices { onNote(note) }
        try session.failStale(requeue: false, then: "marked failed, to be trained again")
        let (sanity, stage0) = try stageZero()
        var stages = [stage0]
        let (stage1, found, epochLimit, rangeTest) = try stageOne(sanity: sanity, out: out)
        stages.append(stage1)
        var bestTrial = found
        for stageNumber in 2...4 {
            var stage: RecipeStage
            (stage, bestTrial) = try searchStage(stageNumber, from: bestTrial, epochLimit: epochLimit)
            stages.append(stage)
            onStage(stage)
        }
        // Stage 5: the best model, and the ensemble.
        let incumbent = bestTrial.candidate
        let (ensemble, test, stage5) = try ensembleStage(
            incumbent, epochLimit: epochLimit, out: URL(fileURLWithPath: out))
        stages.append(stage5)
        onStage(stage5)
        let summary = RecipeSummary(
            monitor: monitor.rawValue, direction: direction.rawValue, task: data.preprocessor.target.task.rawValue,
            rows: ["train": data.train.count, "validation": data.validation.count, "test": data.test.count],
            budget: budget?.description, data: data.dataCheck, sanity: sanity, rangeTest: rangeTest,
            stages: stages, trials: trials,
            best: bestTrial, bestSettings: settings(for: incumbent, epochLimit: epochLimit).redacted, test: test,
            ensemble: ensemble,
            spent: [
                "trials": Double(spentTrials), "epochs": Double(spentEpochs),
                "trained_trials": Double(trials.filter { !$0.reused }.count),
                "ensemble_epochs": Double(ensembleEpochs), "seconds": Date().timeIntervalSince(started)
            ])
        try write(summary, out: out)
        finishedWell = true
        return summary
    }

    /// The MLflow parent run and the TensorBoard experiment's records, when asked for.
    func startTrackers() throws {
        try session.startParent(
            "recipe",
            parameters: ["strategy": "recipe", "budget": budget?.description ?? "none", "members": String(members)])
        if let directory = settings.tensorboard {
            let names = RecipeCandidate.parameterNames + ["stage", "epoch_limit"]
            try TensorBoardLog.experiment(
                directory: URL(fileURLWithPath: directory), parameters: names.map { ($0, nil) },
                monitor: monitor.rawValue)
        }
    }

    /// Stage 0: the sanity checks and the data check's summary; a failed check stops the recipe.
    func stageZero() throws -> (SanityReport, RecipeStage) {
        let sanity = self.sanity()
        let stage0 = RecipeDecisions.sanityStage(sanity, dataCheck: data.dataCheck, choices: dataChoices)
        onStage(stage0)
        guard sanity.passed else {
            throw RecipeStopped(stage: "stage 0 (sanity)", message: RecipeDecisions.sanityStop(sanity))
        }
        return (sanity, stage0)
    }

    /// Stage 1 from the settings' network: the LR range test (its sweeps written to lr_range_test.csv), the rate
    /// grid and the epochs; stops the recipe when no rate trains or the best does no better than the input-free
    /// baseline. Returns the stage, its best trial, the epoch limit of the later stages and the range test's values.
    func stageOne(sanity: SanityReport, out: String) throws -> (RecipeStage, RecipeTrial, Int, [String: Double]) {
        let width = base.hiddenSizes.max() ?? 64
        let incumbent = RecipeCandidate(
            lr: settings.lr, batchSize: configuration.batchSize.resolve(trainingRows: data.train.count).size,
            schedule: .constant, warmup: 0, dropout: 0, batchnorm: false, activation: settings.activation,
            width: width, depth: base.hiddenSizes.count, weightDecay: 0,
            optimizer: settings.optimizer == .adamw ? .adam : settings.optimizer)
        let rangeTest = rangeTestSuggestion(incumbent)
        try writeAtomically(
            Data(rangeTest.sweeps.csv().utf8), to: URL(fileURLWithPath: out).appendingPathComponent("lr_range_test.csv")
        )
        var (stage1, best, epochLimit) = try learningRateStage(incumbent, suggestion: rangeTest.suggestion)
        stage1.notes.insert(rangeTest.note, at: 0)
        onStage(stage1)
        guard let found = best else {
            throw RecipeStopped(
                stage: "stage 1 (learning rate)",
                message:
                    "no learning rate trained without diverging: check the data's scale and the pipeline (tune doctor on a run)"
            )
        }
        if let b = sanity.baseline[monitor.rawValue], !better(found.value, than: b) {
            throw RecipeStopped(
                stage: "stage 1 (learning rate)",
                message: RecipeDecisions.baselineStop(best: found.value, baseline: b, monitor: monitor.rawValue))
        }
        return (stage1, found, epochLimit, rangeTest.values)
    }

    /// Writes summary.json and report.html, and gives the trackers the summary, the table and the report.
    func write(_ summary: RecipeSummary, out: String) throws {
        let table = RecipeTable.render(summary)
        try session.finish(
            summary: try jsonData(summary), monitor: monitor, best: summary.best?.value, test: summary.test,
            artifacts: [("recipe.txt", Data(table.utf8))])
        if let directory = settings.tensorboard {
            let log = try TensorBoardLog(directory: URL(fileURLWithPath: directory))
            log.text("recipe", "```\n" + table + "\n```")
            if let problem = log.problem { onNote("TensorBoard: \(problem)") }
        }
    }
}

extension MLPSpecification {
    func with(dropout: Float) -> MLPSpecification {
        var s = self
        s.dropout = dropout
        return s
    }
}
