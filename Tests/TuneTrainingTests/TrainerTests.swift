import Foundation
import Testing
import TuneData
import TuneNN
import TuneTensor
@testable import TuneTraining
import TuneRandom

/// Two moons prepared as a binary task: 600 rows for training, 200 for validation.
func moons(seed: UInt64 = 1, noise: Float = 0.25) -> (
    train: LabeledData, validation: LabeledData, target: Preprocessor.Target
) {
    var rng = PhiloxRandom(seed: seed)
    let (x, y) = Synthetic.twoMoons(count: 800, noise: noise, using: &rng)
    let data = LabeledData(x: x, classes: y)
    let order = (0..<800).shuffled(using: &rng)
    return (
        data.rows(Array(order[..<600])), data.rows(Array(order[600...])),
        Preprocessor.Target(name: "y", task: .binary, classes: ["0", "1"])
    )
}

/// A history with its wall-clock figures zeroed, for comparing runs.
func untimed(_ h: History) -> History {
    var h = h
    for i in h.epochs.indices {
        h.epochs[i].seconds = 0
        h.epochs[i].samplesPerSecond = 0
    }
    return h
}

func model(seed: UInt64 = 3) -> MLP {
    MLP(MLPSpecification(inputSize: 2, hiddenSizes: [16, 16], outputSize: 1), seed: seed)
}

@Suite("The trainer")
struct TrainerTests {
    @Test func autoBatchSizeIsThePowerOfTwoNearestTheRoot() {
        #expect(BatchSize.auto.resolve(trainingRows: 600).size == 32)  // sqrt = 24.5 -> 2^4.6 -> 32
        #expect(BatchSize.auto.resolve(trainingRows: 10_000).size == 128)  // sqrt = 100 -> 2^6.6 -> 128
        #expect(BatchSize.auto.resolve(trainingRows: 20).size == 8)  // clamped
        #expect(BatchSize.auto.resolve(trainingRows: 10_000_000).size == 1024)
        #expect(BatchSize.auto.resolve(trainingRows: 600).reason?.contains("sqrt(600)") == true)
        #expect(BatchSize.fixed(64).resolve(trainingRows: 10).size == 10)
    }

    @Test func everyEpochIsRecordedAndTheRunIsReproducibleBitForBit() {
        let d = moons()
        var c = TrainingConfiguration()
        c.epochs = 6
        c.seed = 5
        let a = Trainer(configuration: c).fit(model(), train: d.train, validation: d.validation, target: d.target)
        let b = Trainer(configuration: c).fit(model(), train: d.train, validation: d.validation, target: d.target)
        #expect(untimed(a.history) == untimed(b.history), "same seed, same data: the same history, bit for bit")
        #expect(a.history.epochs.count == 6)
        #expect(a.history.stepLosses.count == 6 * a.history.stepsPerEpoch)
        #expect(a.history.stepsPerEpoch == (600 + 31) / 32)
        let e = a.history.epochs[5]
        #expect(e.metrics["auc"] != nil && e.metrics["accuracy"] != nil && e.metrics["log_loss"] != nil)
        #expect(e.gradientNormMax >= e.gradientNormMean && e.gradientNormMean > 0)
        #expect(e.samplesPerSecond > 0)
        #expect(a.history.epochs.last!.trainLoss < a.history.epochs.first!.trainLoss)
        c.seed = 6
        let other = Trainer(configuration: c).fit(model(), train: d.train, validation: d.validation, target: d.target)
        #expect(other.history.stepLosses != a.history.stepLosses)
    }

