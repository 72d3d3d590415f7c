import Foundation
import Testing
@testable import TuneSearch

@Suite("Samplers")
struct SamplerTests {
    func draws(_ sampler: any Sampler, _ distribution: Distribution, _ n: Int) throws -> [ParameterValue] {
        let study = Study(direction: .minimize, sampler: sampler)
        return try (0..<n).map { _ in
            let t = try study.ask()
            let v = try t.suggest("x", distribution)
            try study.tell(t, value: 0)
            return v
        }
    }

    @Test func randomDrawsStayInBoundsFollowTheLogScaleAndRepeatForASeed() throws {
        let log = Distribution.float(low: 1e-5, high: 1e-1, log: true, step: nil)
        let a = try draws(RandomSampler(seed: 1), log, 400), b = try draws(RandomSampler(seed: 1), log, 400)
        #expect(a == b)
        #expect(try a != draws(RandomSampler(seed: 2), log, 400))
        let values = a.map { $0.double! }
        #expect(values.allSatisfy { $0 >= 1e-5 && $0 <= 1e-1 })
        // Log-uniform over four decades: half of the draws below 1e-3 (binomial sd 10 of 400).
        #expect(abs(values.filter { $0 < 1e-3 }.count - 200) < 50)
        let ints = try draws(RandomSampler(seed: 3), .int(low: 4, high: 20, step: 4, log: false), 200).map { $0.int! }
        #expect(Set(ints) == [4, 8, 12, 16, 20])
        let stepped = try draws(RandomSampler(seed: 3), .float(low: 0, high: 1, log: false, step: 0.25), 100).map {
            $0.double!
        }
        #expect(Set(stepped).isSubset(of: [0, 0.25, 0.5, 0.75, 1]))
        let choices: [ParameterValue] = [.string("relu"), .string("swish"), .string("gelu")]
        #expect(Set(try draws(RandomSampler(seed: 4), .categorical(choices), 60)) == Set(choices))
    }

    @Test func theGridVisitsEveryPointOnce() throws {
        let grid = GridSampler(
            ["lr": GridSampler.logGrid(1e-4, 1e-1).map { .double($0) }, "width": [.int(32), .int(64)]], seed: 5)
        #expect(GridSampler.logGrid(1e-5, 1e-1).count == 5)
        #expect(abs(GridSampler.logGrid(1e-5, 1e-1)[2] - 1e-3) < 1e-15)
        let study = Study(direction: .minimize, sampler: grid)
        var seen = Set<[ParameterValue]>()
        for _ in 0..<grid.count {
            let t = try study.ask()
            seen.insert([
                try t.suggest("lr", .float(low: 1e-4, high: 1e-1, log: true, step: nil)),
                try t.suggest("width", .categorical([.int(32), .int(64)]))
            ])
            try study.tell(t, value: 0)
        }
        #expect(seen.count == 8)
    }

    @Test func quasiRandomPointsCoverTheIntervalEvenly() throws {
        func largestGap(_ v: [Double]) -> Double {
            let s = ([0] + v + [1]).sorted()
            return zip(s.dropFirst(), s).map { $0 - $1 }.max()!
        }
        let unit = Distribution.float(low: 0, high: 1, log: false, step: nil)
        let quasi = try draws(QuasiRandomSampler(seed: 1), unit, 64).map { $0.double! }
        let random = try draws(RandomSampler(seed: 1), unit, 64).map { $0.double! }
        #expect(quasi.allSatisfy { $0 >= 0 && $0 <= 1 })
        // A shifted van der Corput sequence leaves gaps of at most 2/64; random points leave gaps near ln(64)/64.
        #expect(largestGap(quasi) <= 2.0 / 64 + 1e-9)
        #expect(largestGap(quasi) < largestGap(random))
        #expect(QuasiRandomSampler.halton(3, base: 2) == 0.75)
    }

