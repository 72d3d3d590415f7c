import Foundation
import TestSupport
import Testing
@testable import Tune
@testable import TuneEngine
@testable import TuneReport
@testable import TuneRun
import TuneData
import TuneNN
import TuneSearch
import TuneTensor
import TuneTraining
import TuneRandom

/// 300 rows of two moons (noise 0.2) written to moons.csv in a new scratch directory.
func moons(seed: UInt64 = 4) throws -> (dir: URL, data: String) {
    let dir = scratchDirectory()
    let data = dir.appendingPathComponent("moons.csv").path
    var rng = PhiloxRandom(seed: seed)
    let (x, y) = Synthetic.twoMoons(count: 300, noise: 0.2, using: &rng)
    try writeAtomically(Data(Synthetic.csv(x: x, targets: y.map(String.init)).utf8), to: URL(fileURLWithPath: data))
    return (dir, data)
}

@Suite("The staged recipe")
struct RecipeTests {
    func settings(_ data: String, out: URL) -> TrainSettings {
        var s = TrainSettings()
        s.data = data
        s.target = "label"
        s.hidden = [16, 16]
        s.epochs = 12
        s.earlyStop = 4
        s.seed = 3
        s.out = out.path
        return s
    }

    @Test func everyStageRunsInOrderAndFollowsItsRules() throws {
        let (dir, data) = try moons()
        let recipe = RecipeRun(settings: settings(data, out: dir.appendingPathComponent("search")))
        recipe.members = 3
        let s = try recipe.run()
        #expect(s.stages.map(\.number) == [0, 1, 2, 3, 4, 5])
        #expect(s.sanity.passed && s.sanity.batchLossAfter <= max(0.02, s.sanity.batchLossBefore / 20))
        #expect(abs(s.sanity.chanceLoss - log(2.0)) < 1e-12)
        let byNumber = Dictionary(uniqueKeysWithValues: s.trials.map { ($0.number, $0) })
        func value(_ n: Int?) -> Double { n.flatMap { byNumber[$0]?.value } ?? -1 }

        // Stage 1: the 10x grid around the range test's suggestion, then 3x around the best.
        let suggestion = try #require(s.rangeTest["suggestion"])
        let stage1 = s.stages[1].trials.map { byNumber[$0]!.candidate.lr }
        for r in [suggestion, suggestion / 10, suggestion * 10] {
            #expect(stage1.contains { abs($0 / RecipeRun.clampRate(r) - 1) < 1e-9 }, "grid point \(r) in \(stage1)")
        }
        let best1 = byNumber[s.stages[1].winner!]!
        #expect(s.stages[1].trials.allSatisfy { value($0) <= best1.value! }, "the stage's winner has its best value")
        // The refinement: some grid rate g with g/3 and 3g tried too (within 1e-6...1), the winner among the three.
        let refined = stage1.filter { g in
            [g / 3, g * 3].allSatisfy { r in r < 1e-6 || r > 1 || stage1.contains(RecipeRun.clampRate(r)) }
        }
        #expect(
            refined.contains { g in
                [RecipeRun.clampRate(g / 3), g, RecipeRun.clampRate(g * 3)].contains(best1.candidate.lr)
            },
            "3x refinement around the best in \(stage1)")
        // The epoch limit of the later stages: max(2 x peak, peak + patience), at most --epochs.
        let peak = best1.bestEpoch!
        let limit = min(12, max(2 * peak, peak + 4))
        for n in s.stages[2].trials + s.stages[3].trials + s.stages[4].trials {
            #expect(byNumber[n]!.epochLimit == limit)
        }

