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
        let stepsPerEpoch = Trainer.stepsPerEpoch(model, rows: train.count, batch: batch)
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
        var selection = Selection()

        for epoch in 1...c.epochs {
            let started = DispatchTime.now().uptimeNanoseconds
            model.train()
            let order = (0..<train.count).shuffled(using: &rng)
            guard
                let sums = trainEpoch(
                    model, epoch: epoch, order: order, train: train, task: task, batch: batch,
                    stepsPerEpoch: stepsPerEpoch, optimizer: optimizer, started: started, history: &history)
            else { break }
            let learningRate = Double(schedule(max(epoch * stepsPerEpoch - 1, 0))) * Double(optimizer.learningRateScale)
            let record = evaluate(
                model, epoch: epoch, sums: sums, learningRate: learningRate, stepsPerEpoch: stepsPerEpoch,
                validation: validation, target: target, started: started)
            history.epochs.append(record)
            let stop = endEpoch(
                record, model: model, monitor: monitor, optimizer: optimizer, plateau: &plateau,
                selection: &selection, history: &history)
            if stop { break }
        }
        if history.status == .completed { history.reason = "ran all \(c.epochs) epochs" }
        if let best = selection.best { Checkpoint.restore(best.state, into: model) }
        model.eval()
        return TrainingResult(history: history, batchSize: batch, batchSizeReason: batchReason, monitor: monitor)
    }

    /// The optimizer steps of one epoch over `train`'s rows of `batch` size. A last batch of one row cannot be
    /// batch-normalised (as in PyTorch); with batch normalisation it is left out of the epoch.
    private static func stepsPerEpoch(_ model: some UnaryLayer, rows: Int, batch: Int) -> Int {
        let hasBatchNorm = model.namedBuffers().contains { $0.name.hasSuffix("runningMean") }
        let remainder = rows % batch
        let skipLast = hasBatchNorm && remainder == 1 && rows > 1
        return (rows + batch - 1) / batch - (skipLast ? 1 : 0)
    }

    /// The training loss and gradient norms an epoch sums up for its record.
    private struct EpochSums {
        /// Each step's loss times its rows.
        var lossSum = 0.0
        /// The rows the steps saw.
        var seen = 0
        var normSum = 0.0
        var normMax = 0.0
    }

    /// One epoch's optimizer steps over the rows of `train` in `order`, each step's loss and learning rate recorded
    /// in `history`. Nil when the training loss or the gradient norm stops being finite: then `history` says the run
    /// diverged, and why.
    private func trainEpoch(
        _ model: some UnaryLayer, epoch: Int, order: [Int], train: LabeledData, task: TaskKind, batch: Int,
        stepsPerEpoch: Int, optimizer: TrainingOptimizer, started: UInt64, history: inout History
    ) -> EpochSums? {
        let c = configuration
        var sums = EpochSums()
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
                return nil
            }
            optimizer.step(gradients)
            let norm = Double(optimizer.lastGradientNorm)
            guard norm.isFinite else {
                history.status = .diverged
                history.reason =
                    "the gradient norm became \(norm) at epoch \(epoch), step \(step + 1): lower the learning rate (10x) or clip gradients"
                return nil
            }
            sums.lossSum += value * Double(rows.count)
            sums.seen += rows.count
            sums.normSum += norm
            sums.normMax = max(sums.normMax, norm)
            onStep?(epoch, step + 1, stepsPerEpoch, Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9)
        }
        return sums
    }

    /// The record of an epoch that began at `started`: `model` evaluated on `validation` in evaluation mode, beside
    /// the epoch's training `sums`.
    private func evaluate(
        _ model: some UnaryLayer, epoch: Int, sums: EpochSums, learningRate: Double, stepsPerEpoch: Int,
        validation: LabeledData, target: Preprocessor.Target, started: UInt64
    ) -> EpochRecord {
        let task = target.task
        model.eval()
        let outputs = withoutGradient { model(validation.x) }
        let validationLoss = Double(
            withoutGradient { Evaluation.loss(outputs: outputs, data: validation, task: task) }.scalar)
        let metrics = Evaluation.metrics(outputs: outputs, data: validation, target: target)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        return EpochRecord(
            epoch: epoch, trainLoss: sums.lossSum / Double(max(sums.seen, 1)), validationLoss: validationLoss,
            metrics: metrics, learningRate: learningRate,
            gradientNormMean: sums.normSum / Double(max(stepsPerEpoch, 1)), gradientNormMax: sums.normMax,
            seconds: seconds, samplesPerSecond: Double(sums.seen) / max(seconds, 1e-9))
    }

    /// The weights chosen so far, and what early stopping counts.
    private struct Selection {
        /// The best epoch by the monitored metric: its value, validation loss, number and weights.
        var best: (value: Double, loss: Double, epoch: Int, state: [(name: String, tensor: Tensor)])?
        var lowestLoss = Double.infinity
        var epochsWithoutImprovement = 0
    }

    /// What follows an epoch's `record` (already in `history`): the lowest validation loss, the divergence guard,
    /// selection of the weights by the monitored metric, reduce-on-plateau, `onEpoch`, early stopping and the
    /// callbacks. True when the run stops here (`history` then says why).
    private func endEpoch(
        _ record: EpochRecord, model: some UnaryLayer, monitor: MetricName, optimizer: TrainingOptimizer,
        plateau: inout ReduceOnPlateau?, selection: inout Selection, history: inout History
    ) -> Bool {
        let c = configuration
        let epoch = record.epoch, validationLoss = record.validationLoss, metrics = record.metrics
        if validationLoss < selection.lowestLoss {
            selection.lowestLoss = validationLoss
            history.lowestValidationLossEpoch = epoch
        }
        if !validationLoss.isFinite {
            history.status = .diverged
            history.reason =
                "the validation loss became \(validationLoss) at epoch \(epoch): lower the learning rate (10x)"
            onEpoch?(record, history)
            return true
        }
        // Selection by the monitored metric (the validation loss stands in where the metric is undefined).
        let value = metrics[monitor.rawValue] ?? (monitor.higherIsBetter ? -validationLoss : validationLoss)
        select(value, record: record, model: model, monitor: monitor, selection: &selection, history: &history)
        if var rule = plateau {
            let rate = Double(optimizer.learningRateScale)
            let next = rule.step(value, learningRate: rate)
            optimizer.learningRateScale = Float(next)
            plateau = rule
        }
        onEpoch?(record, history)
        if let patience = c.earlyStoppingPatience, selection.epochsWithoutImprovement >= patience {
            history.status = .earlyStopped
            history.reason =
                "no improvement of \(monitor.rawValue) for \(patience) epochs after epoch \(history.bestEpoch ?? epoch)"
            return true
        }
        if callbacks.contains(where: { !$0.epochEnded(record, history: history) }) {
            history.status = .stopped
            history.reason = "stopped by a callback after epoch \(epoch)"
            return true
        }
        return false
    }

    /// Takes the epoch's monitored `value`: keeps `model`'s weights as the best when it improved on the best by more
    /// than the minimum delta, or tied it with a lower validation loss, and counts the epochs without improvement.
    private func select(
        _ value: Double, record: EpochRecord, model: some UnaryLayer, monitor: MetricName,
        selection: inout Selection, history: inout History
    ) {
        let c = configuration
        let epoch = record.epoch, validationLoss = record.validationLoss
        // A tie on the metric (an AUC of 1 reached twice, say) goes to the lower validation loss; a tie does not
        // reset early stopping's patience.
        var improved = false, tieBroken = false
        if let b = selection.best {
            improved = monitor.higherIsBetter ? value > b.value + c.minimumDelta : value < b.value - c.minimumDelta
            tieBroken = !improved && value == b.value && validationLoss < b.loss
        } else {
            improved = true
        }
        if improved || tieBroken {
            selection.best = (value, validationLoss, epoch, Checkpoint.state(of: model))
            history.bestEpoch = epoch
        }
        if improved {
            selection.epochsWithoutImprovement = 0
        } else {
            selection.epochsWithoutImprovement += 1
        }
    }
}
