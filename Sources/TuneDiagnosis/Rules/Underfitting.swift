/// `underfitting`: training and validation losses are both high, close together and flat.
public struct Underfitting: DiagnosisRule {
    public let id = "underfitting"
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let train = points(c.trainLoss).map(\.value).filter(\.isFinite)
        let validation = points(c.validationLoss).map(\.value).filter(\.isFinite)
        guard train.count >= t.minimumEpochs, let lastTrain = train.last, let lastValidation = validation.last else { return nil }
        // High: against chance when it is known, else against the first loss.
        let reference = c.chanceLoss ?? train[0]
        guard reference > 0, lastTrain >= t.underfitLevel * reference else { return nil }
        let gap = abs(lastValidation - lastTrain) / max(lastTrain, 1e-12)
        guard gap <= t.underfitGap else { return nil }
        let lastThird = Array(train.suffix(max(train.count / 3, 2)))
        let movement = abs(CurveMath.relativeChange(lastThird))
        guard movement <= t.flatFraction else { return nil }
        let against = c.chanceLoss != nil ? "the \(fmt(reference)) a model that guesses would score" : "its first value \(fmt(reference))"
        return Finding(
            id: id, severity: .warning, epochs: [train.count - lastThird.count + 1, train.count],
            evidence: ["final_train_loss": lastTrain, "final_validation_loss": lastValidation, "reference_loss": reference,
                       "relative_gap": gap, "last_third_change": movement],
            explanation: "Both losses stay high and close (training \(fmt(lastTrain)), validation \(fmt(lastValidation)), \(fmt(100 * lastTrain / reference))% of \(against)) and barely moved over the last third of training: the network cannot fit even the training rows.",
            nextStep: "Give it more capacity (wider or deeper hidden layers, e.g. twice the width), train longer, lower regularisation (dropout, weight decay), or raise the learning rate 3x.")
    }
}
