import Foundation
import TuneData
import TuneDiagnosis
import TuneNN
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
    public var budget: RecipeBudget?
    /// Seeds in the final ensemble (0 or 1: no ensemble; the best model is still trained and saved).
    public var members = 5
    public var staleAfter: Double = 120
    /// Processes training at once: this one and `jobs - 1` workers (`work()`) started by the caller on the same
    /// output directory. A stage's independent candidates (the learning-rate grid, the batch sizes, the schedules)
    /// are queued in the study and trained by whichever process is free; every trial trains from the same seed
    /// whoever runs it, so the results and the decisions are those of a sequential run at one BLAS thread (with an
    /// epochs or minutes budget, a stage's last batch may hold a trial or two more).
    public var jobs = 1
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

    // The run's state.
    private var data: PreparedData!
    /// What the recipe chose because of the data check's findings, one sentence each.
    private var dataChoices: [String] = []
    private var base: MLPSpecification!
    private var configuration = TrainingConfiguration()
    private var monitor = MetricName.auc
    private var study: Study!
    private var storage: (any StudyStorage)!
    private var trials: [RecipeTrial] = []
    private var spentTrials = 0, spentEpochs = 0
    /// When the trials read back from the study ran: a resumed search counts the wall-clock time they took (trials
    /// that ran at once counted once) against a minutes budget, as it counts their epochs against an epochs budget.
    private var readBackIntervals: [(start: Double, end: Double)] = []
    /// Read-back trials recorded without a start time (older versions): their seconds are added.
    private var readBackUntimed = 0.0
    var readBackSeconds: Double { wallSeconds(readBackIntervals) + readBackUntimed }
    private var started = Date()
    private var patience = 10

    private var direction: Direction { monitor.higherIsBetter ? .maximize : .minimize }
    private var mlflowParent: MLflowLog?
    /// The MLflow run the trials nest under (the leader's parent run; read from the output directory by workers).
    private var parentRun: String?

    private func better(_ a: Double?, than b: Double?) -> Bool {
        guard let a else { return false }
        guard let b else { return true }
        return direction.isBetter(a, than: b)
    }

    /// Whether trial `a` beats `b`: a better validation metric, or the same with a lower validation loss.
    private func better(_ a: RecipeTrial, than b: RecipeTrial) -> Bool {
        if better(a.value, than: b.value) { return true }
        guard a.value != nil, a.value == b.value else { return false }
        return (a.validationLoss ?? .infinity) < (b.validationLoss ?? .infinity)
    }

    @discardableResult
    public func run() throws -> RecipeSummary {
        // Last of all: what is queued for MLflow is sent (or kept on disk).
        defer { MLflowLog.finish(onNote: onNote) }
        let out = try setUp()
        if MLflowLog.server(settings) != nil {
            mlflowParent = MLflowLog.start(
                settings, name: "recipe \(URL(fileURLWithPath: out).lastPathComponent)",
                parameters: ["strategy": "recipe", "budget": budget?.description ?? "none", "members": String(members)],
                tags: ["data": settings.data ?? "", "target": settings.target ?? ""], onNote: onNote)
            try MLflowLog.writeParent(mlflowParent, out: out)
        }
        var finishedWell = false
        defer { mlflowParent?.finish(finishedWell ? "FINISHED" : "FAILED") }
        if let directory = settings.tensorboard {
            let names = RecipeCandidate.parameterNames + ["stage", "epoch_limit"]
            try TensorBoardLog.experiment(
                directory: URL(fileURLWithPath: directory), parameters: names.map { ($0, nil) },
                monitor: monitor.rawValue)
        }
        onStudyReady()
        for note in data.notes + dataChoices { onNote(note) }
        for line in data.dataCheck?.lines ?? [] { onNote("data check " + line) }
        let stale = try storage.failStaleTrials(olderThan: staleAfter)
        if !stale.isEmpty {
            onNote(
                "trials \(stale.map(String.init).joined(separator: ", ")) were left running by a process that stopped: marked failed, to be trained again"
            )
        }

        // Stage 0.
        let sanity = self.sanity()
        var stage0 = RecipeStage(number: 0, name: "sanity")
        stage0.decision = sanity.passed ? "passed" : "failed"
        stage0.reason = sanity.messages.joined(separator: "; ")
        if let check = data.dataCheck {
            let counted = Dictionary(grouping: check.findings, by: \.id).map { "\($0.key.rawValue) \($0.value.count)" }
                .sorted()
            stage0.notes.append(
                "data check: " + (counted.isEmpty ? "no findings" : counted.joined(separator: ", "))
                    + (check.excluded.isEmpty
                        ? "" : "; identifiers left out: " + check.excluded.joined(separator: ", ")))
        }
        stage0.notes += dataChoices
        onStage(stage0)
        guard sanity.passed else {
            throw RecipeStopped(
                stage: "stage 0 (sanity)",
                message: sanity.messages.filter { $0.hasPrefix("FAIL: ") }.map { String($0.dropFirst(6)) }.joined(
                    separator: "; "))
        }

        // Stage 1.
        let width = base.hiddenSizes.max() ?? 64
        var incumbent = RecipeCandidate(
            lr: settings.lr, batchSize: configuration.batchSize.resolve(trainingRows: data.train.count).size,
            schedule: .constant, warmup: 0, dropout: 0, batchnorm: false, activation: settings.activation,
            width: width, depth: base.hiddenSizes.count, weightDecay: 0,
            optimizer: settings.optimizer == .adamw ? .adam : settings.optimizer)
        let rangeTest = rangeTestSuggestion(incumbent)
        try writeAtomically(
            Data(rangeTest.sweeps.csv().utf8), to: URL(fileURLWithPath: out).appendingPathComponent("lr_range_test.csv")
        )
        var stages = [stage0]
        var (stage1, best, epochLimit) = try learningRateStage(incumbent, suggestion: rangeTest.suggestion)
        stage1.notes.insert(rangeTest.note, at: 0)
        stages.append(stage1)
        onStage(stage1)
        guard let found = best else {
            throw RecipeStopped(
                stage: "stage 1 (learning rate)",
                message:
                    "no learning rate trained without diverging: check the data's scale and the pipeline (tune doctor on a run)"
            )
        }
        var bestTrial = found
        incumbent = bestTrial.candidate
        let baselineValue = sanity.baseline[monitor.rawValue]
        if let b = baselineValue, !better(bestTrial.value, than: b) {
            throw RecipeStopped(
                stage: "stage 1 (learning rate)",
                message: String(
                    format:
                        "the best network (validation %@ %.4f) does no better than a model that ignores the inputs (%.4f): the inputs may not predict the target, or the target column is wrong",
                    monitor.rawValue, bestTrial.value ?? .nan, b))
        }

        // Stages 2 to 4.
        for stageNumber in 2...4 {
            var stage: RecipeStage
            (stage, bestTrial) = try searchStage(stageNumber, from: bestTrial, epochLimit: epochLimit)
            incumbent = bestTrial.candidate
            stages.append(stage)
            onStage(stage)
        }

        // Stage 5: the best model, and the ensemble.
        let (ensemble, test, stage5) = try ensembleStage(
            incumbent, epochLimit: epochLimit, out: URL(fileURLWithPath: out))
        stages.append(stage5)
        onStage(stage5)

        let summary = RecipeSummary(
            monitor: monitor.rawValue, direction: direction.rawValue, task: data.preprocessor.target.task.rawValue,
            rows: ["train": data.train.count, "validation": data.validation.count, "test": data.test.count],
            budget: budget?.description, data: data.dataCheck, sanity: sanity, rangeTest: rangeTest.values,
            stages: stages, trials: trials,
            best: bestTrial, bestSettings: settings(for: incumbent, epochLimit: epochLimit).redacted, test: test,
            ensemble: ensemble,
            spent: [
                "trials": Double(spentTrials), "epochs": Double(spentEpochs),
                "trained_trials": Double(trials.filter { !$0.reused }.count),
                "ensemble_epochs": Double(ensembleEpochs), "seconds": Date().timeIntervalSince(started)
            ])
        let summaryJSON = try jsonData(summary), table = RecipeTable.render(summary)
        try writeAtomically(summaryJSON, to: URL(fileURLWithPath: out).appendingPathComponent("summary.json"))
        let report = try HTMLReport.write(URL(fileURLWithPath: out))
        if let parent = mlflowParent {
            parent.artifact("report.html", report)
            if let best = bestTrial.value { parent.metrics(["best_\(monitor.rawValue)": best]) }
            parent.metrics(Dictionary(uniqueKeysWithValues: test.map { ("test_\($0.key)", $0.value) }))
            parent.artifact("summary.json", summaryJSON)
            parent.artifact("recipe.txt", Data(table.utf8))
        }
        if let directory = settings.tensorboard {
            let log = try TensorBoardLog(directory: URL(fileURLWithPath: directory))
            log.text("recipe", "```\n" + table + "\n```")
            if let problem = log.problem { onNote("TensorBoard: \(problem)") }
        }
        finishedWell = true
        return summary
    }

    /// Reads the data and opens the study; returns the output directory.
    private func setUp() throws -> String {
        guard let out = settings.out else { throw DataError(path: "tune search", "no output directory") }
        started = Date()
        var prepared = try TrainRun(settings: settings).prepare()
        dataChoices = []
        // A rare positive class: selected and compared by average precision, unless --metric says otherwise.
        if let imbalance = prepared.data.dataCheck?.findings.first(where: { $0.id == .imbalance }),
            prepared.data.preprocessor.target.task == .binary, settings.metric == nil
        {
            settings.metric = .averagePrecision
            prepared.configuration.metric = .averagePrecision
            dataChoices.append(
                String(
                    format:
                        "the rarer class is %.2f%% of the rows: the recipe selects and compares models by average precision (ROC AUC hides a rare class's errors), keeps the stratified split, and weights no class (--metric auc to choose otherwise)",
                    100 * (imbalance.evidence["minority_share"] ?? 0)))
        }
        data = prepared.data
        base = prepared.specification
        configuration = prepared.configuration
        monitor = configuration.metric ?? MetricName.defaultMonitor(for: data.preprocessor.target.task)
        patience = settings.earlyStop ?? max(5, configuration.epochs / 5)
        try createOutputDirectory(out)
        storage = try SQLiteStorage(path: SearchRun.studyPath(out), direction: direction)
        study = Study(
            direction: direction, sampler: RandomSampler(seed: settings.seed), pruner: NoPruner(), storage: storage)
        return out
    }

    /// A worker: trains the trials the leading process queues in the study, until `shouldStop` says so.
    public func work(shouldStop: () -> Bool) throws {
        defer { MLflowLog.finish(onNote: onNote) }
        let out = try setUp()
        parentRun = MLflowLog.readParent(out: out)
        while !shouldStop() {
            if try !trainQueued() { Thread.sleep(forTimeInterval: 0.02) }
        }
    }

    /// Which way a finding on the best run steers stage 4.
    enum Lean { case regularise, capacity, neither }

    /// Stage 4's reading of each finding; every identifier is listed, so a new finding needs a decision here.
    static func lean(_ id: FindingID) -> Lean {
        switch id {
        case .overfitting, .valLossUpMetricOK:
            return .regularise
        case .underfitting, .notLearning, .lrTooLow, .possibleUnderfitting:
            return .capacity
        case .lrTooHigh, .badInit, .noisy, .stillImproving, .metricLossDisagree, .gradients, .explodingGradients,
            .vanishingGradients, .healthy, .noProblemVisible, .tooFewEpochs, .identifier, .leak, .strongSingleColumn,
            .sortedTarget, .duplicateRows, .conflictingLabels, .imbalance, .constantColumn, .nearConstantColumn,
            .mostlyMissing, .highCardinality, .numericAsText, .skewedTarget:
            return .neither
        }
    }

    // MARK: stage 0

    func sanity() -> SanityReport {
        let target = data.preprocessor.target
        let task = target.task
        var messages: [String] = []
        var passed = true
        // The untrained network's loss against chance.
        let model = MLP(base.with(dropout: 0), seed: settings.seed)
        model.eval()
        let initial = Double(
            withoutGradient { Evaluation.loss(outputs: model(data.train.x), data: data.train, task: task) }.scalar)
        let chance: Double
        switch task {
        case .binary: chance = log(2.0)
        case .multiclass: chance = log(Double(target.classes?.count ?? 2))
        case .regression: chance = 1  // the variance of the standardised target
        }
        if !initial.isFinite || initial > 10 * chance {
            passed = false
            messages.append(
                String(
                    format:
                        "FAIL: the untrained network's loss is %.3g, over 10x chance (%.3g): inputs far from unit scale or a broken output layer",
                    initial, chance))
        } else if initial > 2 * chance {
            messages.append(
                String(
                    format:
                        "warning: the untrained network's loss %.3g is over 2x chance (%.3g): the initial predictions are confidently wrong",
                    initial, chance))
        } else {
            messages.append(String(format: "initial loss %.3f against chance %.3f", initial, chance))
        }
        // Overfit one small batch: a working pipeline drives its loss to near zero.
        let rows = Array(0..<min(16, data.train.count))
        let batch = data.train.rows(rows)
        var before = 0.0, after = Double.infinity, steps = 0, rate = 0.0
        for (learningRate, budget) in [(1e-2, 300), (1e-3, 600)] {
            let net = MLP(base.with(dropout: 0), seed: settings.seed)
            net.train()
            let optimizer = Optimizer(for: net, rule: Adam(), schedule: .constant(learningRate))
            before = Double(withoutGradient { Evaluation.loss(outputs: net(batch.x), data: batch, task: task) }.scalar)
            for step in 1...budget {
                let (_, gradients) = optimizer.valueAndGradients {
                    Evaluation.loss(outputs: net(batch.x), data: batch, task: task)
                }
                optimizer.step(gradients)
                steps = step
                if step % 50 == 0 || step == budget {
                    net.eval()
                    after = Double(
                        withoutGradient { Evaluation.loss(outputs: net(batch.x), data: batch, task: task) }.scalar)
                    net.train()
                    if after <= Self.overfitTarget(before) { break }
                }
            }
            rate = learningRate
            if after <= Self.overfitTarget(before) { break }
        }
        if after <= Self.overfitTarget(before) {
            messages.append(
                String(
                    format: "one batch of %d rows overfitted: loss %.3g to %.3g in %d steps at lr %g", rows.count,
                    before, after, steps, rate))
        } else {
            passed = false
            messages.append(
                String(
                    format:
                        "FAIL: the network cannot overfit one batch of %d rows (loss %.3g to %.3g at best): identical inputs with different targets, or a bug between data and loss",
                    rows.count, before, after))
        }
        let baseline = Self.baselineMetrics(train: data.train, validation: data.validation, target: target)
        if let b = baseline[monitor.rawValue] {
            messages.append(String(format: "input-free baseline: validation %@ %.4f", monitor.rawValue, b))
        }
        return SanityReport(
            initialLoss: initial, chanceLoss: chance, batchRows: rows.count, batchLossBefore: before,
            batchLossAfter: after,
            batchSteps: steps, batchLearningRate: rate, baseline: baseline, passed: passed, messages: messages)
    }

    /// Near zero: a twentieth of the starting loss, or 0.02.
    static func overfitTarget(_ before: Double) -> Double { max(0.02, before / 20) }

    /// The validation metrics of a model that ignores its inputs: the training class frequencies for every row, or
    /// the training mean.
    public static func baselineMetrics(train: LabeledData, validation: LabeledData, target: Preprocessor.Target)
        -> [String: Double]
    {
        switch target.task {
        case .binary, .multiclass:
            guard let classes = train.classes else { return [:] }
            let k = target.task == .binary ? 2 : (target.classes?.count ?? 2)
            var counts = [Double](repeating: 0, count: k)
            for c in classes where c < k { counts[c] += 1 }
            let p = counts.map { $0 / Double(max(classes.count, 1)) }
            return Evaluation.metrics(
                probabilities: Array(repeating: p, count: validation.count), data: validation, target: target)
        case .regression:
            return Evaluation.metrics(
                predictions: Array(repeating: 0, count: validation.count), data: validation, target: target)
        }
    }

    // MARK: stage 1

    /// The LR range test over 3 seeds: the recipe's starting rate (their median, clamped and rounded), the stage's note,
    /// the values for the summary and the sweeps themselves (written to `lr_range_test.csv` for the report).
    func rangeTestSuggestion(_ c: RecipeCandidate) -> (
        suggestion: Double, note: String, values: [String: Double], sweeps: LRRangeTest.Result
    ) {
        var test = LRRangeTest()
        test.seeds = [settings.seed, settings.seed &+ 1, settings.seed &+ 2]
        var cfg = configuration
        cfg.batchSize = .fixed(c.batchSize)
        cfg.optimizer = c.optimizer
        let result = test.run(
            specification: specification(c), train: data.train, target: data.preprocessor.target, configuration: cfg)
        guard let s = result.median else {
            return (
                settings.lr, "the LR range test gave no suggestion: the grid is centred on --lr \(settings.lr)", [:],
                result
            )
        }
        let snapped = Self.clampRate(s)
        return (
            snapped,
            String(
                format: "LR range test over 3 seeds suggests %.3g, their median (the seeds differ %.2fx)", snapped,
                result.spread ?? 1),
            ["suggestion": snapped, "spread": result.spread ?? 1], result
        )
    }

    /// A rate within 1e-6...1, rounded to 3 significant digits (so that commands and tables stay readable).
    static func clampRate(_ r: Double) -> Double { Double(String(format: "%.3g", min(max(r, 1e-6), 1)))! }

    func learningRateStage(_ start: RecipeCandidate, suggestion: Double) throws -> (RecipeStage, RecipeTrial?, Int) {
        var stage = RecipeStage(number: 1, name: "learning rate and epochs")
        let limit = configuration.epochs
        var tried: [Double: RecipeTrial] = [:]
        /// Trains the rates not tried yet, as one batch; the first of the stage is trained whatever the budget.
        func rates(_ rs: [Double]) throws {
            var fresh: [Double] = []
            for r in rs.map(Self.clampRate) where tried[r] == nil && !fresh.contains(r) { fresh.append(r) }
            let candidates = fresh.map { r -> RecipeCandidate in
                var c = start; c.lr = r; return c
            }
            for (r, t) in zip(fresh, try evaluate(candidates, stage: &stage, epochLimit: limit, force: tried.isEmpty)) {
                if let t { tried[r] = t }
            }
        }
        func rate(_ r: Double) throws -> RecipeTrial? {
            try rates([r])
            return tried[Self.clampRate(r)]
        }
        func best() -> RecipeTrial? {
            tried.values.filter { $0.value != nil }.sorted { $0.number < $1.number }.reduce(nil) { b, t in
                b.map { better(t, than: $0) ? t : $0 } ?? t
            }
        }
        try rates([suggestion, suggestion / 10, suggestion * 10])
        // Widen the grid while the best rate is at its edge (at most two decades more each way).
        for _ in 0..<2 {
            guard let b = best(), let lo = tried.keys.min(), let hi = tried.keys.max() else { break }
            if b.candidate.lr == lo, lo > 1e-6 {
                stage.notes.append(String(format: "the best rate %g is the grid's lowest: widened to %g", lo, lo / 10))
                guard try rate(lo / 10) != nil else { break }
            } else if b.candidate.lr == hi, hi < 1 {
                stage.notes.append(String(format: "the best rate %g is the grid's highest: widened to %g", hi, hi * 10))
                guard try rate(hi * 10) != nil else { break }
            } else {
                break
            }
        }
        if let b = best() {
            try rates([b.candidate.lr / 3, b.candidate.lr * 3])
        }
        guard let winner = best() else {
            stage.decision = "none"
            stage.reason = "every rate failed"
            return (stage, nil, limit)
        }
        let peak = winner.bestEpoch ?? winner.epochsRun
        let epochLimit = min(limit, max(2 * peak, peak + patience))
        stage.winner = winner.number
        stage.decision = String(format: "lr %.3g; epochs up to %d", winner.candidate.lr, epochLimit)
        let grid = tried.keys.sorted().map { String(format: "%.3g", $0) }.joined(separator: ", ")
        stage.reason = String(
            format:
                "best validation %@ %.4f (loss %.4g) of rates {%@}; its best epoch was %d of %d (early stopping after %d without improvement)",
            monitor.rawValue, winner.value!, winner.validationLoss ?? .nan, grid, peak, winner.epochsRun, patience)
        if winner.status == RunStatus.completed.rawValue && peak >= winner.epochsRun - 1 {
            stage.notes.append("the best run was still improving at --epochs \(limit): a larger --epochs may help")
        }
        return (stage, winner, epochLimit)
    }

    // MARK: stages 2 to 4

    func searchStage(_ number: Int, from start: RecipeTrial, epochLimit: Int) throws -> (RecipeStage, RecipeTrial) {
        var stage = RecipeStage(
            number: number, name: ["", "", "batch size", "decay and warmup", "regularisation and architecture"][number])
        var best = start
        let c0 = start.candidate
        /// Trains the candidates not tried yet in this stage, as one batch; the best so far follows.
        func attempt(_ cs: [RecipeCandidate]) throws -> [RecipeCandidate: RecipeTrial] {
            var fresh: [RecipeCandidate] = []
            for c in cs
            where c != best.candidate && !fresh.contains(c)
                && !trials.contains(where: { $0.candidate == c && $0.epochLimit == epochLimit && $0.stage == number })
            {
                fresh.append(c)
            }
            var done: [RecipeCandidate: RecipeTrial] = [:]
            for (c, t) in zip(fresh, try evaluate(fresh, stage: &stage, epochLimit: epochLimit)) {
                guard let t else { continue }
                done[c] = t
                if better(t, than: best) { best = t }
            }
            return done
        }
        func attempt(_ c: RecipeCandidate) throws { _ = try attempt([c]) }
        switch number {
        case 2:
            let n = data.train.count
            let root = c0.batchSize
            var sizes: [Int] = []
            for s in [root / 2, root * 2, root * 4] where s >= 2 && s <= n && s != root { sizes.append(s) }
            let candidates = sizes.map { s -> RecipeCandidate in
                var c = c0
                c.batchSize = s
                c.lr = Self.clampRate(c0.lr * (Double(s) / Double(root)).squareRoot())
                return c
            }
            let done = try attempt(candidates)
            var throughput = candidates.compactMap { c in
                done[c].map { String(format: "%d: %.0f rows/s", c.batchSize, $0.samplesPerSecond) }
            }
            throughput.insert(String(format: "%d: %.0f rows/s", root, start.samplesPerSecond), at: 0)
            stage.notes.append("throughput " + throughput.joined(separator: ", "))
            if best.candidate.batchSize != root {
                let chosen = best.candidate
                stage.notes.append(
                    String(
                        format: "batch %d won with the square-root-scaled rate %g: rechecked at 3x either way",
                        chosen.batchSize, chosen.lr))
                _ = try attempt(
                    [1.0 / 3, 3.0].map { factor in
                        var c = chosen
                        c.lr = Self.clampRate(chosen.lr * factor)
                        return c
                    })
            }
        case 3:
            _ = try attempt(
                [ScheduleKind.cosine, .step, .onecycle].map { schedule in
                    var c = c0
                    c.schedule = schedule
                    return c
                })
            if best.candidate.schedule != .onecycle {
                var c = best.candidate
                c.warmup = max(1, Int((0.05 * Double(epochLimit)).rounded()))
                if c.warmup < epochLimit { try attempt(c) }
            }
        default:
            // The study's best trial is the reference: judged against it (itself), its level is the best there is,
            // so the choice rests on the shape of its curves: the gap (overfitting), or close and flat curves (the
            // hypothesis of underfitting, which the capacity moves test).
            var findings = Set(start.findings.compactMap(FindingID.init(rawValue:)))
            var closeAndFlat = false
            if let frozen = try? storage.trial(start.number), var curves = StudyCurves.curves(of: frozen) {
                curves.referenceLoss = Level(curves).bestValidationLoss
                curves.referenceSource = "the study's best trial"
                findings = Set(Doctor().diagnose(curves).map(\.id))
                closeAndFlat = Doctor.closeAndFlat(curves, Thresholds()) != nil
            }
            let leans = Set(findings.map(Self.lean))
            let overfit = leans.contains(.regularise)
            let underfit = leans.contains(.capacity) || (closeAndFlat && !overfit)
            if overfit { stage.notes.append("the doctor found overfitting in the best run: regularisation first") }
            if underfit {
                stage.notes.append(
                    "the doctor found underfitting in the best run (or its curves close together and flat): capacity first"
                )
            }
            if !overfit && !underfit {
                stage.notes.append("the doctor found neither over- nor underfitting in the best run: a little of each")
            }
            var moves: [(RecipeCandidate) -> RecipeCandidate?] = []
            let dropouts: [Float] = overfit ? [0.1, 0.3, 0.5] : [0.1]
            let decays: [Double] = overfit ? [1e-4, 1e-3, 1e-2] : [1e-4]
            let regularise: [(RecipeCandidate) -> RecipeCandidate?] =
                dropouts.map { d in
                    { c in
                        var c = c; c.dropout = d; return c
                    }
                }
                + decays.map { w in
                    { c in
                        var c = c; c.weightDecay = w; if c.optimizer == .adam { c.optimizer = .adamw }; return c
                    }
                }
                + [
                    { c in
                        var c = c; c.batchnorm = true; return c
                    }
                ]
            let capacity: [(RecipeCandidate) -> RecipeCandidate?] = [
                { c in
                    var c = c; c.activation = c.activation == .swish ? .relu : .swish; return c
                },
                { c in
                    c.width >= 1024
                        ? nil
                        : {
                            var c = c; c.width *= 2; return c
                        }()
                },
                { c in
                    c.depth >= 4
                        ? nil
                        : {
                            var c = c; c.depth += 1; return c
                        }()
                }
            ]
            moves = underfit && !overfit ? capacity + regularise : regularise + capacity
            // Greedy: each move from the best so far; a move is kept only if it improves.
            for move in moves {
                if budgetExhausted(stage: number) { break }
                guard let c = move(best.candidate) else { continue }
                try attempt(c)
            }
            // What a --budget leaves after the planned moves goes to a local search around the best: random
            // perturbations of its rate, width, depth, dropout, weight decay and activation (seeded), two at a time
            // (whatever --jobs, so that the proposals do not depend on it), each kept only if it improves.
            if budget != nil && !budgetExhausted(stage: number) {
                var rng = PhiloxRandom(seed: settings.seed, stream: 0x10CA1)
                var round = 0, tried = 0
                while !budgetExhausted(stage: number) && round < 200 {
                    let proposals = (0..<2).map { _ in Self.perturb(best.candidate, using: &rng) }
                    let done = try attempt(proposals)
                    tried += done.count
                    round += 1
                }
                stage.notes.append(
                    "the budget left \(tried) local-search trial\(tried == 1 ? "" : "s") around the best")
            }
        }
        stage.winner = best.number
        if best.number == start.number {
            stage.decision = "kept: " + summaryOf(c0, stage: number)
            stage.reason = String(format: "nothing beat validation %@ %.4f", monitor.rawValue, start.value ?? .nan)
        } else {
            stage.decision = best.candidate.changes(from: c0)
            stage.reason = String(
                format: "validation %@ %.4f against %.4f", monitor.rawValue, best.value ?? .nan, start.value ?? .nan)
            if best.value == start.value {
                stage.reason += String(
                    format: ", a tie broken by the lower validation loss (%.4g against %.4g)",
                    best.validationLoss ?? .nan, start.validationLoss ?? .nan)
            }
        }
        if budgetExhausted(stage: number) { stage.notes.append("budget: the stage's share is spent") }
        return (stage, best)
    }

    /// A random neighbour of `c`: the rate within 3x, and each of width (2x), depth (one layer), dropout, weight
    /// decay (10x) and activation changed with probability 1/3.
    static func perturb(_ c: RecipeCandidate, using rng: inout PhiloxRandom) -> RecipeCandidate {
        func u() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        var n = c
        n.lr = clampRate(c.lr * Foundation.pow(3, 2 * u() - 1))
        if u() < 1.0 / 3 { n.width = max(4, min(1024, u() < 0.5 ? c.width / 2 : c.width * 2)) }
        if u() < 1.0 / 3 { n.depth = max(1, min(4, c.depth + (u() < 0.5 ? -1 : 1))) }
        if u() < 1.0 / 3 { n.dropout = [0, 0.1, 0.2, 0.3, 0.5][Int(u() * 5) % 5] }
        if u() < 1.0 / 3 {
            n.weightDecay = c.weightDecay == 0 ? 1e-4 : (u() < 0.5 ? c.weightDecay / 10 : min(c.weightDecay * 10, 0.1))
            if n.weightDecay > 0 && n.optimizer == .adam { n.optimizer = .adamw }
        }
        if u() < 1.0 / 3 { n.activation = c.activation == .swish ? .relu : .swish }
        return n
    }

    func summaryOf(_ c: RecipeCandidate, stage: Int) -> String {
        switch stage {
        case 2: return "batch \(c.batchSize)"
        case 3: return "\(c.schedule.rawValue) schedule, warmup \(c.warmup)"
        default:
            return
                "dropout \(c.dropout), weight decay \(c.weightDecay), \(c.batchnorm ? "batch norm" : "no batch norm"), \(c.activation.rawValue) \(c.depth)x\(c.width)"
        }
    }

    // MARK: trials

    /// Whether the search stages up to `stage` have spent their cumulative share of the budget.
    func budgetExhausted(stage: Int, pending: Int = 0) -> Bool {
        guard let budget else { return false }
        let share = RecipeBudget.stageShares.prefix(max(0, min(stage, 4))).reduce(0, +)
        let allowed = share * budget.amount
        switch budget.unit {
        case .trials: return Double(spentTrials + pending) >= allowed.rounded()
        case .epochs: return Double(spentEpochs) >= allowed
        case .minutes: return (Date().timeIntervalSince(started) + readBackSeconds) / 60 >= allowed
        }
    }

    func specification(_ c: RecipeCandidate) -> MLPSpecification {
        var s = base!
        s.hiddenSizes = Array(repeating: c.width, count: c.depth)
        s.activation = c.activation
        s.dropout = c.dropout
        s.batchNorm = c.batchnorm ? .beforeActivation : .none
        return s
    }

    func trainingConfiguration(_ c: RecipeCandidate, epochLimit: Int, seed: UInt64) -> TrainingConfiguration {
        var t = configuration
        t.learningRate = c.lr
        t.batchSize = .fixed(c.batchSize)
        t.schedule = c.schedule
        t.warmupEpochs = c.warmup
        t.weightDecay = c.weightDecay
        t.optimizer = c.optimizer
        t.epochs = epochLimit
        t.earlyStoppingPatience = patience
        t.seed = seed
        return t
    }

    /// The candidate as `tune train` settings.
    func settings(for c: RecipeCandidate, epochLimit: Int) -> TrainSettings {
        settings.applying(specification(c), trainingConfiguration(c, epochLimit: epochLimit, seed: settings.seed))
    }

    /// The key under which a trial is recorded, so that a resumed search finds it.
    /// Includes a digest of every setting that shapes training (data, target, split, metric, patience, seed, ...),
    /// so that a rerun with other settings in the same directory never reads back trials trained under the old ones.
    /// The digest of the settings that shape training, computed once (`settings` does not change).
    private var shapingDigest: UInt64?

    func key(_ c: RecipeCandidate, stage: Int, epochLimit: Int) throws -> String {
        let digest =
            try shapingDigest
            ?? {
                var shaping = settings
                shaping.out = nil
                shaping.tensorboard = nil
                shaping.mlflow = nil
                shaping.mlflowExperiment = nil
                let d = fnv1a(try jsonData(shaping))
                shapingDigest = d
                return d
            }()
        return String(
            decoding: try jsonData([
                "stage": String(stage), "epochs": String(epochLimit), "settings": String(digest, radix: 16)
            ]), as: UTF8.self)
            + String(decoding: try jsonData(c), as: UTF8.self)
    }

    /// Trains `candidates` (or reads their finished trials back from the study) and records them under `stage`, in
    /// order. A candidate gets nil when the budget is spent before it (the first is trained anyway when `force`). With
    /// `jobs > 1` the batch is queued in the study and trained by every process at once.
    func evaluate(_ candidates: [RecipeCandidate], stage: inout RecipeStage, epochLimit: Int, force: Bool = false)
        throws -> [RecipeTrial?]
    {
        guard jobs > 1 else {
            return try candidates.enumerated().map { i, c in
                try evaluate(c, stage: &stage, epochLimit: epochLimit, force: force && i == 0)
            }
        }
        var keys: [String?] = []
        var fresh = Set<String>()
        var queued: [String: RecipeCandidate] = [:]
        /// Queues `c` under `key` unless a trial of it waits or runs.
        func enqueue(_ c: RecipeCandidate, _ key: String, in all: [FrozenTrial]) throws {
            guard
                !all.contains(where: {
                    $0.attributes["recipe_key"] == key && ($0.state == .waiting || $0.state == .running)
                })
            else { return }
            try study.enqueue(
                c.parameters,
                attributes: [
                    "recipe_key": key, "stage": String(stage.number),
                    "recipe_epochs": String(epochLimit),
                    "recipe_candidate": String(decoding: try jsonData(c), as: UTF8.self)
                ])
        }
        for (i, c) in candidates.enumerated() {
            if !(force && i == 0) && budgetExhausted(stage: stage.number, pending: keys.compactMap { $0 }.count) {
                keys.append(nil)
                continue
            }
            let key = try key(c, stage: stage.number, epochLimit: epochLimit)
            keys.append(key)
            let all = try study.trials
            guard try recorded(key, in: all) == nil else { continue }
            fresh.insert(key)
            queued[key] = c
            try enqueue(c, key, in: all)
        }
        // Work on the queue with the workers until every trial of the batch is recorded. A trial whose process died
        // (no heartbeat) is marked failed, and any candidate with neither a record nor a waiting or running trial is
        // queued again.
        while true {
            let all = try study.trials
            let missing = try queued.filter { try recorded($0.key, in: all) == nil }
            if missing.isEmpty { break }
            if try trainQueued() { continue }
            let stale = try storage.failStaleTrials(olderThan: staleAfter)
            if !stale.isEmpty {
                onNote(
                    "trials \(stale.map(String.init).joined(separator: ", ")) were left running by a process that stopped: queued again"
                )
            }
            // Read again only when stale trials changed the study; a trial that finished since is recorded then, not
            // to be queued a second time (and one still running in `all` is not queued again either).
            let now = stale.isEmpty ? all : try study.trials
            for (key, c) in missing.sorted(by: { $0.key < $1.key }) where try recorded(key, in: now) == nil {
                try enqueue(c, key, in: now)
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let all = try study.trials
        return try keys.map { key in
            guard let key, var t = try recorded(key, in: all) else { return nil }
            t.reused = !fresh.contains(key)
            return record(t, stage: &stage)
        }
    }

    /// The recorded trial of `key`, if one finished.
    private func recorded(_ key: String, in all: [FrozenTrial]) throws -> RecipeTrial? {
        guard let done = all.last(where: { $0.attributes["recipe_key"] == key && $0.attributes["recipe_trial"] != nil })
        else { return nil }
        guard let t = try? jsonDecoder().decode(RecipeTrial.self, from: Data(done.attributes["recipe_trial"]!.utf8))
        else {
            throw SearchError.storage(path: storage.location, "trial \(done.number): its recipe record is unreadable")
        }
        return t
    }

    /// Claims one queued trial and trains it; false when none waits.
    private func trainQueued() throws -> Bool {
        guard let trial = try study.claimWaiting() else { return false }
        let frozen = try trial.frozen
        guard let json = frozen.attributes["recipe_candidate"],
            let c = try? JSONDecoder().decode(RecipeCandidate.self, from: Data(json.utf8)),
            let stage = frozen.attributes["stage"].flatMap(Int.init),
            let limit = frozen.attributes["recipe_epochs"].flatMap(Int.init)
        else {
            try study.tell(trial, state: .failed, failure: "a queued trial without its recipe configuration")
            return true
        }
        _ = try train(c, trial: trial, stage: stage, epochLimit: limit)
        return true
    }

    /// Trains `c` (or reads its finished trial back from the study) and records it under `stage`. Returns nil when
    /// the budget is spent (unless `force`).
    func evaluate(_ c: RecipeCandidate, stage: inout RecipeStage, epochLimit: Int, force: Bool = false) throws
        -> RecipeTrial?
    {
        if !force && budgetExhausted(stage: stage.number) { return nil }
        let key = try key(c, stage: stage.number, epochLimit: epochLimit)
        if var t = try recorded(key, in: try study.trials) {
            t.reused = true
            return record(t, stage: &stage)
        }
        let trial = try study.newTrial()
        try storage.setAttribute(trial.number, key: "recipe_key", value: key)
        try storage.setAttribute(trial.number, key: "stage", value: String(stage.number))
        return record(try train(c, trial: trial, stage: stage.number, epochLimit: epochLimit), stage: &stage)
    }

    /// Trains `c` as `trial` and records the outcome in the study.
    private func train(_ c: RecipeCandidate, trial: Trial, stage: Int, epochLimit: Int) throws -> RecipeTrial {
        for (name, value) in c.parameters.sorted(by: { $0.key < $1.key }) {
            _ = try trial.suggest(name, .categorical([value]))
        }
        try storage.setAttribute(trial.number, key: "process", value: String(ProcessInfo.processInfo.processIdentifier))
        let reporter = TrialReporter(trial: trial, monitor: monitor)
        let trainer = Trainer(configuration: trainingConfiguration(c, epochLimit: epochLimit, seed: settings.seed))
        trainer.callbacks = [reporter]
        var parameters = c.parameters
        parameters["stage"] = .int(stage)
        parameters["epoch_limit"] = .int(epochLimit)
        let board = try TensorBoardLog.trial(settings.tensorboard, number: trial.number, parameters: parameters)
        let mlflow = (parentRun ?? mlflowParent?.run).flatMap {
            MLflowLog.start(
                settings, name: "trial \(trial.number)", parent: $0, parameters: MLflowLog.parameters(parameters),
                onNote: onNote)
        }
        let staleAfter = self.staleAfter
        trainer.onStep = { _, _, _, _ in trial.keepAlive(staleAfter: staleAfter) }
        let onEpoch = self.onEpoch, number = trial.number
        trainer.onEpoch = {
            board?.epoch($0, history: $1); mlflow?.epoch($0); onEpoch(number, $0, $1, epochLimit)
        }
        let startedTrial = Date()
        let result = trainer.fit(
            MLP(specification(c), seed: settings.seed), train: data.train, validation: data.validation,
            target: data.preprocessor.target)
        board?.sessionEnd(success: result.history.status != .diverged)
        mlflow?.finish(result.history.status == .diverged ? "FAILED" : "FINISHED")
        if let problem = board?.problem { onNote("TensorBoard: \(problem)") }
        if let error = reporter.error { throw error }
        let history = result.history
        let curves = Curves(result: result, data: data, settings: parameters.mapValues(\.description))
        try StudyCurves.store(curves, trial: trial.number, in: storage)
        let findings = Doctor().diagnose(curves).map(\.id.rawValue)
        let value = history.bestEpoch.flatMap { reporter.value(history.epochs[$0 - 1]) }
        let failure: String? =
            history.status == .diverged
            ? "diverged: \(history.reason)" : (value == nil ? "no epoch had a finite \(monitor.rawValue)" : nil)
        let speeds = history.epochs.map(\.samplesPerSecond)
        let t = RecipeTrial(
            number: trial.number, stage: stage, candidate: c, value: failure == nil ? value : nil,
            validationLoss: history.bestEpoch.map { history.epochs[$0 - 1].validationLoss },
            bestEpoch: history.bestEpoch, epochsRun: history.epochs.count, epochLimit: epochLimit,
            status: history.status.rawValue, reason: history.reason,
            samplesPerSecond: speeds.isEmpty ? 0 : speeds.reduce(0, +) / Double(speeds.count),
            seconds: Date().timeIntervalSince(startedTrial), startedAt: startedTrial.timeIntervalSince1970,
            findings: findings, failure: failure)
        try storage.setAttribute(
            trial.number, key: "recipe_trial", value: String(decoding: try jsonData(t), as: UTF8.self))
        if let failure {
            try study.tell(trial, state: .failed, failure: failure)
        } else {
            try study.tell(trial, value: t.value!)
        }
        return t
    }

    func record(_ t: RecipeTrial, stage: inout RecipeStage) -> RecipeTrial {
        var t = t
        t.stage = stage.number
        trials.append(t)
        stage.trials.append(t.number)
        spentTrials += 1
        spentEpochs += t.epochsRun
        if t.reused {
            if let start = t.startedAt {
                readBackIntervals.append((start, start + t.seconds))
            } else {
                readBackUntimed += t.seconds
            }
        }
        onTrial(t)
        return t
    }

    // MARK: stage 5

    private var ensembleEpochs = 0

    func ensembleStage(_ c: RecipeCandidate, epochLimit: Int, out: URL) throws -> (
        EnsembleReport?, [String: Double], RecipeStage
    ) {
        var stage = RecipeStage(number: 5, name: "seed ensemble")
        let seeds = (0..<UInt64(max(members, 1))).map { settings.seed &+ $0 }
        let ensemble = SeedEnsemble(
            data: data, specification: specification(c),
            configuration: trainingConfiguration(c, epochLimit: epochLimit, seed: settings.seed), seeds: seeds)
        let runSettings = settings(for: c, epochLimit: epochLimit)
        let result = try ensemble.run(
            settings: runSettings, out: out, bestDirectory: "best", membersDirectory: members > 1 ? "ensemble" : nil)
        ensembleEpochs = result.epochs
        // With no test rows the members are scored on the validation rows: not reported as test metrics.
        let test = data.test.count > 0 ? result.memberTestMetrics.first ?? [:] : [:]
        guard members > 1, let report = result.report else {
            stage.decision = "best model saved in \(out.appendingPathComponent("best").path)"
            stage.reason = "no ensemble asked (--members \(members))"
            return (nil, test, stage)
        }
        stage.decision = report.gainExceedsNoise ? "use the ensemble of \(seeds.count)" : "a single model is enough"
        stage.reason = report.sentence
        return (report, test, stage)
    }
}

extension MLPSpecification {
    func with(dropout: Float) -> MLPSpecification {
        var s = self
        s.dropout = dropout
        return s
    }
}
