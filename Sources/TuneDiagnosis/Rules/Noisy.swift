/// `noisy`: each step's gradient is a noisy estimate. A batch of a few rows (when the settings say so) whose curves
/// jitter; or, without the batch size, step losses that scatter widely around their trend (mean absolute residual
/// around a moving median), or a validation metric that keeps jumping late in training.
public struct Noisy: DiagnosisRule {
    public let id = FindingID.noisy
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let next = nextStep(c)
        // The settings name the batch size: a few rows per step is noise by construction; the curves show how much.
        if let b = c.batchSize {
            guard b <= t.noisyBatch else { return nil }
            let jitter = epochJitter(c)
            return Finding(
                id: id, severity: .warning,
                confidence: Finding.confidence(
                    margin: Finding.below(Double(b), Double(t.noisyBatch) + 1) + 10 * jitter),
                epochs: [], evidence: ["batch_size": Double(b), "validation_jitter": jitter],
                explanation:
                    "Each step averages the gradient over \(b) row\(b == 1 ? "" : "s") only (\(c.hyperparameters.source ?? "the settings")): a noisy estimate, and the validation loss jitters by \(fmt(100 * jitter))% from epoch to epoch around its trend.",
                nextStep: next)
        }
        return stepNoise(c, t, next: next) ?? metricNoise(c, t, next: next)
    }

    /// The advice: a larger batch (sized by the training rows when they are known), a lower or decaying rate, or
    /// averaged weights.
    func nextStep(_ c: Curves) -> String {
        let batchAdvice: String
        if let n = c.estimatedTrainingRows, let b = c.batchSize {
            let root = Double(n).squareRoot()
            batchAdvice =
                "a batch size 2-4x larger (now \(b); sqrt of the \(n) training rows is \(Int(root.rounded())), try \(min(4 * b, max(2 * b, Int(root.rounded()))))"
        } else if let b = c.batchSize {
            batchAdvice = "a batch size 2-4x larger (now \(b), try \(4 * b); toward sqrt(N) for N training rows)"
        } else {
            batchAdvice = "a batch size 2-4x larger (toward or above sqrt(N) for N training rows)"
        }
        return
            "Use \(batchAdvice)), or a lower or decaying learning rate (cosine), or average the weights of the last epochs."
    }

    /// Step losses (at least 50) that scatter widely around their moving median in the second half of training.
    func stepNoise(_ c: Curves, _ t: Thresholds, next: String) -> Finding? {
        let steps = c.stepLoss.filter(\.isFinite)
        guard steps.count >= 50 else { return nil }
        let window = max(steps.count / 50, 5)
        let half = steps.count / 2
        // The smoothed steps of the second half only: the first half's are not used.
        let smooth = CurveMath.movingMedian(steps, window: window, from: half)
        let residuals = zip(steps[half...], smooth).map { $0 - $1 }
        let level = CurveMath.mean(Array(steps[half...]))
        // Against the late mean loss, but not below a tenth of the early one: near zero, any wiggle looks large.
        let early = CurveMath.mean(Array(steps.prefix(max(steps.count / 20, 1))))
        let spread = CurveMath.mean(residuals.map { abs($0) }) / max(abs(level), 0.1 * abs(early), 1e-12)
        guard spread > t.stepNoiseRelative else { return nil }
        return Finding(
            id: id, severity: .warning,
            confidence: Finding.confidence(margin: Finding.above(spread, t.stepNoiseRelative)),
            epochs: [], evidence: ["step_noise_relative": spread, "smoothed_level": level],
            explanation:
                "In the second half of training the step losses scatter by \(fmt(100 * spread))% of their mean (\(fmt(level))) around their trend: each step's gradient is a noisy estimate.",
            nextStep: next)
    }

    /// A validation metric (higher is better, at least 10 epochs) that keeps jumping over the last 30% of the epochs.
    func metricNoise(_ c: Curves, _ t: Thresholds, next: String) -> Finding? {
        let metric = points(c.metric).map(\.value).filter(\.isFinite)
        guard metric.count >= 10, c.metricHigherIsBetter else { return nil }
        let late = Array(metric.suffix(max(metric.count * 3 / 10, 3)))
        let changes = zip(late.dropFirst(), late).map { $0 - $1 }
        let spread = CurveMath.standardDeviation(changes)
        guard spread > t.metricNoise else { return nil }
        let name = c.metricName ?? "metric"
        return Finding(
            id: id, severity: .warning,
            confidence: Finding.confidence(margin: Finding.above(spread, t.metricNoise)),
            epochs: [metric.count - late.count + 1, metric.count],
            evidence: ["late_metric_noise": spread],
            explanation:
                "Over the last \(late.count) epochs the validation \(name) jumps by about \(fmt(spread)) from epoch to epoch: which epoch looks best is partly luck.",
            nextStep: next)
    }

    /// The mean absolute relative residual of the validation loss around its 5-epoch moving median, over the second half.
    func epochJitter(_ c: Curves) -> Double {
        let v = points(c.validationLoss).map(\.value).filter(\.isFinite)
        guard v.count >= 4 else { return 0 }
        let half = v.count / 2
        let smooth = CurveMath.movingMedian(v, window: 5, from: half)
        return CurveMath.mean(zip(v[half...], smooth).map { abs($0 - $1) / max(abs($1), 1e-12) })
    }
}
