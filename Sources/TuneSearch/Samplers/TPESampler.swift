import Foundation
import TuneRandom

/// The Tree-structured Parzen Estimator (Bergstra et al., 2011) with Optuna's defaults: the first 10 trials drawn at
/// random, then, per parameter, the complete and pruned trials split into the best gamma(n) = min(ceil(0.1 n), 25) and
/// the rest (pruned trials rank after complete ones, so that regions the pruner stopped count as bad, as in Optuna),
/// a Parzen estimator fitted to each (in the unit space, log-aware, with a prior component), 24 candidates drawn from
/// the good one, and the candidate with the highest ratio l(x)/g(x) kept. With `constantLiar`, trials still running
/// count as bad ones, so that parallel workers spread out.
public struct TPESampler: Sampler {
    public let seed: UInt64
    public var startupTrials = 10
    public var candidates = 24
    public var constantLiar = false
    public var priorWeight = 1.0

    public init(seed: UInt64, startupTrials: Int = 10, candidates: Int = 24, constantLiar: Bool = false) {
        self.seed = seed
        self.startupTrials = startupTrials
        self.candidates = candidates
        self.constantLiar = constantLiar
    }

    /// Complete and pruned trials split into the good group (the best gamma(n) complete trials, topped up with the
    /// pruned trials that got furthest, then best at their last step, when too few are complete) and the rest.
    static func split(_ trials: [FrozenTrial], direction: Direction) -> (good: [FrozenTrial], bad: [FrozenTrial]) {
        // Best first; ties by trial number, so that the order never depends on the storage's.
        let complete = trials.filter { $0.state == .complete && $0.value != nil }.sorted {
            direction.isBetter($0.value!, than: $1.value!) || ($0.value! == $1.value! && $0.number < $1.number)
        }
        let pruned = trials.filter { $0.state == .pruned }.sorted { a, b in
            let ra = prunedRank(a, direction), rb = prunedRank(b, direction)
            return ra < rb || (ra == rb && a.number < b.number)
        }
        let goodCount = max(gamma(complete.count + pruned.count), 1)
        let goodComplete = min(goodCount, complete.count)
        let goodPruned = min(goodCount - goodComplete, pruned.count)
        return (
            Array(complete.prefix(goodComplete) + pruned.prefix(goodPruned)),
            Array(complete.dropFirst(goodComplete) + pruned.dropFirst(goodPruned))
        )
    }

    /// A pruned trial's rank (smaller is better): further steps first, then the better last value; NaN last.
    static func prunedRank(_ t: FrozenTrial, _ direction: Direction) -> PrunedRank {
        guard let step = t.lastStep, let value = t.intermediate[step] else { return PrunedRank(step: 1, value: 0) }
        if value.isNaN { return PrunedRank(step: -Double(step), value: .infinity) }
        return PrunedRank(step: -Double(step), value: direction == .minimize ? value : -value)
    }

    struct PrunedRank: Comparable {
        var step: Double, value: Double
        static func < (a: PrunedRank, b: PrunedRank) -> Bool { (a.step, a.value) < (b.step, b.value) }
    }

    /// How many of `n` observations count as good.
    public static func gamma(_ n: Int) -> Int { min(Int((0.1 * Double(n)).rounded(.up)), 25) }

