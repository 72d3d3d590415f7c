import Foundation
import TuneData
import TuneDiagnosis
import TuneNN
import TuneRandom
import TuneReport
import TuneRun
import TuneSearch
import TuneTensor
import TuneTraining

/// Stages 2 to 4: batch size, decay and warmup, regularisation and architecture.
extension RecipeStudy {
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
            let candidates = RecipeDecisions.batchSizes(c0, trainingRows: data.train.count)
            let done = try attempt(candidates)
            var throughput = candidates.compactMap { c in
                done[c].map { String(format: "%d: %.0f rows/s", c.batchSize, $0.samplesPerSecond) }
            }
            throughput.insert(String(format: "%d: %.0f rows/s", c0.batchSize, start.samplesPerSecond), at: 0)
            stage.notes.append("throughput " + throughput.joined(separator: ", "))
            if best.candidate.batchSize != c0.batchSize {
                let chosen = best.candidate
                stage.notes.append(
                    String(
                        format: "batch %d won with the square-root-scaled rate %g: rechecked at 3x either way",
                        chosen.batchSize, chosen.lr))
                _ = try attempt(RecipeDecisions.rateRechecks(chosen))
            }
        case 3:
            _ = try attempt(RecipeDecisions.schedules(c0))
            if let c = RecipeDecisions.warmup(best.candidate, epochLimit: epochLimit) { try attempt(c) }
        default:
            try regularisationAndArchitecture(
                from: start, stage: number, note: { stage.notes.append($0) }, attempt: { try attempt($0) },
                best: { best })
        }
        stage.winner = best.number
        (stage.decision, stage.reason) = RecipeDecisions.outcome(
            start: start, best: best, monitor: monitor.rawValue, kept: summaryOf(c0, stage: number))
        if budgetExhausted(stage: number) { stage.notes.append("budget: the stage's share is spent") }
        return (stage, best)
    }

    /// Stage 4, steered by the doctor on the study's best trial, judged as the reference (its level is the best there
    /// is, so the choice rests on the shape of its curves: the gap, or close and flat curves); then what a --budget
    /// leaves goes to a local search around the best. `attempt` trains candidates; `best` is the best so far.
    func regularisationAndArchitecture(
        from start: RecipeTrial, stage number: Int, note: (String) -> Void,
        attempt: ([RecipeCandidate]) throws -> [RecipeCandidate: RecipeTrial], best: () -> RecipeTrial
    ) throws {
        var findings = Set(start.findings.compactMap(FindingID.init(rawValue:)))
        var closeAndFlat = false
        if let frozen = try? storage.trial(start.number), var curves = StudyCurves.curves(of: frozen) {
            curves.referenceLoss = Level(curves).bestValidationLoss
            curves.referenceSource = "the study's best trial"
            findings = Set(Doctor().diagnose(curves).map(\.id))
            closeAndFlat = Doctor.closeAndFlat(curves, Thresholds()) != nil
        }
        let (overfit, underfit) = RecipeDecisions.direction(findings, closeAndFlat: closeAndFlat)
        RecipeDecisions.directionNotes(overfit: overfit, underfit: underfit).forEach(note)
        // Greedy: each move from the best so far; a move is kept only if it improves.
        for move in RecipeDecisions.moves(overfit: overfit, underfit: underfit) {
            if budgetExhausted(stage: number) { break }
            guard let c = move(best().candidate) else { continue }
            _ = try attempt([c])
        }
        // What a --budget leaves after the planned moves goes to a local search around the best: random
        // perturbations of its rate, width, depth, dropout, weight decay and activation (seeded), two at a time
        // (whatever --jobs, so that the proposals do not depend on it), each kept only if it improves.
        guard budget != nil && !budgetExhausted(stage: number) else { return }
        var rng = PhiloxRandom(seed: settings.seed, stream: 0x10CA1)
        var round = 0, tried = 0
        while !budgetExhausted(stage: number) && round < 200 {
            let proposals = (0..<2).map { _ in Self.perturb(best().candidate, using: &rng) }
            tried += try attempt(proposals).count
            round += 1
        }
        note("the budget left \(tried) local-search trial\(tried == 1 ? "" : "s") around the best")
    }

    /// A random neighbour of `c`: the rate within 3x, and each of width (2x), depth (one layer), dropout, weight
    /// decay (10x) and activation changed with probability 1/3.
    static func perturb(_ c: RecipeCandidate, using rng: inout PhiloxRandom) -> RecipeCandidate {
        func u() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        var n = c
        n.lr = RecipeRun.clampRate(c.lr * Foundation.pow(3, 2 * u() - 1))
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
}