        // Stage 2: batch sizes around sqrt(N) with the rate scaled by the square root of the batch ratio.
        let root = best1.candidate.batchSize
        #expect(root == BatchSize.auto.resolve(trainingRows: s.rows["train"]!).size)
        for n in s.stages[2].trials {
            let c = byNumber[n]!.candidate
            #expect([root / 2, root * 2, root * 4].contains(c.batchSize))
            let scaled = RecipeRun.clampRate(best1.candidate.lr * (Double(c.batchSize) / Double(root)).squareRoot())
            #expect(
                [scaled, RecipeRun.clampRate(scaled / 3), RecipeRun.clampRate(scaled * 3)].contains(c.lr),
                "lr \(c.lr) for batch \(c.batchSize)")
        }
        // Stage 3 tries the schedules; every stage's winner is at least as good as the one before.
        #expect(
            Set(s.stages[3].trials.map { byNumber[$0]!.candidate.schedule }).isSuperset(of: [.cosine, .step, .onecycle])
        )
        var previous = best1.value!
        for stage in s.stages[2...4] {
            #expect(value(stage.winner) >= previous)
            previous = value(stage.winner)
        }
        #expect(s.best?.value == s.trials.compactMap(\.value).max(), "the best trial is the best of all")

        // Stage 5: members on the same split, the ensemble's numbers consistent with its members.
        let e = try #require(s.ensemble)
        #expect(e.members.count == 3 && e.seeds == [3, 4, 5])
        let mean = e.members.reduce(0, +) / 3
        #expect(abs(e.mean - mean) < 1e-12)
        #expect(abs(e.spread - (e.members.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()) < 1e-12)
        #expect(e.gainExceedsNoise == (e.ensemble - mean > e.spread))
        // The ensemble's AUC, recomputed from the saved members' probabilities on the test rows.
        let prepared = try TrainRun(settings: recipe.settings).prepare().data
        var sum: [Double] = Array(repeating: 0, count: prepared.test.count)
        for seed in e.seeds {
            let p = try Predictor.load(dir.appendingPathComponent("search/ensemble/member-\(seed)").path)
            let probabilities = Evaluation.probabilities(withoutGradient { p.model(prepared.test.x) }, task: .binary)
            for i in sum.indices { sum[i] += probabilities[i][1] / 3 }
        }
        let auc = try #require(Metrics.rocAUC(prepared.test.classes!, sum))
        #expect(abs(auc - e.ensemble) < 1e-9)
        for file in [
            "summary.json", "study.sqlite", "best/model/model.safetensors", "best/metrics.json",
            "ensemble/member-4/history.csv"
        ] {
            #expect(
                FileManager.default.fileExists(atPath: dir.appendingPathComponent("search/\(file)").path), "\(file)")
        }
        // The study holds every trial, complete or failed, with its stage.
        let study = try SQLiteStorage(
            path: SearchRun.studyPath(dir.appendingPathComponent("search").path), direction: .maximize
        ).allTrials()
        #expect(study.count == s.trials.count)
        #expect(study.allSatisfy { $0.attributes["stage"] != nil && $0.state.isFinished })
    }

    @Test func aSecondRunReadsTheStudyBackAndDecidesTheSame() throws {
        let (dir, data) = try moons()
        let out = dir.appendingPathComponent("search")
        let first = RecipeRun(settings: settings(data, out: out))
        first.members = 1
        let a = try first.run()
        let second = RecipeRun(settings: settings(data, out: out))
        second.members = 1
        let b = try second.run()
        #expect(b.trials.allSatisfy { $0.reused })
        #expect(b.trials.map(\.number) == a.trials.map(\.number))
        #expect(b.stages.map(\.decision) == a.stages.map(\.decision))
        #expect(b.best?.number == a.best?.number)
        #expect(b.test == a.test, "the best model trained again from the same seed gives the same test metrics")
    }

    @Test func aResumedSearchCountsTheTimeItsTrialsTookAgainstAMinutesBudget() throws {
        let (dir, data) = try moons()
        let out = dir.appendingPathComponent("search")
        let first = RecipeRun(settings: settings(data, out: out))
        first.members = 1
        let a = try first.run()
        let trained = a.trials.map(\.seconds).reduce(0, +)
        #expect(trained > 0)
        // Half the time the first run's trials took: read back, they spend it, and the rerun stops halfway.
        let second = RecipeRun(settings: settings(data, out: out))
        second.members = 1
        second.budget = Budget(amount: trained / 2 / 60, unit: .minutes)
        let b = try second.run()
        #expect(b.trials.allSatisfy { $0.reused })
        // One after another, the trials' wall-clock time is the sum of their times.
        #expect(abs(try #require(second.last).readBackSeconds - b.trials.map(\.seconds).reduce(0, +)) < 1e-6)
        #expect(b.trials.count < a.trials.count, "\(b.trials.count) of \(a.trials.count) trials")
    }

    @Test func otherSettingsInTheSameDirectoryAreNotReadBackAndQueuedLeftoversAreNotTaken() throws {
        let (dir, data) = try moons()
        let out = dir.appendingPathComponent("search")
        let first = RecipeRun(settings: settings(data, out: out))
        first.members = 1
        let a = try first.run()
        // A configuration left queued by a parallel run that stopped: a sequential run does not take it.
        let storage = try SQLiteStorage(path: SearchRun.studyPath(out.path), direction: .maximize)
        let study = Study(direction: .maximize, sampler: RandomSampler(seed: 0), storage: storage)
        let leftover = try study.enqueue(["lr": .double(0.5)], attributes: ["recipe_key": "left over"])
        var other = settings(data, out: out)
        other.earlyStop = 3
        let second = RecipeRun(settings: other)
        second.members = 1
        let b = try second.run()
        #expect(b.trials.allSatisfy { !$0.reused }, "another patience: every trial trained again")
        #expect(b.trials.first!.number == a.trials.count + 1)
        #expect(try storage.trial(leftover).state == .waiting)
    }

    @Test func theBudgetBoundsTheSearchStages() throws {
        let (dir, data) = try moons()
        let recipe = RecipeRun(settings: settings(data, out: dir.appendingPathComponent("search")))
        recipe.members = 1
        recipe.budget = Budget("6trials")
        let s = try recipe.run()
        #expect(s.trials.count == 6, "the budget is spent, the last stage's local search using what the plan leaves")
        // Stage 1 may use 40% of 6 trials (2, rounded), stages 1 and 2 together 60% (4), and so on.
        #expect(s.stages[1].trials.count <= 2)
        #expect(s.stages[1].trials.count + s.stages[2].trials.count <= 4)
    }

    @Test func aBatchThatCannotBeOverfittedStopsTheSearch() throws {
        // Every row has the same inputs and the labels alternate: no network can fit one batch.
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("same.csv").path
        let rows = (0..<100).map { "1.5,-2,\($0 % 2)" }
        try writeAtomically(Data((["a,b,label"] + rows).joined(separator: "\n").utf8), to: URL(fileURLWithPath: data))
        let recipe = RecipeRun(settings: settings(data, out: dir.appendingPathComponent("search")))
        #expect {
            try recipe.run()
        } throws: { error in
            "\(error)".contains("stage 0 (sanity)") && "\(error)".contains("cannot overfit one batch")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("search/best").path))
    }

    @Test func theInputFreeBaselineIsComputedByHand() {
        let target = Preprocessor.Target(name: "y", task: .binary, classes: ["a", "b"])
        let train = LabeledData(x: Tensor(shape: [4, 1], scalars: [0, 0, 0, 0]), classes: [0, 0, 0, 1])
        let validation = LabeledData(x: Tensor(shape: [3, 1], scalars: [0, 0, 0]), classes: [0, 1, 1])
        let m = RecipeRun.baselineMetrics(train: train, validation: validation, target: target)
        // Probabilities (0.75, 0.25) for every row: class 0 predicted, one in three right; a constant score has AUC 0.5.
        #expect(abs(m["accuracy"]! - 1.0 / 3) < 1e-12)
        #expect(abs(m["auc"]! - 0.5) < 1e-12)
        #expect(abs(m["log_loss"]! - -(log(0.75) + 2 * log(0.25)) / 3) < 1e-12)
        // Regression: the training mean (0 on the standardised scale) for every row.
        let r = Preprocessor.Target(name: "y", task: .regression, mean: 10, standardDeviation: 2)
        let values: [Float] = [1, -1, 0.5]
        let v = LabeledData(x: Tensor(shape: [3, 1], scalars: [0, 0, 0]), values: values)
        let rm = RecipeRun.baselineMetrics(train: v, validation: v, target: r)
        #expect(abs(rm["rmse"]! - 2 * ((1 + 1 + 0.25) / 3.0).squareRoot()) < 1e-6)
    }

    @Test func budgetsParseTrialsEpochsAndMinutes() throws {
        #expect(Budget("30") == Budget(amount: 30, unit: .trials))
        #expect(Budget("800epochs") == Budget(amount: 800, unit: .epochs))
        #expect(Budget("800 e") == Budget(amount: 800, unit: .epochs))
        #expect(Budget("2.5min") == Budget(amount: 2.5, unit: .minutes))
        for bad in ["", "-3", "0", "five", "3 parsecs", "nan"] { #expect(Budget(bad) == nil, "\(bad)") }
        #expect(abs(Budget.stageShares.reduce(0, +) - 1) < 1e-12)
        // Trials are whole; a share of them rounds to whole trials (40% of 7 is 3, of 6 is 2).
        #expect(Budget("2.5") == nil && Budget("2.5trials") == nil)
        let seven = try #require(Budget("7"))
        #expect(seven.isSpent(share: 0.4, trials: 3, epochs: 0, seconds: 0))
        #expect(!seven.isSpent(share: 0.4, trials: 2, epochs: 0, seconds: 0))
        #expect(try #require(Budget("6")).isSpent(share: 0.4, trials: 2, epochs: 0, seconds: 0))
        // Epochs and minutes are not rounded: 40% of 25 epochs is 10; of 2.5 minutes, 60 seconds.
        let epochs = try #require(Budget("25epochs")), minutes = try #require(Budget("2.5min"))
        #expect(!epochs.isSpent(share: 0.4, trials: 0, epochs: 9, seconds: 0))
        #expect(epochs.isSpent(share: 0.4, trials: 0, epochs: 10, seconds: 0))
        #expect(minutes.isSpent(share: 0.4, trials: 0, epochs: 0, seconds: 60))
        #expect(!minutes.isSpent(share: 0.4, trials: 0, epochs: 0, seconds: 59))
    }
}
