import Foundation
import Testing
@testable import TuneDiagnosis

/// The six patterns an independent corpus of PyTorch runs showed the doctor getting wrong, on hand-made curves with
/// the numbers described there. Each test names the wrong call it must no longer make.
@Suite("The doctor on the patterns it used to miss")
struct PatternTests {
    static func epochs(_ n: Int, _ f: (Int) -> Double) -> [Double?] { (1...n).map { f($0) } }

    /// A repeatable wiggle in [-1, 1] for epoch `e`.
    static func wiggle(_ e: Int) -> Double { sin(Double(e) * 2.399) }

    @Test func adamBlowingUpARegressionWithAStandardisedTarget() {
        // Adam at 0.5: the first epoch's mean training loss is 1e5; the validation loss bounces, then settles near
        // 10x the loss of predicting the mean (1 on a standardised target), with the training loss 20x below it.
        var c = Curves()
        c.task = .regression
        c.baselineLoss = 1
        c.trainLoss = Self.epochs(40) { $0 == 1 ? 1e5 : 0.5 + 2 / Double($0) }
        c.validationLoss = Self.epochs(40) {
            $0 <= 10 ? 10 * (1 + 4 * abs(Self.wiggle($0))) : 10 + 0.3 * Self.wiggle($0)
        }
        c.metricName = "rmse"
        c.metricHigherIsBetter = false
        c.metric = c.validationLoss.map { $0.map { $0.squareRoot() } }
        let findings = Doctor().diagnose(c)
        let ids = findings.map(\.id.rawValue)
        #expect(ids.first == "lr_too_high", "\(ids)")
        // The 20x gap is a finding by itself, and a validation loss 10x the constant predictor's is never healthy.
        #expect(ids.contains("overfitting"))
        #expect(!ids.contains("healthy") && !ids.contains("no_problem_visible"))
        #expect(findings[0].explanation.contains("first epoch"))
    }

