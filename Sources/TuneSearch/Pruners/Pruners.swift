import Foundation

/// Decides whether a running trial should stop, from its intermediate values and the other trials'. One method.
public protocol Pruner: Sendable {
    func shouldPrune(study: Study, trial: FrozenTrial) throws -> Bool
    /// The same, with the trial read only if the pruner needs it (a running trial's record is a read of the study).
    func shouldPrune(study: Study, reading trial: () throws -> FrozenTrial) throws -> Bool
}

extension Pruner {
    public func shouldPrune(study: Study, reading trial: () throws -> FrozenTrial) throws -> Bool {
        try shouldPrune(study: study, trial: trial())
    }
}

/// Never prunes.
public struct NoPruner: Pruner {
    public init() {}
    public func shouldPrune(study: Study, trial: FrozenTrial) throws -> Bool { false }
    /// Reads nothing.
    public func shouldPrune(study: Study, reading trial: () throws -> FrozenTrial) throws -> Bool { false }
}

/// Prunes a trial whose best value so far is worse than the given percentile of the other complete trials' values
/// at the same step (Optuna's PercentilePruner); the median pruner is the 50th percentile.
public struct PercentilePruner: Pruner {
    public var percentile: Double
    /// Complete trials needed before anything is pruned.
    public var startupTrials: Int
    /// Steps of a trial before it can be pruned.
    public var warmupSteps: Int
    /// Only every this many steps are judged.
    public var intervalSteps: Int

    public init(percentile: Double, startupTrials: Int = 5, warmupSteps: Int = 0, intervalSteps: Int = 1) {
        precondition(percentile >= 0 && percentile <= 100, "PercentilePruner: percentile must be in 0...100")
        self.percentile = percentile
        self.startupTrials = startupTrials
        self.warmupSteps = warmupSteps
        self.intervalSteps = max(intervalSteps, 1)
    }

    public func shouldPrune(study: Study, trial: FrozenTrial) throws -> Bool {
        guard let step = trial.lastStep, step >= warmupSteps, (step - warmupSteps) % intervalSteps == 0 else {
            return false
        }
        let complete = try study.trials.filter { $0.state == .complete && $0.number != trial.number }
        guard complete.count >= startupTrials else { return false }
        let others = complete.compactMap { $0.intermediate[step] }.filter(\.isFinite)
        guard !others.isEmpty else { return false }
        let values = trial.intermediate.filter { $0.key <= step }.map(\.value).filter(\.isFinite)
        // Only NaN: prune.
        guard let best = study.direction == .minimize ? values.min() : values.max() else { return true }
        // For maximisation the p-th percentile from the top.
        let q = study.direction == .minimize ? percentile : 100 - percentile
        let threshold = Self.percentile(others, q)
        return study.direction == .minimize ? best > threshold : best < threshold
    }

    /// The q-th percentile (0...100) by linear interpolation, as numpy's default.
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        let s = values.sorted()
        let position = q / 100 * Double(s.count - 1)
        let lo = Int(position.rounded(.down)), hi = min(lo + 1, s.count - 1)
        return s[lo] + (s[hi] - s[lo]) * (position - Double(lo))
    }
}

/// The median pruner: PercentilePruner at 50 (Optuna's defaults: 5 startup trials, no warmup).
public func MedianPruner(startupTrials: Int = 5, warmupSteps: Int = 0, intervalSteps: Int = 1) -> PercentilePruner {
    PercentilePruner(
        percentile: 50, startupTrials: startupTrials, warmupSteps: warmupSteps, intervalSteps: intervalSteps)
}

/// Asynchronous successive halving (ASHA, Li et al. 2018; Optuna's SuccessiveHalvingPruner): rung r sits at step
/// minResource * reductionFactor^(minEarlyStoppingRate + r); a trial reaching a rung records its value there (in the
/// study's storage, so that it works across processes) and goes on only if it is among the best
/// 1/reductionFactor of all values recorded at that rung.
public struct SuccessiveHalvingPruner: Pruner {
    public var minResource: Int
    public var reductionFactor: Int
    public var minEarlyStoppingRate: Int

    public init(minResource: Int = 1, reductionFactor: Int = 4, minEarlyStoppingRate: Int = 0) {
        precondition(
            minResource >= 1 && reductionFactor >= 2 && minEarlyStoppingRate >= 0,
            "SuccessiveHalvingPruner: bad settings")
        self.minResource = minResource
        self.reductionFactor = reductionFactor
        self.minEarlyStoppingRate = minEarlyStoppingRate
    }

