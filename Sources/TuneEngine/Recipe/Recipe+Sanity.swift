import Foundation
import TuneData
import TuneDiagnosis
import TuneNN
import TuneReport
import TuneRun
import TuneSearch
import TuneTensor
import TuneTraining

/// Stage 0: the untrained loss against chance, overfitting one batch, the input-free baseline.
extension RecipeRun {
    func sanity() -> SanityReport {
        let target = data.preprocessor.target
        let task = target.task
        var messages: [String] = []
        var passed = true
        // The untrained network's loss against chance.
        let model = MLP(base.with(dropout: 0), seed: settings.seed)
        model.eval()
        let initial = Double(
            withoutGradient { Evaluation.loss(outputs: model(data.train.x), data: data.train, task: task) }.scalar)
        let chance: Double
        switch task {
        case .binary: chance = log(2.0)
        case .multiclass: chance = log(Double(target.classes?.count ?? 2))
        case .regression: chance = 1  // the variance of the standardised target
        }
        if !initial.isFinite || initial > 10 * chance {
            passed = false
            messages.append(
                String(
                    format:
                        "FAIL: the untrained network's loss is %.3g, over 10x chance (%.3g): inputs far from unit scale or a broken output layer",
                    initial, chance))
        } else if initial > 2 * chance {
            messages.append(
                String(
                    format:
                        "warning: the untrained network's loss %.3g is over 2x chance (%.3g): the initial predictions are confidently wrong",
                    initial, chance))
        } else {
            messages.append(String(format: "initial loss %.3f against chance %.3f", initial, chance))
        }
        // Overfit one small batch: a working pipeline drives its loss to near zero.
        let rows = Array(0..<min(16, data.train.count))
        let (before, after, steps, rate) = overfitOneBatch(rows, task: task)
        if after <= Self.overfitTarget(before) {
            messages.append(
                String(
                    format: "one batch of %d rows overfitted: loss %.3g to %.3g in %d steps at lr %g", rows.count,
                    before, after, steps, rate))
        } else {
            passed = false
            messages.append(
                String(
                    format:
                        "FAIL: the network cannot overfit one batch of %d rows (loss %.3g to %.3g at best): identical inputs with different targets, or a bug between data and loss",
                    rows.count, before, after))
        }
        let baseline = Self.baselineMetrics(train: data.train, validation: data.validation, target: target)
        if let b = baseline[monitor.rawValue] {
            messages.append(String(format: "input-free baseline: validation %@ %.4f", monitor.rawValue, b))
        }
        return SanityReport(
            initialLoss: initial, chanceLoss: chance, batchRows: rows.count, batchLossBefore: before,
            batchLossAfter: after,
            batchSteps: steps, batchLearningRate: rate, baseline: baseline, passed: passed, messages: messages)
    }

    /// Trains a fresh network (no dropout) on the first `rows` of the training data with Adam at 1e-2 for up to 300
    /// steps, then at 1e-3 for up to 600, checking every 50 steps for a loss under `overfitTarget`: the loss before,
    /// the best reached, the steps taken and the last rate tried.
    func overfitOneBatch(_ rows: [Int], task: TaskKind) -> (before: Double, after: Double, steps: Int, rate: Double) {
        let batch = data.train.rows(rows)
        var before = 0.0, after = Double.infinity, steps = 0, rate = 0.0
        for (learningRate, budget) in [(1e-2, 300), (1e-3, 600)] {
            let net = MLP(base.with(dropout: 0), seed: settings.seed)
            net.train()
            let optimizer = Optimizer(for: net, rule: Adam(), schedule: .constant(learningRate))
            before = Double(withoutGradient { Evaluation.loss(outputs: net(batch.x), data: batch, task: task) }.scalar)
            for step in 1...budget {
                let (_, gradients) = optimizer.valueAndGradients {
                    Evaluation.loss(outputs: net(batch.x), data: batch, task: task)
                }
                optimizer.step(gradients)
                steps = step
                if step % 50 == 0 || step == budget {
                    net.eval()
                    after = Double(
                        withoutGradient { Evaluation.loss(outputs: net(batch.x), data: batch, task: task) }.scalar)
                    net.train()
                    if after <= Self.overfitTarget(before) { break }
                }
            }
            rate = learningRate
            if after <= Self.overfitTarget(before) { break }
        }
        return (before, after, steps, rate)
    }

    /// Near zero: a twentieth of the starting loss, or 0.02.
    static func overfitTarget(_ before: Double) -> Double { max(0.02, before / 20) }

    /// The validation metrics of a model that ignores its inputs: the training class frequencies for every row, or
    /// the training mean.
    public static func baselineMetrics(train: LabeledData, validation: LabeledData, target: Preprocessor.Target)
        -> [String: Double]
    {
        switch target.task {
        case .binary, .multiclass:
            guard let classes = train.classes else { return [:] }
            let k = target.task == .binary ? 2 : (target.classes?.count ?? 2)
            var counts = [Double](repeating: 0, count: k)
            for c in classes where c < k { counts[c] += 1 }
            let p = counts.map { $0 / Double(max(classes.count, 1)) }
            return Evaluation.metrics(
                probabilities: Array(repeating: p, count: validation.count), data: validation, target: target)
        case .regression:
            return Evaluation.metrics(
                predictions: Array(repeating: 0, count: validation.count), data: validation, target: target)
        }
    }
}
