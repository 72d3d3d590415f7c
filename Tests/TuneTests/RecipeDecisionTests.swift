import Testing
import TuneDiagnosis
import TuneNN
import TuneTraining
@testable import Tune
@testable import TuneEngine
@testable import TuneReport
@testable import TuneRun

/// The recipe's decisions on hand-made inputs: what each stage proposes and how stage 4 reads findings, worked out
/// by hand from the recipe as the README states it, with nothing trained.
@Suite("The recipe's decisions, without training")
struct RecipeDecisionTests {
    let start = RecipeCandidate(
        lr: 0.01, batchSize: 32, schedule: .constant, warmup: 0, dropout: 0, batchnorm: false, activation: .relu,
        width: 64, depth: 2, weightDecay: 0, optimizer: .adam)

    func trial(
        _ number: Int, _ candidate: RecipeCandidate, value: Double, loss: Double, bestEpoch: Int = 3,
        epochsRun: Int = 5
    ) -> RecipeTrial {
        RecipeTrial(
            number: number, stage: 2, candidate: candidate, value: value, validationLoss: loss, bestEpoch: bestEpoch,
            epochsRun: epochsRun, epochLimit: 10, status: "completed", reason: "", samplesPerSecond: 0, seconds: 0,
            startedAt: nil, findings: [], failure: nil)
    }

    @Test func stageTwoHalvesDoublesAndQuadruplesTheBatchWithTheRateScaledBySquareRoot() {
        let proposed = RecipeDecisions.batchSizes(start, trainingRows: 1000)
        #expect(proposed.map(\.batchSize) == [16, 64, 128])
        // 0.01 * sqrt(16/32) = 0.00707, * sqrt(2) = 0.01414, * 2 = 0.02, each to three significant digits.
        #expect(proposed.map(\.lr) == [0.00707, 0.0141, 0.02])
        // Sizes beyond the training rows are not tried: 100 rows leave 16 and 64.
        #expect(RecipeDecisions.batchSizes(start, trainingRows: 100).map(\.batchSize) == [16, 64])
        var chosen = start
        chosen.batchSize = 128
        chosen.lr = 0.02
        #expect(RecipeDecisions.rateRechecks(chosen).map(\.lr) == [0.00667, 0.06])
    }

    @Test func stageThreeTriesThreeSchedulesThenAWarmupOfAboutFivePercent() {
        #expect(RecipeDecisions.schedules(start).map(\.schedule) == [.cosine, .step, .onecycle])
        #expect(RecipeDecisions.warmup(start, epochLimit: 40)?.warmup == 2)
        #expect(RecipeDecisions.warmup(start, epochLimit: 5)?.warmup == 1)
        #expect(RecipeDecisions.warmup(start, epochLimit: 1) == nil, "a warmup may not take every epoch")
        var onecycle = start
        onecycle.schedule = .onecycle
        #expect(RecipeDecisions.warmup(onecycle, epochLimit: 40) == nil, "one-cycle warms up by itself")
    }

    @Test func stageFourRegularisesAnOverfittingRunFirstAndGrowsAnUnderfittingOne() {
        let over = RecipeDecisions.direction([.overfitting, .noisy], closeAndFlat: false)
        #expect(over == (true, false))
        let overMoves = RecipeDecisions.moves(overfit: true, underfit: false).compactMap { $0(start) }
        #expect(overMoves.prefix(3).map(\.dropout) == [0.1, 0.3, 0.5])
        #expect(overMoves[3...5].map(\.weightDecay) == [1e-4, 1e-3, 1e-2] && overMoves[3].optimizer == .adamw)
        #expect(overMoves[6].batchnorm && overMoves.count == 10)
        let under = RecipeDecisions.direction([.lrTooLow], closeAndFlat: false)
        #expect(under == (false, true))
        let underMoves = RecipeDecisions.moves(overfit: false, underfit: true).compactMap { $0(start) }
        #expect(underMoves[0].activation == .swish && underMoves[1].width == 128 && underMoves[2].depth == 3)
        #expect(underMoves[3].dropout == 0.1 && underMoves[4].weightDecay == 1e-4 && underMoves.count == 6)
        // Close and flat curves are the hypothesis of underfitting, unless the run overfits.
        #expect(RecipeDecisions.direction([.healthy], closeAndFlat: true) == (false, true))
        #expect(RecipeDecisions.direction([.valLossUpMetricOK], closeAndFlat: true) == (true, false))
        #expect(RecipeDecisions.direction([.healthy], closeAndFlat: false) == (false, false))
        // Capacity stops at 1024 wide and 4 deep.
        var big = start
        big.width = 1024
        big.depth = 4
        let capped = RecipeDecisions.moves(overfit: false, underfit: true).prefix(3).map { $0(big) }
        #expect(capped[0] != nil && capped[1] == nil && capped[2] == nil)
    }

    @Test func aStageSaysWhatWonOrThatTheStartWasKeptAndBreaksTiesByLoss() {
        let first = trial(3, start, value: 0.9, loss: 0.30)
        let kept = RecipeDecisions.outcome(start: first, best: first, monitor: "auc", kept: "batch 32")
        #expect(kept.decision == "kept: batch 32" && kept.reason == "nothing beat validation auc 0.9000")
        var bigger = start
        bigger.batchSize = 64
        let won = RecipeDecisions.outcome(
            start: first, best: trial(4, bigger, value: 0.95, loss: 0.2), monitor: "auc", kept: "")
        #expect(won.reason == "validation auc 0.9500 against 0.9000" && won.decision.contains("64"))
        let tie = RecipeDecisions.outcome(
            start: first, best: trial(5, bigger, value: 0.9, loss: 0.25), monitor: "auc", kept: "")
        #expect(
            tie.reason
                == "validation auc 0.9000 against 0.9000, a tie broken by the lower validation loss (0.25 against 0.3)")
    }
}

@Suite("The best model's tune train command")
struct TrainCommandLineTests {
    @Test func theDataCheckFlagsAreRepeatedAndAbsentOnesLeaveTheSettingsAsBefore() throws {
        var s = TrainSettings()
        s.data = "prices.csv"
        s.target = "price"
        #expect(
            !RecipeTable.trainCommand(s).contains("--keep") && !RecipeTable.trainCommand(s).contains("--allow-leak"))
        // Unset, the new settings are not written, so a study's resume key is the one earlier versions computed.
        let json = String(decoding: try jsonData(s), as: UTF8.self)
        #expect(!json.contains("keep") && !json.contains("allow-leak") && !json.contains("target-transform"))
        s.keep = ["row"]
        s.allowLeak = ["price_eur"]
        s.targetTransform = .log
        let command = RecipeTable.trainCommand(s)
        #expect(command.contains("--keep row") && command.contains("--allow-leak price_eur"))
        #expect(command.contains("--target-transform log"))
    }
}
