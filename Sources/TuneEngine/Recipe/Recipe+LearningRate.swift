import Foundation
import TuneData
import TuneDiagnosis
import TuneNN
import TuneReport
import TuneRun
import TuneSearch
import TuneTensor
import TuneTraining

/// Stage 1: the LR range test, a 10x grid around its suggestion, a 3x refinement; early stopping sets the epochs.
extension RecipeStudy {
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
        let snapped = RecipeRun.clampRate(s)
        return (
            snapped,
            String(
                format: "LR range test over 3 seeds suggests %.3g, their median (the seeds differ %.2fx)", snapped,
                result.spread ?? 1),
            ["suggestion": snapped, "spread": result.spread ?? 1], result
        )
    }

    func learningRateStage(_ start: RecipeCandidate, suggestion: Double) throws -> (RecipeStage, RecipeTrial?, Int) {
        var stage = RecipeStage(number: 1, name: "learning rate and epochs")
        let limit = configuration.epochs
        var tried: [Double: RecipeTrial] = [:]
        /// Trains the rates not tried yet, as one batch; the first of the stage is trained whatever the budget.
        func rates(_ rs: [Double]) throws {
            var fresh: [Double] = []
            for r in rs.map(RecipeRun.clampRate) where tried[r] == nil && !fresh.contains(r) { fresh.append(r) }
            let candidates = fresh.map { r -> RecipeCandidate in
                var c = start; c.lr = r; return c
            }
            for (r, t) in zip(fresh, try evaluate(candidates, stage: &stage, epochLimit: limit, force: tried.isEmpty)) {
                if let t { tried[r] = t }
            }
        }
        func rate(_ r: Double) throws -> RecipeTrial? {
            try rates([r])
            return tried[RecipeRun.clampRate(r)]
        }
        func best() -> RecipeTrial? {
            tried.values.filter { $0.value != nil }.sorted { $0.number < $1.number }.reduce(nil) { b, t in
                b.map { better(t, than: $0) ? t : $0 } ?? t
            }
        }
        try rates(RecipeDecisions.firstRates(suggestion))
        // Widen the grid while the best rate is at its edge (at most two decades more each way).
        for _ in 0..<2 {
            guard let b = best(),
                let (r, note) = RecipeDecisions.widening(best: b.candidate.lr, tried: Array(tried.keys))
            else { break }
            stage.notes.append(note)
            guard try rate(r) != nil else { break }
        }
        if let b = best() {
            try rates(RecipeDecisions.refinement(b.candidate.lr))
        }
        guard let winner = best() else {
            stage.decision = "none"
            stage.reason = "every rate failed"
            return (stage, nil, limit)
        }
        stage.winner = winner.number
        let outcome = RecipeDecisions.rateOutcome(
            winner: winner, rates: Array(tried.keys), monitor: monitor.rawValue, patience: patience, limit: limit)
        (stage.decision, stage.reason) = (outcome.decision, outcome.reason)
        stage.notes += outcome.notes
        let epochLimit = outcome.epochLimit
        return (stage, winner, epochLimit)
    }
}

extension RecipeRun {
    /// A rate within 1e-6...1, rounded to 3 significant digits (so that commands and tables stay readable).
    static func clampRate(_ r: Double) -> Double { Double(String(format: "%.3g", min(max(r, 1e-6), 1)))! }
}
