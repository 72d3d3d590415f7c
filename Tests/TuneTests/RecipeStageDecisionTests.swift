import Foundation
import Testing
@testable import TuneData
import TuneDiagnosis
@testable import TuneEngine
import TuneReport

/// Stages 0, 1 and 5 on hand-made measurements (in the suite of the recipe's decisions): the numbers and sentences
/// worked out by hand from the rules the README states (chance levels, a decade grid widened at its edges, twice the
/// peak epoch, the seed noise).
extension RecipeDecisionTests {
    @Test func stageZeroJudgesTheUntrainedLossAgainstChance() {
        #expect(abs(RecipeDecisions.chanceLoss(.binary, classes: 2) - 0.693_147_180_6) < 1e-9)
        #expect(abs(RecipeDecisions.chanceLoss(.multiclass, classes: 3) - 1.098_612_288_7) < 1e-9)
        #expect(RecipeDecisions.chanceLoss(.regression, classes: nil) == 1)
        let chance = 0.693
        #expect(RecipeDecisions.initialLoss(0.7, chance: chance) == (true, "initial loss 0.700 against chance 0.693"))
        // Over 2x chance (1.386): a warning, not a failure; over 10x (6.93) or not a number: a failure.
        let warned = RecipeDecisions.initialLoss(2, chance: chance)
        #expect(warned.passed && warned.message.hasPrefix("warning: the untrained network's loss 2 is over 2x"))
        #expect(!RecipeDecisions.initialLoss(7, chance: chance).passed)
        #expect(RecipeDecisions.initialLoss(6.9, chance: chance).passed)
        #expect(!RecipeDecisions.initialLoss(.nan, chance: chance).passed)
    }

    @Test func stageZeroWantsOneBatchDrivenNearZero() {
        // Near zero: a twentieth of the starting loss, at least 0.02.
        #expect(RecipeDecisions.overfitTarget(1) == 0.05)
        #expect(RecipeDecisions.overfitTarget(0.2) == 0.02)
        let done = RecipeDecisions.overfitBatch(rows: 16, before: 0.7, after: 0.03, steps: 150, rate: 0.01)
        #expect(done == (true, "one batch of 16 rows overfitted: loss 0.7 to 0.03 in 150 steps at lr 0.01"))
        #expect(!RecipeDecisions.overfitBatch(rows: 16, before: 0.7, after: 0.04, steps: 900, rate: 0.001).passed)
    }

