import Foundation
import Testing
@testable import TuneDiagnosis

/// Synthetic curves, one shape per rule.
enum Shapes {
    static func epochs(_ n: Int, _ f: (Double) -> Double) -> [Double?] { (1...n).map { f(Double($0)) } }

    /// Converging nicely: both losses saturate, a small gap, the AUC rises and levels off.
    static var healthy: Curves {
        var c = Curves()
        c.task = .binary
        c.trainLoss = epochs(30) { 0.10 + 0.55 * exp(-$0 / 3) }
        c.validationLoss = epochs(30) { 0.13 + 0.55 * exp(-$0 / 3) }
        c.metricName = "auc"
        c.metric = epochs(30) { 0.97 - 0.3 * exp(-$0 / 3) }
        return c
    }

    static func ids(_ c: Curves) -> [String] { Doctor().diagnose(c).map(\.id.rawValue) }
}

@Suite("The doctor's rules on synthetic curves")
struct RuleTests {
    @Test func healthyOnlyAgainstAReference() {
        // Alone, the level cannot be judged: no problem visible, and (a small gap, flat curves) the hypothesis of
        // underfitting, labelled as one.
        let alone = Doctor().diagnose(Shapes.healthy)
        #expect(alone.map(\.id.rawValue) == ["no_problem_visible", "possible_underfitting"])
        #expect(alone[1].hypothesis && !alone[0].hypothesis)
        #expect(alone[0].explanation.contains("--reference-loss"))
        // Against a reference it reaches (its own lowest validation loss, 0.13 + 0.55 e^-10 = 0.130025): healthy.
        var judged = Shapes.healthy
        judged.referenceLoss = 0.13
        #expect(Shapes.ids(judged) == ["healthy"])
        // 2.6x the reference, training close to validation and both flat: underfitting.
        judged.referenceLoss = 0.05
        #expect(Shapes.ids(judged) == ["underfitting"])
    }

    @Test func aStraightFallIsALearningRateTooLow() {
        var c = Shapes.healthy
        c.trainLoss = Shapes.epochs(30) { 0.69 - 0.006 * $0 }
        c.validationLoss = Shapes.epochs(30) { 0.70 - 0.006 * $0 }
        c.metric = Shapes.epochs(30) { 0.6 + 0.005 * $0 }
        c.learningRate = Shapes.epochs(30) { _ in 1e-4 }
        let f = Doctor().diagnose(c).first { $0.id == .lrTooLow }
        #expect(f != nil)
        #expect(f?.nextStep.contains("0.0003 to 0.001") == true, "\(f?.nextStep ?? "")")
        #expect(LearningRateTooLow().examine(Shapes.healthy, Thresholds()) == nil)
    }

    @Test func divergenceExplosionAndBounces() {
        var nan = Shapes.healthy
        nan.trainLoss[6] = .nan
        let f = Doctor().diagnose(nan)
        #expect(f.map(\.id.rawValue) == ["lr_too_high"])
        #expect(f[0].severity == .critical && f[0].epochs == [7])
        var up = Shapes.healthy
        up.trainLoss = Shapes.epochs(20) { 0.7 + 0.05 * $0 }
        #expect(LearningRateTooHigh().examine(up, Thresholds())?.evidence["peak_loss"] != nil)
        // The validation loss bouncing by 40% from epoch to epoch around 0.6, far above a reference of 0.2 with a
        // constant predictor at 0.69: (0.6 - 0.2) / (0.69 - 0.2) = 0.82 of the way back.
        var bouncing = Shapes.healthy
        bouncing.validationLoss = Shapes.epochs(30) {
            $0 < 5 ? 0.7 - 0.02 * $0 : ($0.truncatingRemainder(dividingBy: 2) == 1 ? 0.5 : 0.7)
        }
        bouncing.referenceLoss = 0.2
        #expect(LearningRateTooHigh().examine(bouncing, Thresholds())?.evidence["mean_relative_move"] != nil)
        // Batches of two rows bounce too: that is noise, not the rate.
        bouncing.batchSize = 2
        #expect(LearningRateTooHigh().examine(bouncing, Thresholds()) == nil)
        #expect(LearningRateTooHigh().examine(Shapes.healthy, Thresholds()) == nil)
    }

