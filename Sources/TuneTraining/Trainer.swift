import Foundation
import TuneData
import TuneNN
import TuneTensor
import TuneRandom

/// Something that watches a run: called after every epoch, it may stop the run (a tuner's pruner does).
public protocol TrainingCallback: AnyObject {
    /// Return false to stop the run; `history` already holds `record`.
    func epochEnded(_ record: EpochRecord, history: History) -> Bool
}

/// The outcome of `Trainer.fit`.
public struct TrainingResult: Sendable {
    public var history: History
    public var batchSize: Int
    /// Why that batch size, when it was chosen automatically.
    public var batchSizeReason: String?
    public var monitor: MetricName
}

/// Trains a network on prepared data: seeded reshuffling every epoch, mini-batches, the validation metrics after each
/// epoch, selection of the weights by the monitored metric, early stopping, reduce-on-plateau and a divergence guard.
public final class Trainer {
    public let configuration: TrainingConfiguration
    /// Called after every epoch with its record.
    public var onEpoch: ((EpochRecord, History) -> Void)?
    /// Called after every step: epoch, step within the epoch, steps per epoch, seconds since the epoch began.
    public var onStep: ((Int, Int, Int, Double) -> Void)?
    public var callbacks: [TrainingCallback] = []

    public init(configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    /// The optimizer of the configuration over `model`'s parameters.
    public static func makeOptimizer(_ c: TrainingConfiguration, model: Module, schedule: LearningRateSchedule)
        -> TrainingOptimizer
    {
        let clipping = c.gradientClipNorm.map { GradientClipping.norm(Float($0)) }
        let wd = Float(c.weightDecay)
        switch c.optimizer {
        case .adam: return Optimizer(for: model, rule: Adam(weightDecay: wd), schedule: schedule, clipping: clipping)
        case .adamw:
            return Optimizer(for: model, rule: Adam.adamW(weightDecay: wd), schedule: schedule, clipping: clipping)
        case .sgd:
            return Optimizer(
                for: model, rule: SGD(momentum: Float(c.momentum), weightDecay: wd), schedule: schedule,
                clipping: clipping)
        case .rmsprop:
            return Optimizer(
                for: model, rule: RMSprop(weightDecay: wd, momentum: Float(c.momentum)), schedule: schedule,
                clipping: clipping)
        case .adagrad:
            return Optimizer(for: model, rule: Adagrad(weightDecay: wd), schedule: schedule, clipping: clipping)
        }
    }

    /// Trains `model` on `train`, evaluating on `validation` after every epoch; at the end the model holds the
    /// weights of the best epoch by the monitored metric.
    public func fit(_ model: some UnaryLayer, train: LabeledData, validation: LabeledData, target: Preprocessor.Target)
        -> TrainingResult
    {
        let c = configuration
        let task = target.task
        let monitor = c.metric ?? MetricName.defaultMonitor(for: task)
        let (batch, batchReason) = c.batchSize.resolve(trainingRows: train.count)
        let hasBatchNorm = model.namedBuffers().contains { $0.name.hasSuffix("runningMean") }
        // A last batch of one row cannot be batch-normalised (as in PyTorch); it is left out of that epoch.
        let remainder = train.count % batch
        let skipLast = hasBatchNorm && remainder == 1 && train.count > 1
        let stepsPerEpoch = (train.count + batch - 1) / batch - (skipLast ? 1 : 0)
        let schedule = c.learningRateSchedule(
            totalSteps: c.epochs * stepsPerEpoch, warmupSteps: c.warmupEpochs * stepsPerEpoch)
        let optimizer = Trainer.makeOptimizer(c, model: model, schedule: schedule)
        var plateau = c.reduceOnPlateauPatience.map {
            ReduceOnPlateau(mode: monitor.higherIsBetter ? .max : .min, factor: 0.1, patience: $0)
        }
        var rng = PhiloxRandom(seed: c.seed, stream: 0x5EED_0001)

        var history = History()
        history.stepsPerEpoch = stepsPerEpoch
        history.stepLearningRates = []
        history.monitor = monitor.rawValue
        history.monitorHigherIsBetter = monitor.higherIsBetter
        var best: (value: Double, loss: Double, epoch: Int, state: [(name: String, tensor: Tensor)])?
        var lowestLoss = Double.infinity
        var epochsWithoutImprovement = 0

        training: for epoch in 1...c.epochs {
            let started = DispatchTime.now().uptimeNanoseconds
            model.train()
            let order = (0..<train.count).shuffled(using: &rng)
            var lossSum = 0.0, seen = 0
            var normSum = 0.0, normMax = 0.0
            for step in 0..<stepsPerEpoch {
                let rows = Array(order[(step * batch)..<min((step + 1) * batch, train.count)])
                let part = train.rows(rows)
                let (loss, gradients) = optimizer.valueAndGradients {
                    Evaluation.loss(
                        outputs: model(part.x), data: part, task: task, labelSmoothing: Float(c.labelSmoothing))
                }
                let value = Double(loss.scalar)
                history.stepLosses.append(value)
                history.stepLearningRates?.append(Double(optimizer.learningRate))
                guard value.isFinite else {
                    history.status = .diverged
                    history.reason =
                        "the training loss became \(value) at epoch \(epoch), step \(step + 1): lower the learning rate (10x), add warmup or clip gradients"
                    break training
                }
                optimizer.step(gradients)
                let norm = Double(optimizer.lastGradientNorm)
                guard norm.isFinite else {
                    history.status = .diverged
                    history.reason =
                        "the gradient norm became \(norm) at epoch \(epoch), step \(step + 1): lower the learning rate (10x) or clip gradients"
                    break training
                }
                lossSum += value * Double(rows.count)
                seen += rows.count
                normSum += norm
                normMax = max(normMax, norm)
                onStep?(epoch, step + 1, stepsPerEpoch, Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9)
            }
            let learningRate = Double(schedule(max(epoch * stepsPerEpoch - 1, 0))) * Double(optimizer.learningRateScale)
            model.eval()
            let outputs = withoutGradient { model(validation.x) }
            let validationLoss = Double(
                withoutGradient { Evaluation.loss(outputs: outputs, data: validation, task: task) }.scalar)
            let metrics = Evaluation.metrics(outputs: outputs, data: validation, target: target)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
            let record = EpochRecord(
                epoch: epoch, trainLoss: lossSum / Double(max(seen, 1)), validationLoss: validationLoss,
                metrics: metrics, learningRate: learningRate,
                gradientNormMean: normSum / Double(max(stepsPerEpoch, 1)), gradientNormMax: normMax,
                seconds: seconds, samplesPerSecond: Double(seen) / max(seconds, 1e-9))
            history.epochs.append(record)
            if validationLoss < lowestLoss {
                lowestLoss = validationLoss
                history.lowestValidationLossEpoch = epoch
            }
            if !validationLoss.isFinite {
                history.status = .diverged
                history.reason =
                    "the validation loss became \(validationLoss) at epoch \(epoch): lower the learning rate (10x)"
                onEpoch?(record, history)
                break
            }
            // Selection by the monitored metric (the validation loss stands in where the metric is undefined).
            let value = metrics[monitor.rawValue] ?? (monitor.higherIsBetter ? -validationLoss : validationLoss)
            // A tie on the metric (an AUC of 1 reached twice, say) goes to the lower validation loss; a tie does not
            // reset early stopping's patience.
            var improved = false, tieBroken = false
            if let b = best {
                improved = monitor.higherIsBetter ? value > b.value + c.minimumDelta : value < b.value - c.minimumDelta
                tieBroken = !improved && value == b.value && validationLoss < b.loss
            } else {
                improved = true
            }
            if improved || tieBroken {
                best = (value, validationLoss, epoch, Checkpoint.state(of: model))
                history.bestEpoch = epoch
            }
            if improved {
                epochsWithoutImprovement = 0
            } else {
                epochsWithoutImprovement += 1
            }
            if var rule = plateau {
                let rate = Double(optimizer.learningRateScale)
                let next = rule.step(value, learningRate: rate)
                optimizer.learningRateScale = Float(next)
                plateau = rule
            }
            onEpoch?(record, history)
            if let patience = c.earlyStoppingPatience, epochsWithoutImprovement >= patience {
                history.status = .earlyStopped
                history.reason =
                    "no improvement of \(monitor.rawValue) for \(patience) epochs after epoch \(history.bestEpoch ?? epoch)"
                break
            }
            if callbacks.contains(where: { !$0.epochEnded(record, history: history) }) {
                history.status = .stopped
                history.reason = "stopped by a callback after epoch \(epoch)"
                break
            }
        }
        if history.status == .completed { history.reason = "ran all \(c.epochs) epochs" }
        if let best { Checkpoint.restore(best.state, into: model) }
        model.eval()
        return TrainingResult(history: history, batchSize: batch, batchSizeReason: batchReason, monitor: monitor)
    }
}