    @Test func adamBlowingUpABinaryClassificationThatDiesAtChance() {
        // Adam at 0.5: the first epoch's mean loss is 12, then the network dies at chance (AUC 0.5, loss ln 2).
        var c = Curves()
        c.task = .binary
        c.classes = 2
        c.trainLoss = Self.epochs(30) { $0 == 1 ? 12 : 0.6932 + 0.0005 * Self.wiggle($0) }
        c.validationLoss = Self.epochs(30) { _ in 0.6931 }
        c.metricName = "auc"
        c.metric = Self.epochs(30) { _ in 0.5 }
        let ids = Doctor().diagnose(c).map(\.id.rawValue)
        #expect(ids.first == "lr_too_high", "\(ids)")
        // An epoch's mean loss is not the loss at initialisation; a dead network is not a small one.
        #expect(
            !ids.contains("bad_init") && !ids.contains("underfitting") && !ids.contains("metric_loss_disagree"),
            "\(ids)")
    }

    @Test func adamBlowingUpABinaryClassificationThatSwingsWildly() {
        // Adam at 0.5: a first epoch of mean loss 6, then a validation loss swinging 10-70x from one epoch to the next.
        var c = Curves()
        c.task = .binary
        c.classes = 2
        c.trainLoss = Self.epochs(30) { $0 == 1 ? 6 : 0.45 + 0.2 * abs(Self.wiggle($0)) }
        c.validationLoss = Self.epochs(30) { $0 % 2 == 0 ? 0.4 : 0.4 * (10 + 60 * abs(Self.wiggle($0))) }
        c.metricName = "auc"
        c.metric = Self.epochs(30) { $0 % 2 == 0 ? 0.85 : 0.6 }
        let ids = Doctor().diagnose(c).map(\.id.rawValue)
        #expect(ids.first == "lr_too_high", "\(ids)")
        #expect(
            !ids.contains("bad_init") && !ids.contains("underfitting") && !ids.contains("metric_loss_disagree"),
            "\(ids)")
    }

    @Test func sgdBouncingHighOnARegressionIsNotOverfitting() {
        // SGD at 0.5 on a standardised target (constant predictor 1), other runs reaching 0.3: the losses bounce
        // between 0.6 and 1.0. The lowest validation loss is early, the training loss is lower at the end than there:
        // the shape the rising form of overfitting looks for, made by bouncing.
        var c = Curves()
        c.task = .regression
        c.baselineLoss = 1
        c.referenceLoss = 0.3
        c.trainLoss = Self.epochs(30) { $0 == 3 ? 0.95 : ($0 == 30 ? 0.62 : 0.8 + 0.15 * Self.wiggle($0)) }
        c.validationLoss = Self.epochs(30) { $0 == 3 ? 0.55 : ($0 == 30 ? 0.97 : 0.8 + 0.2 * Self.wiggle($0)) }
        let ids = Doctor().diagnose(c).map(\.id.rawValue)
        #expect(ids.first == "lr_too_high", "\(ids)")
        #expect(!ids.contains("overfitting"), "\(ids)")
    }

    @Test func underfittingByCapacityNeedsAReference() {
        // One hidden unit: training and validation close and flat at 2x what a 64-64 Adam network reaches (0.25).
        var c = Curves()
        c.trainLoss = Self.epochs(40) { 0.50 + 0.2 * exp(-Double($0) / 4) }
        c.validationLoss = Self.epochs(40) { 0.51 + 0.2 * exp(-Double($0) / 4) }
        // Alone: the level cannot be judged, so no verdict of health, and underfitting only as a hypothesis.
        let alone = Doctor().diagnose(c)
        #expect(alone.map(\.id.rawValue) == ["no_problem_visible", "possible_underfitting"])
        #expect(alone[1].hypothesis && alone[1].nextStep.contains("larger model"))
        // Against the reference of the better run: underfitting, with the ratio as evidence.
        var judged = c
        judged.referenceLoss = 0.25
        let f = Doctor().diagnose(judged)
        #expect(f.first?.id == .underfitting, "\(f.map(\.id.rawValue))")
        #expect(abs((f.first?.evidence["ratio_to_reference"] ?? 0) - 0.51 / 0.25) < 0.01)
        #expect(!f.contains { $0.id == .healthy })
        // The same through a comparison of the two runs: the 64-64 one is the reference, the small one underfits.
        var good = Curves()
        good.trainLoss = Self.epochs(40) { 0.20 + 0.5 * exp(-Double($0) / 4) }
        good.validationLoss = Self.epochs(40) { 0.25 + 0.45 * exp(-Double($0) / 4) }
        let comparison = Comparison([("64-64", good), ("one unit", c)])
        #expect(comparison.referenceRun == "64-64")
        #expect(comparison.runs[0].verdict == "healthy")
        #expect(comparison.runs[1].far && Comparison.kind(comparison.runs[1]) == "underfitting")
    }

    @Test func plainSGDFallingSlowlyAndInAStraightLineIsTheRateNotTheEpochs() {
        // Plain SGD at 5e-4 on a binary task: the losses fall near-linearly from 0.69 to 0.60 over 30 epochs, far
        // from converged.
        var c = Curves()
        c.task = .binary
        c.classes = 2
        c.hyperparameters = Hyperparameters(
            settings: ["optimizer": "SGD", "lr": "0.0005", "momentum": "0"], source: "hparams.yaml")
        c.trainLoss = Self.epochs(30) { 0.693 - 0.003 * Double($0) }
        c.validationLoss = Self.epochs(30) { 0.695 - 0.003 * Double($0) }
        let findings = Doctor().diagnose(c)
        let ids = findings.map(\.id.rawValue)
        #expect(ids.contains("lr_too_low"), "\(ids)")
        #expect(
            !ids.contains("still_improving"), "with a near-linear fall the first thing to change is the rate: \(ids)")
        let low = findings.first { $0.id == .lrTooLow }!
        #expect(low.nextStep.contains("0.0015 to 0.005") && low.nextStep.contains("momentum"))
        #expect(low.confidence > 0.5 && low.confidence < 1)
    }
}
