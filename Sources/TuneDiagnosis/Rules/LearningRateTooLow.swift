/// `lr_too_low`: the training loss falls without bending (a straight line fits it about as well as a saturating
/// curve, or it falls as fast at the end as at the start) while far from where it could get: the fitted floor, or,
/// when the reference is known, the reference.
public struct LearningRateTooLow: DiagnosisRule {
    public let id = FindingID.lrTooLow
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let train = points(c.trainLoss).filter { $0.value.isFinite }
        guard train.count >= t.minimumEpochs else { return nil }
        let x = train.map { Double($0.epoch) }, y = train.map(\.value)
        // The floor of a saturating fit only means something for positive losses.
        guard y.allSatisfy({ $0 > 0 }) else { return nil }
        // A validation loss that has turned up means the training loss falls by memorising: bigger steps would not help.
        let validation = points(c.validationLoss).map(\.value).filter(\.isFinite)
        if let lowest = validation.min(), let end = validation.last, end > lowest * (1 + t.overfitRise / 2) {
            return nil
        }
        let linear = CurveMath.linearFit(x, y)
        let saturating = CurveMath.saturatingFit(x, y)
        guard linear.b < 0 else { return nil }
        // The fall per epoch over the first and the last third.
        let third = max(y.count / 3, 2)
        let early = (y[0] - y[third - 1]) / Double(third - 1),
            late = (y[y.count - third] - y[y.count - 1]) / Double(third - 1)
        let first = y[0], last = y[y.count - 1]
        let level = Level(c)
        var margin: Double
        var evidence: [String: Double] = [
            "linear_r2": linear.r2, "saturating_r2": saturating.r2, "late_over_early_fall": early > 0 ? late / early : 0
        ]
        var farness: String
        // No bend: the last third falls about as fast as the first.
        let noBend = early > 0 && late >= t.noBend * early
        if let end = validation.last, let share = level.share(end) {
            // Judged against the reference: no bend, and still far from it.
            guard noBend, share >= t.slowShare else { return nil }
            margin = min(Finding.above(late / early, t.noBend), Finding.above(share, t.slowShare))
            evidence["shortfall"] = share
            farness =
                "still \(fmt(100 * share))% of the way from the reference \(fmt(level.referenceLoss!)) back to the constant predictor's \(fmt(level.baselineLoss!))"
        } else if level.referenceLoss == nil, let constant = c.constantLoss, constant > 0, let end = validation.last {
            // Without a reference: no bend while the validation loss is still near the constant predictor's, where
            // a network that learned anything does not stay.
            guard noBend, end >= t.slowConstant * constant else { return nil }
            margin = min(Finding.above(late / early, t.noBend), Finding.above(end / constant, t.slowConstant))
            evidence["validation_over_constant"] = end / constant
            farness =
                "the validation loss is still \(fmt(100 * end / constant))% of the constant predictor's \(fmt(constant))"
        } else {
            // Judged by the curve alone: a straight line, far from the floor a saturating fit points to.
            guard linear.r2 >= t.linearFitR2, saturating.r2 - linear.r2 <= t.saturatingAdvantage else { return nil }
            let floor = max(min(saturating.floor, last), 0)
            let progress = first > floor ? (first - last) / (first - floor) : 1
            guard progress < t.convergedFraction else { return nil }
            margin = min(Finding.above(linear.r2, t.linearFitR2) * 20, Finding.below(progress, t.convergedFraction))
            evidence["progress_to_floor"] = progress
            farness = "has covered \(fmt(100 * progress))% of its way down to the floor a saturating fit points to"
        }
        // Plain SGD at a small rate is the classic cause: the settings make the finding firmer.
        if c.hyperparameters.isPlainSGD { margin += 0.5 }
        let perEpoch = -linear.b / max(first, 1e-12)
        evidence["fall_per_epoch"] = perEpoch
        let rate = c.hyperparameters.learningRate ?? c.learningRate.compactMap { $0 }.last
        let optimizer =
            c.hyperparameters.isPlainSGD
            ? " Plain SGD without momentum is slow: momentum 0.9 (or Adam at 1e-3) also helps." : ""
        return Finding(
            id: id, severity: .warning, confidence: Finding.confidence(margin: margin),
            epochs: [train[0].epoch, train[train.count - 1].epoch],
            evidence: evidence,
            explanation:
                "The training loss falls without bending (\(fmt(100 * perEpoch))% of its first value per epoch; the last third fell \(fmt(early > 0 ? 100 * late / early : 0))% as fast as the first; R^2 \(fmt(linear.r2)) for a straight line) and \(farness): the steps are too small.",
            nextStep:
                "Raise the learning rate 3-10x (try \(rate.map { "\(fmt($0 * 3)) to \(fmt($0 * 10))" } ?? "3x and 10x the current one")), or run the LR range test (tune lr-find) to pick one.\(optimizer)"
        )
    }
}
