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
extension RecipeStudy {
    func sanity() -> SanityReport {
        let target = data.preprocessor.target
        let task = target.task
        var messages: [String] = []
        // The untrained network's loss against chance.
        let model = MLP(base.with(dropout: 0), seed: settings.seed)
        model.eval()
        let initial = Double(
            withoutGradient { Evaluation.loss(outputs: model(data.train.x), data: data.train, task: task) }.scalar)
        let chance = RecipeDecisions.chanceLoss(task, classes: target.classes?.count)
        let (initialPassed, initialMessage) = RecipeDecisions.initialLoss(initial, chance: chance)
        messages.append(initialMessage)
        // Overfit one small batch: a working pipeline drives its loss to near zero.
        let rows = Array(0..<min(16, data.train.count))
        let (before, after, steps, rate) = overfitOneBatch(rows, task: task)
        let (overfitted, overfitMessage) = RecipeDecisions.overfitBatch(
            rows: rows.count, before: before, after: after, steps: steps, rate: rate)
        messages.append(overfitMessage)
        let baseline = RecipeRun.baselineMetrics(train: data.train, validation: data.validation, target: target)
        if let b = baseline[monitor.rawValue] {
            messages.append(String(format: "input-free baseline: validation %@ %.4f", monitor.rawValue, b))
        }
        return SanityReport(
            initialLoss: initial, chanceLoss: chance, batchRows: rows.count, batchLossBefore: before,
            batchLossAfter: after,
            batchSteps: steps, batchLearningRate: rate, baseline: baseline, passed: initialPassed && overfitted,
            messages: messages)
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
                    if after <= RecipeDecisions.overfitTarget(before) { break }
                }
            }
            rate = learningRate
            if after <= RecipeDecisions.overfitTarget(before) { break }
        }
        return (before, after, steps, rate)
    }
}

extension RecipeRun {
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