    @Test func tpeFindsABetterLearningRateThanRandomSearch() throws {
        // The best learning rate is 1e-3: the objective is the squared distance in decades.
        func bestValue(_ sampler: any Sampler) throws -> Double {
            let study = Study(direction: .minimize, sampler: sampler)
            try study.optimize(trials: 40) { t in
                let lr = try t.suggestFloat("lr", 1e-6, 1, log: true)
                let width = try t.suggestInt("width", 8, 256, log: true)
                return pow(log10(lr) + 3, 2) + pow(log2(Double(width)) - 6, 2) / 4
            }
            return try study.bestTrial!.value!
        }
        let tpe = try (1...5).map { try bestValue(TPESampler(seed: UInt64($0))) }
        let random = try (1...5).map { try bestValue(RandomSampler(seed: UInt64($0))) }
        #expect(tpe.reduce(0, +) < random.reduce(0, +), "TPE \(tpe), random \(random)")
        #expect(try bestValue(TPESampler(seed: 9)) == bestValue(TPESampler(seed: 9)), "deterministic for a seed")
        #expect(TPESampler.gamma(10) == 1 && TPESampler.gamma(100) == 10 && TPESampler.gamma(1000) == 25)
        // The split, as Optuna's: complete trials first by value; pruned ones by furthest step, then last value.
        func t(_ n: Int, _ state: TrialState, _ value: Double?, _ steps: [Double]) -> FrozenTrial {
            var f = FrozenTrial(number: n, state: state)
            f.value = value
            for (i, v) in steps.enumerated() { f.intermediate[i + 1] = v }
            return f
        }
        let twelve =
            [
                t(0, .complete, 0.9, []), t(1, .complete, 0.95, []), t(2, .pruned, nil, [0.5, 0.99]),
                t(3, .pruned, nil, [0.7, 0.8, 0.6]),
                t(4, .pruned, nil, [0.2, 0.3, 0.65])
            ] + (5..<12).map { t($0, .pruned, nil, [0.1]) }
        // gamma(12) = 2: the two complete trials, best first.
        #expect(TPESampler.split(twelve, direction: .maximize).good.map(\.number) == [1, 0])
        // gamma(11) = 2 with one complete trial: it, then the pruned trial that went furthest with the better last value.
        let oneComplete = twelve.filter { $0.number != 1 }
        #expect(TPESampler.split(oneComplete, direction: .maximize).good.map(\.number) == [0, 4])
        let noneComplete = Array(twelve.dropFirst(2)) + [t(12, .pruned, nil, [0.5])]
        #expect(
            TPESampler.split(noneComplete, direction: .maximize).good.map(\.number) == [4, 3],
            "gamma(11) = 2: of the two that reached step 3, 0.65 before 0.6")
        #expect(TPESampler.split(noneComplete, direction: .minimize).good.map(\.number) == [3, 4])
        #expect(TPESampler.split(noneComplete, direction: .maximize).bad.count == 9)
    }
}

@Suite("Pruners on hand-made tables")
struct PrunerTests {
    /// A study with complete trials whose values at step 3 are `values`, and a running trial.
    func study(_ direction: Direction, _ values: [Double], pruner: any Pruner) throws -> (Study, Trial) {
        let s = Study(direction: direction, pruner: pruner)
        for v in values {
            let t = try s.ask()
            try t.report(v, step: 3)
            try s.tell(t, value: v)
        }
        return (s, try s.ask())
    }

    @Test func theMedianPrunerComparesWithTheMedianAtTheSameStep() throws {
        var (s, t) = try study(.minimize, [1, 2, 3, 4, 5], pruner: MedianPruner())
        try t.report(3.5, step: 3)
        #expect(try t.shouldPrune())
        (s, t) = try study(.minimize, [1, 2, 3, 4, 5], pruner: MedianPruner())
        try t.report(4, step: 2)
        try t.report(2.5, step: 3)
        #expect(try !t.shouldPrune(), "the best value so far is below the median 3")
        (s, t) = try study(.maximize, [1, 2, 3, 4, 5], pruner: MedianPruner())
        try t.report(2.5, step: 3)
        #expect(try t.shouldPrune())
        (s, t) = try study(.minimize, [1, 2, 3, 4], pruner: MedianPruner())
        try t.report(100, step: 3)
        #expect(try !t.shouldPrune(), "fewer than 5 complete trials: no pruning yet")
        (s, t) = try study(.minimize, [1, 2, 3, 4, 5], pruner: MedianPruner(warmupSteps: 5))
        try t.report(100, step: 3)
        #expect(try !t.shouldPrune(), "still warming up")
        _ = s
    }

    @Test func aPercentilePrunerIsStricterBelowTheMedian() throws {
        // The 25th percentile of 1...5 is 2 (numpy's linear interpolation).
        #expect(PercentilePruner.percentile([1, 2, 3, 4, 5], 25) == 2)
        let (_, t) = try study(.minimize, [1, 2, 3, 4, 5], pruner: PercentilePruner(percentile: 25))
        try t.report(2.5, step: 3)
        #expect(try t.shouldPrune())
    }

    @Test func successiveHalvingKeepsTheBestFractionOfEachRung() throws {
        let s = Study(direction: .minimize, pruner: SuccessiveHalvingPruner(minResource: 1, reductionFactor: 2))
        let a = try s.ask(), b = try s.ask(), c = try s.ask()
        try a.report(0.5, step: 1)
        #expect(try !a.shouldPrune(), "alone at rung 0")
        try b.report(0.9, step: 1)
        #expect(try b.shouldPrune(), "worse than the best half of [0.5, 0.9]")
        try c.report(0.1, step: 1)
        #expect(try !c.shouldPrune())
        #expect(try c.frozen.attributes["rung_0"] == "0.1", "rung values are kept in the study's storage")
        // Rung 1 at step 2.
        try c.report(0.05, step: 2)
        #expect(try !c.shouldPrune())
        try a.report(0.4, step: 2)
        #expect(try a.shouldPrune(), "at rung 1, [0.05, 0.4]: only the best half goes on")
    }

