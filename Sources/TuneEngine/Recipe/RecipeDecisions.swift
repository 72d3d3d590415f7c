import Foundation
import TuneDiagnosis
import TuneNN
import TuneReport
import TuneRun
import TuneTraining

/// The recipe's decisions as pure functions of what it knows: the candidates each stage proposes from the best so
/// far, how stage 4 reads the doctor's findings, and how a stage's outcome is worded. Tested on hand-made inputs,
/// without training anything (RecipeDecisionTests).
enum RecipeDecisions {
    /// A change stage 4 may try on the best candidate so far (nil: it does not apply, such as a fifth layer).
    typealias Move = (RecipeCandidate) -> RecipeCandidate?

    /// Stage 2: batch sizes of half, 2x and 4x the size near sqrt(N) (those within 2...N), each with the rate
    /// rescaled by the square root of the ratio.
    static func batchSizes(_ c0: RecipeCandidate, trainingRows n: Int) -> [RecipeCandidate] {
        let root = c0.batchSize
        let sizes = [root / 2, root * 2, root * 4].filter { $0 >= 2 && $0 <= n && $0 != root }
        return sizes.map { s in
            var c = c0
            c.batchSize = s
            c.lr = RecipeRun.clampRate(c0.lr * (Double(s) / Double(root)).squareRoot())
            return c
        }
    }

    /// Stage 2: a batch size that won with its scaled rate has the rate rechecked at 3x either way.
    static func rateRechecks(_ chosen: RecipeCandidate) -> [RecipeCandidate] {
        [1.0 / 3, 3.0].map { factor in
            var c = chosen
            c.lr = RecipeRun.clampRate(chosen.lr * factor)
            return c
        }
    }

    /// Stage 3: cosine, step and one-cycle schedules against the constant rate.
    static func schedules(_ c0: RecipeCandidate) -> [RecipeCandidate] {
        [ScheduleKind.cosine, .step, .onecycle].map { schedule in
            var c = c0
            c.schedule = schedule
            return c
        }
    }

    /// Stage 3: a warmup of about 5% of the epochs (at least one) on the best schedule; none after one-cycle, which
    /// warms up by itself, or when it would take every epoch.
    static func warmup(_ best: RecipeCandidate, epochLimit: Int) -> RecipeCandidate? {
        guard best.schedule != .onecycle else { return nil }
        var c = best
        c.warmup = max(1, Int((0.05 * Double(epochLimit)).rounded()))
        return c.warmup < epochLimit ? c : nil
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

    /// Stage 4: whether the best run overfits (a finding that leans to regularising) or underfits (one that leans to
    /// capacity, or curves close together and flat without overfitting).
    static func direction(_ findings: Set<FindingID>, closeAndFlat: Bool) -> (overfit: Bool, underfit: Bool) {
        let leans = Set(findings.map(lean))
        let overfit = leans.contains(.regularise)
        return (overfit, leans.contains(.capacity) || (closeAndFlat && !overfit))
    }

    /// Stage 4's note on the direction it takes.
    static func directionNotes(overfit: Bool, underfit: Bool) -> [String] {
        var notes: [String] = []
        if overfit { notes.append("the doctor found overfitting in the best run: regularisation first") }
        if underfit {
            notes.append(
                "the doctor found underfitting in the best run (or its curves close together and flat): capacity first")
        }
        if !overfit && !underfit {
            notes.append("the doctor found neither over- nor underfitting in the best run: a little of each")
        }
        return notes
    }

    /// Stage 4's moves in the order they are tried, each from the best so far: overfitting tries dropout 0.1, 0.3
    /// and 0.5 and weight decay 1e-4 to 1e-2 (Adam becoming AdamW), then batch norm; otherwise one step of each.
    /// Capacity (Swish against ReLU, twice the width up to 1024, one more layer up to 4) comes first when the run
    /// underfits and does not overfit, last otherwise.
    static func moves(overfit: Bool, underfit: Bool) -> [Move] {
        let dropouts: [Float] = overfit ? [0.1, 0.3, 0.5] : [0.1]
        let decays: [Double] = overfit ? [1e-4, 1e-3, 1e-2] : [1e-4]
        var regularise: [Move] = dropouts.map { d in
            { c in
                var c = c; c.dropout = d; return c
            }
        }
        regularise += decays.map { w in
            { c in
                var c = c
                c.weightDecay = w
                if c.optimizer == .adam { c.optimizer = .adamw }
                return c
            }
        }
        regularise.append { c in
            var c = c; c.batchnorm = true; return c
        }
        let capacity: [Move] = [
            { c in
                var c = c; c.activation = c.activation == .swish ? .relu : .swish; return c
            },
            { c in
                guard c.width < 1024 else { return nil }; var c = c; c.width *= 2; return c
            },
            { c in
                guard c.depth < 4 else { return nil }; var c = c; c.depth += 1; return c
            }
        ]
        return underfit && !overfit ? capacity + regularise : regularise + capacity
    }

    /// A stage's decision and its reason: the change that won (a tie on the metric is broken by the lower validation
    /// loss), or the start kept when nothing beat it.
    static func outcome(start: RecipeTrial, best: RecipeTrial, monitor: String, kept: String) -> (
        decision: String, reason: String
    ) {
        guard best.number != start.number else {
            return ("kept: " + kept, String(format: "nothing beat validation %@ %.4f", monitor, start.value ?? .nan))
        }
        var reason = String(format: "validation %@ %.4f against %.4f", monitor, best.value ?? .nan, start.value ?? .nan)
        if best.value == start.value {
            reason += String(
                format: ", a tie broken by the lower validation loss (%.4g against %.4g)", best.validationLoss ?? .nan,
                start.validationLoss ?? .nan)
        }
        return (best.candidate.changes(from: start.candidate), reason)
    }
}
