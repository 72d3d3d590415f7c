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
        var evidence: [String: Double] = [
            "linear_r2": linear.r2, "saturating_r2": saturating.r2, "late_over_early_fall": early > 0 ? late / early : 0
        ]
        guard
            let far = farness(
                c, t, linear: linear, saturating: saturating, early: early, late: late, validation: validation,
                first: first, last: last)
        else { return nil }
        var margin = far.margin
        evidence[far.key] = far.value
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
                "The training loss falls without bending (\(fmt(100 * perEpoch))% of its first value per epoch; the last third fell \(fmt(early > 0 ? 100 * late / early : 0))% as fast as the first; R^2 \(fmt(linear.r2)) for a straight line) and \(far.words): the steps are too small.",
            nextStep:
                "Raise the learning rate 3-10x (try \(rate.map { "\(fmt($0 * 3)) to \(fmt($0 * 10))" } ?? "3x and 10x the current one")), or run the LR range test (tune lr-find) to pick one.\(optimizer)"
        )
    }

    /// How far the run still is from where it could get, as a margin, one piece of evidence and words.
    struct Farness {
        var margin: Double
        var key: String
        var value: Double
        var words: String
    }

    /// Whether the training loss falls without bending while far from where it could get: judged against the
    /// reference when there is one, else against the constant predictor's loss, else by the curve alone; nil when not.
    func farness(
        _ c: Curves, _ t: Thresholds, linear: (a: Double, b: Double, r2: Double, residual: Double),
        saturating: (floor: Double, scale: Double, tau: Double, r2: Double), early: Double, late: Double,
        validation: [Double], first: Double, last: Double
    ) -> Farness? {
        let level = Level(c)
        // No bend: the last third falls about as fast as the first.
        let noBend = early > 0 && late >= t.noBend * early
        if let end = validation.last, let share = level.share(end) {
            // Judged against the reference: no bend, and still far from it.
            guard noBend, share >= t.slowShare else { return nil }
            return Farness(
                margin: min(Finding.above(late / early, t.noBend), Finding.above(share, t.slowShare)),
                key: "shortfall", value: share,
                words:
                    "still \(fmt(100 * share))% of the way from the reference \(fmt(level.referenceLoss!)) back to the constant predictor's \(fmt(level.baselineLoss!))"
            )
        } else if level.referenceLoss == nil, let constant = c.constantLoss, constant > 0, let end = validation.last {
            // Without a reference: no bend while the validation loss is still near the constant predictor's, where
            // a network that learned anything does not stay.
            guard noBend, end >= t.slowConstant * constant else { return nil }
            return Farness(
                margin: min(Finding.above(late / early, t.noBend), Finding.above(end / constant, t.slowConstant)),
                key: "validation_over_constant", value: end / constant,
                words:
                    "the validation loss is still \(fmt(100 * end / constant))% of the constant predictor's \(fmt(constant))"
            )
        } else {
            // Judged by the curve alone: a straight line, far from the floor a saturating fit points to.
            guard linear.r2 >= t.linearFitR2, saturating.r2 - linear.r2 <= t.saturatingAdvantage else { return nil }
            let floor = max(min(saturating.floor, last), 0)
            let progress = first > floor ? (first - last) / (first - floor) : 1
            guard progress < t.convergedFraction else { return nil }
            return Farness(
                margin: min(Finding.above(linear.r2, t.linearFitR2) * 20, Finding.below(progress, t.convergedFraction)),
                key: "progress_to_floor", value: progress,
                words: "has covered \(fmt(100 * progress))% of its way down to the floor a saturating fit points to")
        }
    }
}