    @Test func noisyStepsAndANoisyMetric() {
        var c = Shapes.healthy
        var state: UInt64 = 12345
        func noise() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
        c.stepLoss = (0..<600).map { i in 0.3 + 0.4 * exp(-Double(i) / 100) + 0.8 * noise() }
        c.trainingRows = 10_000
        c.batchSize = 4
        let f = Noisy().examine(c, Thresholds())
        #expect(f != nil)
        #expect(
            f?.nextStep.contains("now 4") == true
                && f?.nextStep.contains("sqrt of the 10000 training rows is 100") == true)
        var smooth = Shapes.healthy
        smooth.stepLoss = (0..<600).map { i in 0.3 + 0.4 * exp(-Double(i) / 100) + 0.01 * noise() }
        #expect(Noisy().examine(smooth, Thresholds()) == nil)
        var jumpy = Shapes.healthy
        jumpy.metric = Shapes.epochs(30) { $0.truncatingRemainder(dividingBy: 2) == 0 ? 0.90 : 0.96 }
        #expect(Noisy().examine(jumpy, Thresholds())?.evidence["late_metric_noise"] != nil)
    }

    @Test func overfittingNamesTheEpochToStopAt() {
        var c = Shapes.healthy
        c.trainLoss = Shapes.epochs(30) { 0.6 * exp(-$0 / 6) + 0.01 }
        c.validationLoss = Shapes.epochs(30) { 0.3 + 0.002 * ($0 - 10) * ($0 - 10) }
        let f = Overfitting().examine(c, Thresholds())
        #expect(f?.epochs == [10, 30])
        #expect(f?.nextStep.contains("Stop at epoch 10") == true)
        #expect(Overfitting().examine(Shapes.healthy, Thresholds()) == nil)
    }

    @Test func underfittingAgainstChance() {
        var c = Shapes.healthy
        c.trainLoss = Shapes.epochs(30) { 0.62 + 0.05 * exp(-$0 / 2) }
        c.validationLoss = Shapes.epochs(30) { 0.63 + 0.05 * exp(-$0 / 2) }
        let f = Underfitting().examine(c, Thresholds())
        #expect(f != nil)
        #expect((f?.evidence["reference_loss"] ?? 0) == 0.6931471805599453)
        #expect(Underfitting().examine(Shapes.healthy, Thresholds()) == nil)
    }

    @Test func stillImprovingEstimatesMoreEpochs() {
        var c = Shapes.healthy
        c.trainLoss = Shapes.epochs(20) { 0.20 + 0.5 * exp(-$0 / 10) }
        c.validationLoss = Shapes.epochs(20) { 0.22 + 0.5 * exp(-$0 / 10) }
        c.metric = Shapes.epochs(20) { 0.9 - 0.2 * exp(-$0 / 10) }
        let f = StillImproving().examine(c, Thresholds())
        #expect(f != nil)
        // Within 1% of the floor 0.22: 10 * ln(0.5 / 0.0022) - 20 = 34.3 more epochs, by hand.
        #expect(abs((f?.evidence["suggested_extra_epochs"] ?? 0) - 35) <= 2)
        #expect(StillImproving().examine(Shapes.healthy, Thresholds()) == nil)
    }

    @Test func metricAndLossDisagree() {
        var c = Shapes.healthy
        c.validationLoss = Shapes.epochs(30) { 0.3 + 0.001 * ($0 - 8) * ($0 - 8) }
        c.metric = Shapes.epochs(30) { 0.95 - 0.0002 * ($0 - 15) * ($0 - 15) }
        let f = MetricLossDisagree().examine(c, Thresholds())
        #expect(f?.epochs == [8, 15])
        #expect(f?.nextStep.contains("--metric auc") == true)
        #expect(MetricLossDisagree().examine(Shapes.healthy, Thresholds()) == nil)
    }

    @Test func validationLossUpWhileTheMetricHolds() {
        var c = Shapes.healthy
        c.validationLoss = Shapes.epochs(30) { $0 <= 10 ? 0.5 - 0.02 * $0 : 0.3 + 0.01 * ($0 - 10) }
        c.metric = Shapes.epochs(30) { min(0.9 + 0.005 * $0, 0.99) }
        let f = ValidationLossUpMetricOK().examine(c, Thresholds())
        #expect(f?.epochs == [10, 30])
        #expect(ValidationLossUpMetricOK().examine(Shapes.healthy, Thresholds()) == nil)
    }

    @Test func badInitialisationAgainstChance() {
        var c = Shapes.healthy
        c.stepLoss = [3.5] + Array(repeating: 0.4, count: 10)
        // Only the very first step says how the network started: a log that starts later says nothing of it.
        #expect(BadInitialization().examine(c, Thresholds()) == nil)
        c.firstStepLogged = true
        let f = BadInitialization().examine(c, Thresholds())
        #expect(f?.evidence["chance_loss"] == 0.6931471805599453)
        var fine = Shapes.healthy
        fine.firstStepLogged = true
        fine.stepLoss = [0.71] + Array(repeating: 0.4, count: 10)
        #expect(BadInitialization().examine(fine, Thresholds()) == nil)
        var multi = fine
        multi.task = .multiclass
        multi.classes = 10
        multi.stepLoss = [2.31, 2.0]
        #expect(BadInitialization().examine(multi, Thresholds()) == nil, "ln 10 = 2.303 is chance")
    }

    @Test func aFlatLossIsNotLearning() {
        var c = Shapes.healthy
        c.trainLoss = Shapes.epochs(10) { _ in 0.6931 }
        c.validationLoss = Shapes.epochs(10) { _ in 0.6932 }
        #expect(Doctor().diagnose(c).first?.id == .notLearning)
    }

    @Test func explodingAndVanishingGradientsWithAClipSuggestion() {
        var c = Shapes.healthy
        c.gradientNormMean = Shapes.epochs(10) { pow(2, $0) }
        c.gradientNormMax = Shapes.epochs(10) { 2 * pow(2, $0) }
        let f = Gradients().examine(c, Thresholds())
        #expect(f?.id == .explodingGradients)
        // The 90th percentile of the maxima 4, 8, ..., 2048: between 1024 and 2048.
        #expect((1024...2048).contains(f?.evidence["suggested_clip"] ?? 0))
        c.gradientNormMean = Shapes.epochs(10) { pow(10, -$0) }
        #expect(Gradients().examine(c, Thresholds())?.id == .vanishingGradients)
    }

    @Test func findingsComeMostSevereFirst() {
        var c = Shapes.healthy
        c.trainLoss = Shapes.epochs(30) { 0.6 * exp(-$0 / 6) + 0.01 }
        c.validationLoss = Shapes.epochs(30) { 0.3 + 0.002 * ($0 - 10) * ($0 - 10) }
        c.metric = Shapes.epochs(30) { 0.95 - 0.0002 * ($0 - 15) * ($0 - 15) }
        let findings = Doctor().diagnose(c)
        #expect(findings.first?.id == .overfitting)
        #expect(findings.contains { $0.id == .metricLossDisagree })
        #expect(zip(findings, findings.dropFirst()).allSatisfy { $0.severity >= $1.severity })
    }
}