    /// The step of rung `r`.
    public func rungStep(_ r: Int) -> Int {
        minResource * Int(pow(Double(reductionFactor), Double(minEarlyStoppingRate + r)))
    }

    public func shouldPrune(study: Study, trial: FrozenTrial) throws -> Bool {
        try shouldPrune(study: study, trial: trial, among: { _ in true })
    }

    /// As `shouldPrune(study:trial:)`, with only the trials for which `competes` holds compared at each rung.
    func shouldPrune(study: Study, trial: FrozenTrial, among competes: (FrozenTrial) -> Bool) throws -> Bool {
        guard let step = trial.lastStep, let value = trial.intermediate[step], value.isFinite else {
            return trial.lastStep != nil  // a non-finite value: prune
        }
        var rung = 0
        while trial.attributes["rung_\(rung)"] != nil { rung += 1 }
        guard step >= rungStep(rung) else { return false }
        try study.storage.setAttribute(trial.number, key: "rung_\(rung)", value: String(value))
        let competing = try study.trials.compactMap {
            $0.number == trial.number ? value : competes($0) ? $0.attributes["rung_\(rung)"].flatMap(Double.init) : nil
        }
        guard competing.count > 1 else { return false }
        let keep = max(competing.count / reductionFactor, 1)
        let sorted = competing.sorted { study.direction.isBetter($0, than: $1) }
        return study.direction.isBetter(sorted[keep - 1], than: value)
    }
}

/// Hyperband (Li et al. 2018, as Optuna's HyperbandPruner): several successive-halving brackets side by side, bracket
/// `b` with its first rung at `minResource * reductionFactor^b`, so that some trials are judged early and hard and
/// others late. There are `floor(log_rf(maxResource / minResource)) + 1` brackets; a trial goes to a bracket chosen
/// from its number, in proportion to the bracket's budget `ceil(n * rf^s / (s + 1))` with `s = n - 1 - b`, and is
/// compared only with the trials of its own bracket.
public struct HyperbandPruner: Pruner {
    public var minResource: Int
    public var maxResource: Int
    public var reductionFactor: Int

    public init(minResource: Int = 1, maxResource: Int, reductionFactor: Int = 3) {
        precondition(
            minResource >= 1 && maxResource >= minResource && reductionFactor >= 2, "HyperbandPruner: bad settings")
        self.minResource = minResource
        self.maxResource = maxResource
        self.reductionFactor = reductionFactor
    }

    /// The number of brackets.
    public var bracketCount: Int {
        var n = 1, r = minResource
        while r * reductionFactor <= maxResource { r *= reductionFactor; n += 1 }
        return n
    }

    /// Each bracket's share of the trials, as Optuna allocates them.
    public var bracketBudgets: [Int] {
        let n = bracketCount
        return (0..<n).map { b in
            let s = n - 1 - b
            let power = Int(pow(Double(reductionFactor), Double(s)))
            return (n * power + s) / (s + 1)  // ceil(n * rf^s / (s + 1))
        }
    }

    /// The bracket of trial `number`: a fixed hash of the number into the budgets, the same in every process.
    public func bracket(ofTrial number: Int) -> Int { Self.bracket(ofTrial: number, budgets: bracketBudgets) }

    private static func bracket(ofTrial number: Int, budgets: [Int]) -> Int {
        var x = UInt64(truncatingIfNeeded: number) &+ 0x9E37_79B9_7F4A_7C15  // SplitMix64 finaliser
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        var slot = Int(x % UInt64(budgets.reduce(0, +)))
        for (b, budget) in budgets.enumerated() {
            if slot < budget { return b }
            slot -= budget
        }
        return budgets.count - 1
    }

    public func shouldPrune(study: Study, trial: FrozenTrial) throws -> Bool {
        let budgets = bracketBudgets
        let b = Self.bracket(ofTrial: trial.number, budgets: budgets)
        let halving = SuccessiveHalvingPruner(
            minResource: minResource, reductionFactor: reductionFactor, minEarlyStoppingRate: b)
        return try halving.shouldPrune(
            study: study, trial: trial, among: { Self.bracket(ofTrial: $0.number, budgets: budgets) == b })
    }
}
