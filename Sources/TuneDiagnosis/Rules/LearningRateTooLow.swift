/// `lr_too_low`: the training loss falls almost linearly (a straight line fits about as well as a saturating curve)
/// and is far from the floor the saturating fit points to.
public struct LearningRateTooLow: DiagnosisRule {
    public let id = "lr_too_low"
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let train = points(c.trainLoss).filter { $0.value.isFinite }
        guard train.count >= t.minimumEpochs else { return nil }
        let x = train.map { Double($0.epoch) }, y = train.map(\.value)
        // The floor of a saturating fit only means something for positive losses.
        guard y.allSatisfy({ $0 > 0 }) else { return nil }
        let linear = CurveMath.linearFit(x, y)
        let saturating = CurveMath.saturatingFit(x, y)
        guard linear.b < 0, linear.r2 >= t.linearFitR2, saturating.r2 - linear.r2 <= t.saturatingAdvantage else { return nil }
        // A validation loss that has turned up means the training loss falls by memorising: bigger steps would not help.
        let validation = points(c.validationLoss).map(\.value).filter(\.isFinite)
        if let lowest = validation.min(), let end = validation.last, end > lowest * (1 + t.overfitRise / 2) { return nil }
        // How far the loss came on its way to the floor the saturating fit suggests (a linear fall has a distant floor).
        let first = y[0], last = y[y.count - 1]
        let floor = max(min(saturating.floor, last), 0)
        let progress = first > floor ? (first - last) / (first - floor) : 1
        guard progress < t.convergedFraction else { return nil }
        let perEpoch = -linear.b / max(first, 1e-12)
        return Finding(
            id: id, severity: .warning, epochs: [train[0].epoch, train[train.count - 1].epoch],
            evidence: ["linear_r2": linear.r2, "saturating_r2": saturating.r2, "fall_per_epoch": perEpoch, "progress_to_floor": progress],
            explanation: "The training loss falls in a nearly straight line (R^2 \(fmt(linear.r2)) for a line against \(fmt(saturating.r2)) for a saturating curve), \(fmt(100 * perEpoch))% of its first value per epoch, and has covered \(fmt(100 * progress))% of its way down: the steps are too small to bend the curve.",
            nextStep: "Raise the learning rate 3-10x (try \(c.learningRate.compactMap { $0 }.last.map { "\(fmt($0 * 3)) to \(fmt($0 * 10))" } ?? "3x and 10x the current one")), or run the LR range test (tune lr-find) to pick one.")
    }
}
