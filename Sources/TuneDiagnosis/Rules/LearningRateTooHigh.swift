/// `lr_too_high`: NaN or infinite losses, an explosion above the first loss, large bounces at a high level, or a loss
/// that ends above where it started.
public struct LearningRateTooHigh: DiagnosisRule {
    public let id = "lr_too_high"
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let next = "Lower the learning rate 10x\(c.learningRate.compactMap { $0 }.first.map { " (to \(fmt($0 / 10)))" } ?? ""), add a warmup of a few epochs, and clip gradients (for example at their 90th percentile norm)."
        // Non-finite values anywhere.
        // The first of equal epochs is kept, so a training loss is named before a validation loss.
        if let bad = (points(c.trainLoss) + points(c.validationLoss)).filter({ !$0.value.isFinite }).min(by: { $0.epoch < $1.epoch }) {
            return Finding(id: id, severity: .critical, epochs: [bad.epoch], evidence: ["first_non_finite_epoch": Double(bad.epoch)],
                           explanation: "The loss became \(bad.value) at epoch \(bad.epoch): training diverged.",
                           nextStep: next)
        }
        if let bad = c.stepLoss.firstIndex(where: { !$0.isFinite }) {
            return Finding(id: id, severity: .critical, epochs: [], evidence: ["first_non_finite_step": Double(bad + 1)],
                           explanation: "The loss became \(c.stepLoss[bad]) at step \(bad + 1): training diverged.", nextStep: next)
        }
        let train = points(c.trainLoss)
        guard train.count >= 2 else { return nil }
        let first = train[0].value, values = train.map(\.value)
        // An explosion, or an end above the start.
        // Relative to the first loss's size, so that losses that can be negative (likelihoods) are judged fairly.
        if let peak = values.dropFirst().max(), peak > first + (t.explosionFactor - 1) * abs(first) {
            let epoch = train[values.firstIndex(of: peak)!].epoch
            return Finding(id: id, severity: .critical, epochs: [epoch], evidence: ["first_loss": first, "peak_loss": peak],
                           explanation: "The training loss rose from \(fmt(first)) to \(fmt(peak)) at epoch \(epoch): the steps overshoot.",
                           nextStep: next)
        }
        if values[values.count - 1] > first {
            return Finding(id: id, severity: .critical, epochs: [train[train.count - 1].epoch],
                           evidence: ["first_loss": first, "last_loss": values[values.count - 1]],
                           explanation: "The training loss ended at \(fmt(values[values.count - 1])), above its first value \(fmt(first)): training made the model worse.",
                           nextStep: next)
        }
        // Large bounces late in training while the loss is still high.
        guard values.count >= 4 else { return nil }
        let late = Array(values.suffix(values.count - values.count / 2))
        let jumps = zip(late.dropFirst(), late).map { abs($0 - $1) / max(abs($1), 1e-12) }
        let bounce = CurveMath.mean(jumps)
        let upward = zip(late.dropFirst(), late).filter { $0 > $1 }.count
        let lowestLate = late.min()!
        let level = first > 0 ? lowestLate / first : 0
        if let chance = c.chanceLoss, lowestLate > chance, bounce > t.chanceBounce {
            return Finding(id: id, severity: .warning, epochs: [train[train.count - late.count].epoch, train[train.count - 1].epoch],
                           evidence: ["mean_relative_jump": bounce, "lowest_late_loss": lowestLate, "chance_loss": chance],
                           explanation: "Over the second half the training loss bounces (\(fmt(100 * bounce))% from epoch to epoch) and never gets below \(fmt(chance)), the loss of guessing: the steps are too large to settle into anything.",
                           nextStep: next)
        }
        if bounce > t.bounceRelative && Double(upward) >= Double(jumps.count) / 3 && level > t.bounceLevel {
            return Finding(id: id, severity: .warning, epochs: [train[train.count - late.count].epoch, train[train.count - 1].epoch],
                           evidence: ["median_relative_jump": bounce, "late_level_vs_first": level],
                           explanation: "Late in training the loss jumps by \(fmt(100 * bounce))% from epoch to epoch (rising in \(upward) of \(jumps.count) epochs) while still at \(fmt(100 * level))% of its first value: the steps bounce across the valley.",
                           nextStep: next)
        }
        return nil
    }
}
