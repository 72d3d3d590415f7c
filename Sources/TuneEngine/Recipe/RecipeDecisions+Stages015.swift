import Foundation
import TuneData
import TuneDiagnosis
import TuneReport
import TuneTraining

/// Stages 0, 1 and 5 as pure decisions: what the sanity measurements mean, which learning rates stage 1 tries and
/// what it concludes, and what the ensemble's comparison decides.
extension RecipeDecisions {
    // MARK: Stage 0

    /// The loss of a model that knows nothing: log 2 for two classes, log k for k, and 1 for a regression (the
    /// variance of the standardised target).
    static func chanceLoss(_ task: TaskKind, classes: Int?) -> Double {
        switch task {
        case .binary: return log(2.0)
        case .multiclass: return log(Double(classes ?? 2))
        case .regression: return 1
        }
    }

    /// The untrained network's loss against chance: a failure over 10x chance (or not finite), a warning over 2x.
    static func initialLoss(_ initial: Double, chance: Double) -> (passed: Bool, message: String) {
        if !initial.isFinite || initial > 10 * chance {
            return (
                false,
                String(
                    format: "FAIL: the untrained network's loss is %.3g, over 10x chance (%.3g): inputs far from unit "
                        + "scale or a broken output layer", initial, chance)
            )
        }
        if initial > 2 * chance {
            return (
                true,
                String(
                    format: "warning: the untrained network's loss %.3g is over 2x chance (%.3g): the initial "
                        + "predictions are confidently wrong", initial, chance)
            )
        }
        return (true, String(format: "initial loss %.3f against chance %.3f", initial, chance))
    }

    /// Near zero, for a batch's loss: a twentieth of the starting loss, or 0.02.
    static func overfitTarget(_ before: Double) -> Double { max(0.02, before / 20) }

    /// Whether one batch of `rows` was overfitted (its loss from `before` down to `overfitTarget`).
    static func overfitBatch(rows: Int, before: Double, after: Double, steps: Int, rate: Double) -> (
        passed: Bool, message: String
    ) {
        if after <= overfitTarget(before) {
            return (
                true,
                String(
                    format: "one batch of %d rows overfitted: loss %.3g to %.3g in %d steps at lr %g", rows, before,
                    after, steps, rate)
            )
        }
        return (
            false,
            String(
                format: "FAIL: the network cannot overfit one batch of %d rows (loss %.3g to %.3g at best): identical "
                    + "inputs with different targets, or a bug between data and loss", rows, before, after)
        )
    }

    /// Stage 0 as the table shows it: passed or failed with the checks' messages, the data check's findings counted
    /// by kind and the identifiers it left out, and what the recipe chose because of them.
    static func sanityStage(_ sanity: SanityReport, dataCheck: DataCheckReport?, choices: [String]) -> RecipeStage {
        var stage = RecipeStage(number: 0, name: "sanity")
        stage.decision = sanity.passed ? "passed" : "failed"
        stage.reason = sanity.messages.joined(separator: "; ")
        if let check = dataCheck {
            let counted = Dictionary(grouping: check.findings, by: \.id).map { "\($0.key.rawValue) \($0.value.count)" }
                .sorted()
            stage.notes.append(
                "data check: " + (counted.isEmpty ? "no findings" : counted.joined(separator: ", "))
                    + (check.excluded.isEmpty
                        ? "" : "; identifiers left out: " + check.excluded.joined(separator: ", ")))
        }
        stage.notes += choices
        return stage
    }

    /// Why a failed sanity check stops the recipe: its failures, without their "FAIL: " mark.
    static func sanityStop(_ sanity: SanityReport) -> String {
        sanity.messages.filter { $0.hasPrefix("FAIL: ") }.map { String($0.dropFirst(6)) }.joined(separator: "; ")
    }

    // MARK: Stage 1

    /// The first rates: the suggestion and a decade either way.
    static func firstRates(_ suggestion: Double) -> [Double] { [suggestion, suggestion / 10, suggestion * 10] }

    /// When the best rate is the lowest or the highest tried (and not at 1e-6 or 1), the next rate a decade beyond
    /// it and the note that says so; nil when the best is inside the grid.
    static func widening(best: Double, tried: [Double]) -> (rate: Double, note: String)? {
        guard let lo = tried.min(), let hi = tried.max() else { return nil }
        if best == lo, lo > 1e-6 {
            return (lo / 10, String(format: "the best rate %g is the grid's lowest: widened to %g", lo, lo / 10))
        }
        if best == hi, hi < 1 {
            return (hi * 10, String(format: "the best rate %g is the grid's highest: widened to %g", hi, hi * 10))
        }
        return nil
    }

    /// The refinement around the best rate: 3x either way.
    static func refinement(_ best: Double) -> [Double] { [best / 3, best * 3] }

    /// The later stages' epoch limit: twice the best run's peak epoch, or the peak plus the patience when that is
    /// more, never over the settings' epochs.
    static func epochLimit(peak: Int, limit: Int, patience: Int) -> Int { min(limit, max(2 * peak, peak + patience)) }

    /// Stage 1's decision from its best trial and the rates it tried: the rate and the epoch limit, the reason, and
    /// a note when the best run still improved at its last epoch.
    static func rateOutcome(winner: RecipeTrial, rates: [Double], monitor: String, patience: Int, limit: Int) -> (
        decision: String, reason: String, notes: [String], epochLimit: Int
    ) {
        let peak = winner.bestEpoch ?? winner.epochsRun
        let epochLimit = epochLimit(peak: peak, limit: limit, patience: patience)
        let grid = rates.sorted().map { String(format: "%.3g", $0) }.joined(separator: ", ")
        let reason = String(
            format: "best validation %@ %.4f (loss %.4g) of rates {%@}; its best epoch was %d of %d (early stopping "
                + "after %d without improvement)", monitor, winner.value ?? .nan, winner.validationLoss ?? .nan, grid,
            peak, winner.epochsRun, patience)
        var notes: [String] = []
        if winner.status == RunStatus.completed.rawValue && peak >= winner.epochsRun - 1 {
            notes.append("the best run was still improving at --epochs \(limit): a larger --epochs may help")
        }
        return (String(format: "lr %.3g; epochs up to %d", winner.candidate.lr, epochLimit), reason, notes, epochLimit)
    }

    /// Why the recipe stops after stage 1 when its best network does no better than the input-free baseline.
    static func baselineStop(best: Double?, baseline: Double, monitor: String) -> String {
        String(
            format: "the best network (validation %@ %.4f) does no better than a model that ignores the inputs "
                + "(%.4f): the inputs may not predict the target, or the target column is wrong", monitor,
            best ?? .nan, baseline)
    }

    // MARK: Stage 5

    /// Stage 5's decision: the ensemble when its gain over the mean member exceeds the seed noise, else a single
    /// model; with one member, only the best model saved.
    static func ensembleOutcome(_ report: EnsembleReport?, members: Int, seeds: Int, bestDirectory: String) -> (
        decision: String, reason: String
    ) {
        guard members > 1, let report else {
            return ("best model saved in \(bestDirectory)", "no ensemble asked (--members \(members))")
        }
        return (
            report.gainExceedsNoise ? "use the ensemble of \(seeds)" : "a single model is enough",
            report.sentence
        )
    }
}