    @Test func theKeptWeightsAreThoseOfTheBestEpochByTheMetric() {
        let d = moons()
        var c = TrainingConfiguration()
        c.epochs = 12
        c.learningRate = 0.02
        let net = model()
        let result = Trainer(configuration: c).fit(net, train: d.train, validation: d.validation, target: d.target)
        let h = result.history
        let aucs = h.epochs.map { $0.metrics["auc"]! }
        // The best AUC; among epochs tied at it, the lowest validation loss.
        let tied = aucs.indices.filter { aucs[$0] == aucs.max()! }
        let expected = tied.min { h.epochs[$0].validationLoss < h.epochs[$1].validationLoss }! + 1
        #expect(h.bestEpoch == expected)
        // The model now computes exactly the best epoch's validation metrics.
        let outputs = net(d.validation.x)
        let metrics = Evaluation.metrics(outputs: outputs, data: d.validation, target: d.target)
        #expect(metrics["auc"] == h.epochs[h.bestEpoch! - 1].metrics["auc"])
        #expect(metrics["log_loss"] == h.epochs[h.bestEpoch! - 1].metrics["log_loss"])
        let losses = h.epochs.map(\.validationLoss)
        #expect(h.lowestValidationLossEpoch == losses.firstIndex(of: losses.min()!)! + 1)
    }

    @Test func earlyStoppingStopsAfterPatienceAndRestoresTheBest() {
        let d = moons(noise: 0.45)
        var c = TrainingConfiguration()
        c.epochs = 200
        c.learningRate = 0.05
        c.earlyStoppingPatience = 3
        c.metric = .logLoss
        let net = model()
        let h = Trainer(configuration: c).fit(net, train: d.train, validation: d.validation, target: d.target).history
        #expect(h.status == .earlyStopped)
        #expect(h.epochs.count == h.bestEpoch! + 3)
        #expect(h.reason.contains("for 3 epochs"))
        let restored = Evaluation.metrics(outputs: net(d.validation.x), data: d.validation, target: d.target)
        #expect(restored["log_loss"] == h.epochs[h.bestEpoch! - 1].metrics["log_loss"])
    }

    @Test func aDivergingRunStopsWithStatusDiverged() {
        let d = moons()
        var c = TrainingConfiguration()
        c.epochs = 20
        c.optimizer = .sgd
        c.learningRate = 1e6
        let h = Trainer(configuration: c).fit(model(), train: d.train, validation: d.validation, target: d.target)
            .history
        #expect(h.status == .diverged)
        #expect(h.reason.contains("lower the learning rate"))
        #expect(h.epochs.count < 20)
    }

    @Test func reduceOnPlateauLowersTheRate() {
        let d = moons()
        var c = TrainingConfiguration()
        c.epochs = 15
        c.learningRate = 0.05
        c.reduceOnPlateauPatience = 0
        c.metric = .accuracy
        let h = Trainer(configuration: c).fit(model(), train: d.train, validation: d.validation, target: d.target)
            .history
        #expect(h.epochs.contains { $0.learningRate < 0.05 * 0.5 })
    }

    /// The rate of each step, by hand: a warmup of 4 steps from a third of 0.01, then cosine from 0.01 over 16 steps;
    /// then the same run as a plain loop with those rates gives the trainer's losses bit for bit (recording the rates
    /// changes nothing).
    @Test func theRateOfEveryStepIsRecordedAsTheScheduleGivesIt() {
        let d = moons()
        let train = d.train.rows(Array(0..<40))
        var c = TrainingConfiguration()
        c.epochs = 5
        c.batchSize = .fixed(10)  // 4 steps per epoch, 20 in all
        c.schedule = .cosine
        c.warmupEpochs = 1  // 4 steps
        c.learningRate = 0.01
        c.seed = 4
        let h = Trainer(configuration: c).fit(model(), train: train, validation: d.validation, target: d.target).history
        @Sendable func byHand(_ t: Int) -> Double {
            t < 4
                ? 0.01 * (1.0 / 3 + (1 - 1.0 / 3) * Double(t) / 4)
                : 0.01 * (1 + cos(Double.pi * Double(t - 4) / 16)) / 2
        }
        let expected = (0..<20).map { Double(Float(byHand($0))) }
        #expect(h.stepLearningRates == expected)
        #expect(
            expected[0] == Double(Float(0.01 / 3)) && expected[4] == Double(Float(0.01))
                && expected[12] == Double(Float(0.005)))
        // Each epoch's rate is that of its last step.
        #expect(h.epochs.map(\.learningRate) == [3, 7, 11, 15, 19].map { expected[$0] })