    @Test func hyperbandSplitsTrialsIntoBracketsThatDoNotCompete() throws {
        // Optuna's allocation for min 1, max 81, factor 3: five brackets with budgets ceil(5 * 3^s / (s + 1)),
        // s = 4...0: 81, 135/4 -> 34, 15, 15/2 -> 8, 5.
        let hb = HyperbandPruner(minResource: 1, maxResource: 81, reductionFactor: 3)
        #expect(hb.bracketCount == 5)
        #expect(hb.bracketBudgets == [81, 34, 15, 8, 5])
        #expect(HyperbandPruner(minResource: 1, maxResource: 80, reductionFactor: 3).bracketCount == 4)
        // Trials fall into brackets in proportion to the budgets.
        var counts = [Int](repeating: 0, count: 5)
        for n in 0..<14_300 { counts[hb.bracket(ofTrial: n)] += 1 }
        for (b, budget) in hb.bracketBudgets.enumerated() {
            #expect(abs(Double(counts[b]) / 14_300 - Double(budget) / 143) < 0.015, "bracket \(b): \(counts[b])")
        }
        // Two trials of bracket 0 compete at step 1; a trial of bracket 1 waits for its first rung at step 3 and
        // is not compared with bracket 0's.
        let s = Study(direction: .minimize, pruner: hb)
        var byBracket: [Int: [Trial]] = [:]
        while (byBracket[0]?.count ?? 0) < 2 || byBracket[1] == nil {
            let t = try s.ask()
            byBracket[hb.bracket(ofTrial: t.number), default: []].append(t)
        }
        let (a, b, c) = (byBracket[0]![0], byBracket[0]![1], byBracket[1]![0])
        try a.report(0.1, step: 1)
        #expect(try !a.shouldPrune())
        try b.report(0.5, step: 1)
        #expect(try b.shouldPrune(), "worse than bracket 0's best third at rung 0")
        try c.report(9, step: 1)
        #expect(try !c.shouldPrune(), "bracket 1 judges first at step 3")
        try c.report(9, step: 3)
        #expect(try !c.shouldPrune(), "alone in bracket 1: nothing to lose to")
        #expect(try c.frozen.attributes["rung_0"] == "9.0")
    }
}

@Suite("Studies")
struct StudyTests {
    @Test func failuresPrunedTrialsEnqueuedValuesAndConditionalParameters() throws {
        let study = Study(direction: .maximize, sampler: RandomSampler(seed: 1), pruner: MedianPruner(startupTrials: 0))
        try study.enqueue(["optimizer": .string("sgd"), "momentum": .double(0.9)])
        try study.optimize(trials: 6) { t in
            let optimizer = try t.suggestCategorical("optimizer", [.string("adam"), .string("sgd")])
            if optimizer == .string("sgd") {
                _ = try t.suggestFloat("momentum", 0, 0.99)  // only sgd trials have it
            }
            if t.number == 3 { throw CocoaError(.fileNoSuchFile) }
            if t.number == 4 { throw SearchError.pruned }
            return Double(t.number)
        }
        let trials = try study.trials
        #expect(
            trials[0].parameters == ["optimizer": .string("sgd"), "momentum": .double(0.9)],
            "the enqueued configuration")
        #expect(trials[3].state == .failed && trials[3].failure?.isEmpty == false)
        #expect(trials[4].state == .pruned)
        #expect(
            trials.filter { $0.parameters["momentum"] != nil }.allSatisfy {
                $0.parameters["optimizer"] == .string("sgd")
            })
        #expect(try study.bestTrial?.number == 5)
    }

    @Test func aNameAskedTwiceGivesTheSameValueAndBadRangesAreErrors() throws {
        let study = Study(direction: .minimize)
        let t = try study.ask()
        let a = try t.suggestFloat("lr", 1e-4, 1e-1, log: true)
        #expect(try t.suggestFloat("lr", 1e-4, 1e-1, log: true) == a)
        #expect(throws: SearchError.self) { try t.suggestFloat("lr", 1e-3, 1e-1, log: true) }
        #expect(throws: SearchError.self) { try t.suggestFloat("bad", 0, 1, log: true) }
        #expect(throws: SearchError.self) { try t.suggestInt("empty", 5, 1) }
        try study.tell(t, value: .nan)
        #expect(try study.trials[0].state == .failed, "a NaN objective is a failed trial")
    }
}