    public func sample(study: Study, trial: FrozenTrial, name: String, distribution: Distribution) throws
        -> ParameterValue
    {
        var rng = generator(seed: seed, trial: trial.number, name: name, salt: 0x7BE)
        let all = try study.trials.filter {
            $0.number != trial.number && $0.distributions[name] == distribution && $0.parameters[name] != nil
        }
        // As Optuna: complete and pruned trials are observations (startup counts both). The good group is the best
        // gamma(n) complete trials, topped up with the pruned trials that got furthest (then best at their last step)
        // when too few are complete; everything else, pruned trials included, is the bad group.
        let observed = all.filter { ($0.state == .complete && $0.value != nil) || $0.state == .pruned }
        guard observed.count >= startupTrials else { return distribution.value(atUnit: uniformDouble(&rng)) }
        let split = Self.split(observed, direction: study.direction)
        let good = split.good.map { $0.parameters[name]! }
        var bad = split.bad.map { $0.parameters[name]! }
        if constantLiar { bad += all.filter { $0.state == .running }.map { $0.parameters[name]! } }

        if case .categorical(let choices) = distribution {
            func weights(_ values: [ParameterValue]) -> [Double] {
                choices.map { c in Double(values.filter { $0 == c }.count) + priorWeight / Double(choices.count) }
            }
            let l = weights(good), g = weights(bad)
            let lSum = l.reduce(0, +), gSum = g.reduce(0, +)
            var best = 0, bestScore = -Double.infinity
            for _ in 0..<candidates {
                var u = uniformDouble(&rng) * lSum, k = 0
                while k < choices.count - 1 && u >= l[k] { u -= l[k]; k += 1 }
                let score = Foundation.log(l[k] / lSum) - Foundation.log(g[k] / gSum)
                if score > bestScore { bestScore = score; best = k }
            }
            return choices[best]
        }
        let below = ParzenEstimator(good.compactMap { distribution.unit($0) }, priorWeight: priorWeight)
        let above = ParzenEstimator(bad.compactMap { distribution.unit($0) }, priorWeight: priorWeight)
        var bestX = 0.5, bestScore = -Double.infinity
        for _ in 0..<candidates {
            let x = below.sample(&rng)
            let score = below.logDensity(x) - above.logDensity(x)
            if score > bestScore { bestScore = score; bestX = x }
        }
        return distribution.value(atUnit: bestX)
    }
}

/// A mixture of normals truncated to [0, 1], one per observation and one wide prior at the centre; each bandwidth is
/// the larger gap to its neighbours, clipped to [1 / min(100, n + 1), 1] (Optuna's rule).
struct ParzenEstimator {
    var mus: [Double] = []
    var sigmas: [Double] = []
    var weights: [Double] = []

    init(_ observations: [Double], priorWeight: Double) {
        let sorted = observations.sorted()
        let minimum = 1 / Double(min(100, observations.count + 1))
        for (i, mu) in sorted.enumerated() {
            let left = i > 0 ? mu - sorted[i - 1] : mu
            let right = i < sorted.count - 1 ? sorted[i + 1] - mu : 1 - mu
            mus.append(mu)
            sigmas.append(min(max(max(left, right), minimum), 1))
            weights.append(1)
        }
        // The prior: centred, as wide as the space, with its own weight.
        mus.append(0.5)
        sigmas.append(1)
        weights.append(priorWeight)
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
    }

    static func normalCDF(_ x: Double) -> Double { 0.5 * Foundation.erfc(-x / 2.0.squareRoot()) }

    func logDensity(_ x: Double) -> Double {
        var p = 0.0
        for k in mus.indices {
            let z = (x - mus[k]) / sigmas[k]
            let mass = Self.normalCDF((1 - mus[k]) / sigmas[k]) - Self.normalCDF(-mus[k] / sigmas[k])
            p +=
                weights[k] * Foundation.exp(-0.5 * z * z)
                / (sigmas[k] * (2 * Double.pi).squareRoot() * max(mass, 1e-12))
        }
        return Foundation.log(max(p, 1e-300))
    }

    func sample(_ rng: inout PhiloxRandom) -> Double {
        var u = uniformDouble(&rng), k = 0
        while k < weights.count - 1 && u >= weights[k] { u -= weights[k]; k += 1 }
        for _ in 0..<100 {
            let (z, _) = rng.nextNormalPair()
            let x = mus[k] + sigmas[k] * Double(z)
            if x >= 0 && x <= 1 { return x }
        }
        return min(max(mus[k], 0), 1)
    }
}