    @Test func stageZeroStopsWithItsFailuresAndCountsTheDataFindings() {
        let sanity = SanityReport(
            initialLoss: 9, chanceLoss: 0.693, batchRows: 16, batchLossBefore: 1, batchLossAfter: 0.01,
            batchSteps: 50, batchLearningRate: 0.01, baseline: [:], passed: false,
            messages: ["FAIL: too high", "one batch overfitted"])
        func finding(_ id: FindingID) -> Finding {
            Finding(id: id, severity: .warning, epochs: [], evidence: [:], explanation: "", nextStep: "")
        }
        let check = DataCheckReport(
            path: "d.csv", target: "y", task: .binary, rows: 10, columns: [],
            findings: [finding(.identifier), finding(.duplicateRows), finding(.identifier)], excluded: ["id"],
            leaks: [])
        let stage = RecipeDecisions.sanityStage(sanity, dataCheck: check, choices: ["chose average precision"])
        #expect(stage.number == 0 && stage.decision == "failed")
        #expect(stage.reason == "FAIL: too high; one batch overfitted")
        #expect(
            stage.notes == [
                "data check: duplicate_rows 1, identifier 2; identifiers left out: id", "chose average precision"
            ])
        #expect(RecipeDecisions.sanityStop(sanity) == "too high")
        #expect(RecipeDecisions.sanityStage(sanity, dataCheck: nil, choices: []).notes.isEmpty)
    }

    @Test func stageOneTriesADecadeEitherWayWidensAtTheEdgesAndRefinesByThree() throws {
        #expect(RecipeDecisions.firstRates(0.01) == [0.01, 0.001, 0.1])
        let tried = [0.01, 0.001, 0.1]
        let lower = try #require(RecipeDecisions.widening(best: 0.001, tried: tried))
        #expect(lower.rate == 0.0001)
        #expect(lower.note == "the best rate 0.001 is the grid's lowest: widened to 0.0001")
        #expect(try #require(RecipeDecisions.widening(best: 0.1, tried: tried)).rate == 1)
        #expect(RecipeDecisions.widening(best: 0.01, tried: tried) == nil, "the best inside the grid")
        #expect(RecipeDecisions.widening(best: 1e-6, tried: [1e-6, 1e-5]) == nil, "no rate below 1e-6")
        #expect(RecipeDecisions.widening(best: 1, tried: [0.1, 1]) == nil, "no rate above 1")
        let refined = RecipeDecisions.refinement(0.03)
        #expect(abs(refined[0] - 0.01) < 1e-15 && abs(refined[1] - 0.09) < 1e-15)
    }

    @Test func stageOneSetsTheLaterEpochsFromTheBestRunsPeak() {
        // Twice the peak, or the peak plus the patience when that is more, never over --epochs.
        #expect(RecipeDecisions.epochLimit(peak: 10, limit: 50, patience: 5) == 20)
        #expect(RecipeDecisions.epochLimit(peak: 3, limit: 50, patience: 10) == 13)
        #expect(RecipeDecisions.epochLimit(peak: 40, limit: 50, patience: 5) == 50)
        let outcome = RecipeDecisions.rateOutcome(
            winner: trial(4, start, value: 0.9, loss: 0.3, bestEpoch: 3, epochsRun: 5), rates: [0.1, 0.001, 0.01],
            monitor: "auc", patience: 2, limit: 10)
        #expect(outcome.decision == "lr 0.01; epochs up to 6" && outcome.epochLimit == 6)
        #expect(
            outcome.reason
                == "best validation auc 0.9000 (loss 0.3) of rates {0.001, 0.01, 0.1}; its best epoch was 3 of 5 "
                + "(early stopping after 2 without improvement)")
        #expect(outcome.notes.isEmpty)
        // Its best epoch was its last: still improving.
        let improving = RecipeDecisions.rateOutcome(
            winner: trial(4, start, value: 0.9, loss: 0.3, bestEpoch: 10, epochsRun: 10), rates: [0.01], monitor: "auc",
            patience: 2, limit: 10)
        #expect(improving.notes == ["the best run was still improving at --epochs 10: a larger --epochs may help"])
        #expect(
            RecipeDecisions.baselineStop(best: 0.5, baseline: 0.5, monitor: "auc").hasPrefix(
                "the best network (validation auc 0.5000) does no better than a model that ignores the inputs (0.5000)"
            ))
    }

    @Test func stageFiveKeepsTheEnsembleOnlyWhenItBeatsTheSeedNoise() {
        let single = RecipeDecisions.ensembleOutcome(nil, members: 1, seeds: 1, bestDirectory: "/o/best")
        #expect(single == ("best model saved in /o/best", "no ensemble asked (--members 1)"))
        var report = EnsembleReport(
            monitor: "auc", split: "test", seeds: [0, 1, 2, 3, 4], members: [0.89, 0.9, 0.91, 0.9, 0.9], mean: 0.9,
            spread: 0.01, ensemble: 0.92, gain: 0.02, gainExceedsNoise: true, ensembleMetrics: [:],
            singleMetrics: [:])
        let used = RecipeDecisions.ensembleOutcome(report, members: 5, seeds: 5, bestDirectory: "/o/best")
        #expect(used.decision == "use the ensemble of 5")
        #expect(
            used.reason
                == "test auc: single models 0.9000 ± 0.0100 over 5 seeds, ensemble 0.9200; the gain +0.0200 exceeds "
                + "the seed noise")
        report.gainExceedsNoise = false
        #expect(
            RecipeDecisions.ensembleOutcome(report, members: 5, seeds: 5, bestDirectory: "/o/best").decision
                == "a single model is enough")
    }
}