        // The same training as a plain loop: the trainer's shuffling, batches and optimizer, the rates by hand.
        let net = model()
        let optimizer = Optimizer(
            for: net, rule: Adam(), schedule: LearningRateSchedule(description: "by hand") { byHand($0) })
        var rng = PhiloxRandom(seed: 4, stream: 0x5EED_0001)
        var losses: [Double] = []
        for _ in 0..<5 {
            let order = (0..<40).shuffled(using: &rng)
            for step in 0..<4 {
                let part = train.rows(Array(order[(step * 10)..<((step + 1) * 10)]))
                let (loss, gradients) = optimizer.valueAndGradients {
                    Evaluation.loss(outputs: net(part.x), data: part, task: .binary)
                }
                losses.append(Double(loss.scalar))
                optimizer.step(gradients)
            }
        }
        #expect(losses == h.stepLosses)

        // A step schedule: 20 steps, a tenth every 20 / 3 = 6 steps.
        c.schedule = .step
        c.warmupEpochs = 0
        let s = Trainer(configuration: c).fit(model(), train: train, validation: d.validation, target: d.target).history
        #expect(s.stepLearningRates == (0..<20).map { Double(Float(0.01 * pow(0.1, Double($0 / 6)))) })
        #expect(s.stepLearningRates?[5] == Double(Float(0.01)) && s.stepLearningRates?[6] == Double(Float(0.001)))
    }

    @Test func aHistoryWrittenBeforeStepRatesStillReads() throws {
        let d = moons()
        var c = TrainingConfiguration()
        c.epochs = 1
        let h = Trainer(configuration: c).fit(model(), train: d.train, validation: d.validation, target: d.target)
            .history
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(h)) as? [String: Any])
        #expect(object.removeValue(forKey: "stepLearningRates") != nil)
        let old = try JSONDecoder().decode(History.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.stepLearningRates == nil && old.stepLosses == h.stepLosses)
    }

    @Test func aCallbackCanStopTheRun() {
        final class StopAtThree: TrainingCallback {
            func epochEnded(_ record: EpochRecord, history: History) -> Bool { record.epoch < 3 }
        }
        let d = moons()
        var c = TrainingConfiguration()
        c.epochs = 10
        let trainer = Trainer(configuration: c)
        trainer.callbacks = [StopAtThree()]
        let h = trainer.fit(model(), train: d.train, validation: d.validation, target: d.target).history
        #expect(h.status == .stopped && h.epochs.count == 3)
    }

    @Test func historyIsWrittenAsCSVAndJSON() throws {
        let d = moons()
        var c = TrainingConfiguration()
        c.epochs = 2
        let h = Trainer(configuration: c).fit(model(), train: d.train, validation: d.validation, target: d.target)
            .history
        let lines = h.csv().split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("epoch,train_loss,val_loss,accuracy,auc,"))
        let decoded = try JSONDecoder().decode(History.self, from: JSONEncoder().encode(h))
        #expect(decoded == h)
    }
}

@Suite("Batch normalisation and odd batch sizes")
struct BatchNormTrainingTests {
    @Test func aLastBatchOfOneRowIsLeftOutInsteadOfTrapping() {
        let d = moons()
        let train = d.train.rows(Array(0..<33))  // batches of 32 and 1
        var c = TrainingConfiguration()
        c.epochs = 2
        c.batchSize = .fixed(32)
        let net = MLP(
            MLPSpecification(inputSize: 2, hiddenSizes: [8], outputSize: 1, batchNorm: .beforeActivation), seed: 1)
        let h = Trainer(configuration: c).fit(net, train: train, validation: d.validation, target: d.target).history
        #expect(h.stepsPerEpoch == 1)
        #expect(h.status == .completed)
    }
}
