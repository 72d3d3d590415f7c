import Foundation
import TuneSearch

/// How much of the objective's spread over a study's trials goes with each parameter, one parameter at a time: the
/// correlation ratio η² (eta squared).
///
/// For a parameter, the trials are put in groups that share its value: a categorical or boolean parameter, or a
/// numeric one with at most `maximumBins` distinct values, by value; a numeric one with more values, in
/// `maximumBins` quantile bins of its sorted values (equal values kept in one bin, so a bin may hold more or fewer
/// trials than its share; quantiles do not depend on whether the parameter was searched on a log scale). Then
///
///     η² = Σ_groups n_g (mean_g − mean)² / Σ_trials (value − mean)²
///
/// the share of the objective's variance that lies between the groups: 1 when the parameter's value fixes the
/// objective, 0 when every group has the same mean. It looks at one parameter at a time, so parameters that moved
/// together (as the recipe's stages move them) share credit, and interactions are not separated. It is biased
/// upward with few trials per group: with k groups over n trials, a parameter with no effect scores
/// (k − 1) / (n − 1) on average (for normally distributed noise), reported as `chance`.
public enum ParameterImportance {
    /// One parameter's η² over the trials that have it.
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// The correlation ratio, in [0, 1].
        public var eta2: Double
        /// The number of groups (distinct values or bins) and of trials.
        public var groups: Int
        public var trials: Int
        /// What a parameter with no effect scores on average with as many groups and trials: (groups − 1) / (trials − 1).
        public var chance: Double
        /// Whether the trials were grouped in quantile bins (rather than by value).
        public var binned: Bool
    }

    public static let maximumBins = 5

    /// η² of every parameter that takes at least two values over `trials` (each a parameter set and its objective
    /// value; non-finite values are left out), largest first (ties by name). Empty when fewer than 3 trials or when
    /// the objective is the same in every trial (η² is undefined then).
    public static func eta2(
        _ trials: [(parameters: [String: ParameterValue], value: Double)], maximumBins: Int = maximumBins
    ) -> [Entry] {
        let usable = trials.filter { $0.value.isFinite }
        let names = Set(usable.flatMap { $0.parameters.keys }).sorted()
        var entries: [Entry] = []
        for name in names {
            let having = usable.compactMap { t in t.parameters[name].map { (value: $0, objective: t.value) } }
            guard having.count >= 3 else { continue }
            let keys = groupKeys(having.map(\.value), maximumBins: maximumBins)
            var groups: [String: [Double]] = [:]
            for (key, t) in zip(keys.keys, having) { groups[key, default: []].append(t.objective) }
            guard groups.count >= 2 else { continue }
            let objectives = having.map(\.objective)
            let mean = objectives.reduce(0, +) / Double(objectives.count)
            let total = objectives.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
            guard total > 0 else { continue }
            // Summed in the groups' order, so that the report is the same from run to run.
            let between = groups.keys.sorted().reduce(0.0) { sum, key in
                let g = groups[key]!
                let m = g.reduce(0, +) / Double(g.count)
                return sum + Double(g.count) * (m - mean) * (m - mean)
            }
            entries.append(
                Entry(
                    name: name, eta2: min(max(between / total, 0), 1), groups: groups.count, trials: having.count,
                    chance: Double(groups.count - 1) / Double(having.count - 1), binned: keys.binned))
        }
        return entries.sorted { $0.eta2 != $1.eta2 ? $0.eta2 > $1.eta2 : $0.name < $1.name }
    }

    /// The group of each value: the value itself, or for numbers with more than `maximumBins` distinct values the
    /// quantile bin of its first position among the sorted values (so equal values share a bin).
    static func groupKeys(_ values: [ParameterValue], maximumBins: Int) -> (keys: [String], binned: Bool) {
        let numbers = values.compactMap(\.double)
        guard numbers.count == values.count, numbers.allSatisfy(\.isFinite), Set(numbers).count > maximumBins else {
            return (values.map(\.description), false)
        }
        let sorted = numbers.sorted()
        var first: [Double: Int] = [:]
        for (i, v) in sorted.enumerated() where first[v] == nil { first[v] = i }
        return (numbers.map { "bin \(first[$0]! * maximumBins / sorted.count)" }, true)
    }
}
