import Foundation
import TuneData
import TuneDiagnosis
import TuneNN
import TuneReport
import TuneRun
import TuneSearch
import TuneTensor
import TuneTraining

/// Trials: the budget, each candidate's settings and resume key, training (here or by a worker) and recording.
extension RecipeStudy {
    /// Whether the search stages up to `stage` have spent their cumulative share of the budget.
    func budgetExhausted(stage: Int, pending: Int = 0) -> Bool {
        guard let budget else { return false }
        return budget.isSpent(
            share: Budget.stageShares.prefix(max(0, min(stage, 4))).reduce(0, +), trials: spentTrials + pending,
            epochs: spentEpochs, seconds: Date().timeIntervalSince(started) + readBackSeconds)
    }

    func specification(_ c: RecipeCandidate) -> MLPSpecification {
        var s = base
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
    /// Includes a digest of every setting that shapes training (`TrainSettings.CodingKeys.shapesTraining`: data,
    /// target, split, metric, patience, seed, ...), so that a rerun with other settings in the same directory never
    /// reads back trials trained under the old ones, and a rerun with other output or tracker options does.
    func key(_ c: RecipeCandidate, stage: Int, epochLimit: Int) throws -> String {
        let digest = try shapingDigest ?? fnv1a(try settings.shapingJSON())
        shapingDigest = digest
        return String(
            decoding: try jsonData([
                "stage": String(stage), "epochs": String(epochLimit), "settings": String(digest, radix: 16)
            ]), as: UTF8.self)
            + String(decoding: try jsonData(c), as: UTF8.self)
    }

    /// Trains `candidates` (or reads their finished trials back from the study) and records them under `stage`, in
    /// order. A candidate gets nil when the budget is spent before it (the first is trained anyway when `force`). With
    /// `jobs > 1` or a shared study the batch is queued in the study and trained by every process at once.
    func evaluate(_ candidates: [RecipeCandidate], stage: inout RecipeStage, epochLimit: Int, force: Bool = false)
        throws -> [RecipeTrial?]
    {
        guard options.queuesTrials else {
            return try candidates.enumerated().map { i, c in
                try evaluate(c, stage: &stage, epochLimit: epochLimit, force: force && i == 0)
            }
        }
        var keys: [String?] = []
        var fresh = Set<String>()
        var queued: [String: RecipeCandidate] = [:]
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
            try enqueue(c, key, stage: stage.number, epochLimit: epochLimit, in: all)
        }
        try waitFor(queued, stage: stage.number, epochLimit: epochLimit)
        let all = try study.trials
        return try keys.map { key in
            guard let key, var t = try recorded(key, in: all) else { return nil }
            t.reused = !fresh.contains(key)
            return record(t, stage: &stage)
        }
    }

    /// The recorded trial of `key`, if one finished.
    func recorded(_ key: String, in all: [FrozenTrial]) throws -> RecipeTrial? {
        guard let done = all.last(where: { $0.attributes["recipe_key"] == key && $0.attributes["recipe_trial"] != nil })
        else { return nil }
        guard let t = try? jsonDecoder().decode(RecipeTrial.self, from: Data(done.attributes["recipe_trial"]!.utf8))
        else {
            throw SearchError.storage(path: storage.location, "trial \(done.number): its recipe record is unreadable")
        }
        return t
    }

    /// Trains a trial claimed from the queue, with the candidate, the stage and the epoch limit it was queued with.
    func trainClaimed(_ trial: Trial) throws {
        let frozen = try trial.frozen
        guard let json = frozen.attributes["recipe_candidate"],
            let c = try? JSONDecoder().decode(RecipeCandidate.self, from: Data(json.utf8)),
            let stage = frozen.attributes["stage"].flatMap(Int.init),
            let limit = frozen.attributes["recipe_epochs"].flatMap(Int.init)
        else {
            try study.tell(trial, state: .failed, failure: "a queued trial without its recipe configuration")
            return
        }
        _ = try train(c, trial: trial, stage: stage, epochLimit: limit)
    }

    /// Trains `c` (or reads its finished trial back from the study) and records it under `stage`. Returns nil when
    /// the budget is spent (unless `force`).
    /// Queues `c` under `key` for whichever process is free, unless a trial of it waits or runs.
    func enqueue(_ c: RecipeCandidate, _ key: String, stage: Int, epochLimit: Int, in all: [FrozenTrial]) throws {
        guard
            !all.contains(where: {
                $0.attributes["recipe_key"] == key && ($0.state == .waiting || $0.state == .running)
            })
        else { return }
        try study.enqueue(
            c.parameters,
            attributes: [
                "recipe_key": key, "stage": String(stage),
                "recipe_epochs": String(epochLimit),
                "recipe_candidate": String(decoding: try jsonData(c), as: UTF8.self)
            ])
    }

    /// Works on the queue with the workers until every trial of `queued` is recorded. A trial whose process died
    /// (no heartbeat) is marked failed, and any candidate with neither a record nor a waiting or running trial is
    /// queued again (one still running is not queued a second time).
    func waitFor(_ queued: [String: RecipeCandidate], stage: Int, epochLimit: Int) throws {
        try session.serve(
            until: { all in try queued.keys.allSatisfy { try recorded($0, in: all) != nil } }, requeue: false,
            then: "queued again",
            refill: { now in
                for (key, c) in queued.sorted(by: { $0.key < $1.key }) where try recorded(key, in: now) == nil {
                    try enqueue(c, key, stage: stage, epochLimit: epochLimit, in: now)
                }
            }, train: trainClaimed)
    }

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
    func train(_ c: RecipeCandidate, trial: Trial, stage: Int, epochLimit: Int) throws -> RecipeTrial {
        for (name, value) in c.parameters.sorted(by: { $0.key < $1.key }) {
            _ = try trial.suggest(name, .categorical([value]))
        }
        try storage.setAttribute(trial.number, key: "process", value: String(ProcessInfo.processInfo.processIdentifier))
        var parameters = c.parameters
        parameters["stage"] = .int(stage)
        parameters["epoch_limit"] = .int(epochLimit)
        let runner = TrialRunner(session: session, data: data, monitor: monitor, onEpoch: onEpoch)
        let startedTrial = Date()
        let trained = try session.timed(trial) {
            try runner.train(
                trial, specification: specification(c),
                configuration: trainingConfiguration(c, epochLimit: epochLimit, seed: settings.seed),
                parameters: parameters)
        }
        let result = trained.result
        let history = result.history
        let findings = Doctor().diagnose(trained.curves).map(\.id.rawValue)
        let value = trained.value
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
}