@Suite("Settings read from logs")
struct HyperparameterTests {
    @Test func theUsualNamesWhateverTheirNestingCaseAndSeparators() {
        let lightning = Hyperparameters(settings: [
            "model.hidden": "64,64", "optim.learning_rate": "3e-4", "optim.name": "torch.optim.AdamW",
            "data.batch_size": "16", "trainer.max_epochs": "40", "data.train_size": "0.8"
        ])
        #expect(
            lightning.learningRate == 3e-4 && lightning.optimizer == "adamw" && lightning.batchSize == 16
                && lightning.epochs == 40)
        #expect(lightning.trainingRows == nil, "a fraction is not a row count")
        // scikit-learn: learning_rate is the schedule, learning_rate_init the rate, alpha the L2 penalty, max_iter the epochs.
        let sklearn = Hyperparameters(settings: [
            "solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": "0.01",
            "momentum": "0.9", "alpha": "0.0001", "max_iter": "200", "batch_size": "auto"
        ])
        #expect(sklearn.optimizer == "sgd" && sklearn.learningRate == 0.01 && sklearn.schedule == "invscaling")
        #expect(
            sklearn.weightDecay == 0.0001 && sklearn.epochs == 200 && sklearn.batchSize == nil && !sklearn.isPlainSGD)
        // swift-tune's model.json and MLflow parameters: camelCase and kebab-case.
        let swift = Hyperparameters(settings: [
            "batch-size": "32", "lr": "0.001", "optimizer": "sgd", "weightDecay": "0.01"
        ])
        #expect(swift.batchSize == 32 && swift.weightDecay == 0.01 && swift.isPlainSGD)
        #expect(Hyperparameters(settings: ["seed": "3"], source: "x").source == nil, "nothing known: no source")
    }
}
