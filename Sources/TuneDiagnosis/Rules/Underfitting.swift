/// `underfitting`: training and validation losses close together and flat, while high: far above the reference (the
/// best run's lowest validation loss) when one is known, or (without one) near the loss of guessing.
public struct Underfitting: DiagnosisRule {
    public let id = FindingID.underfitting
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let train = points(c.trainLoss).map(\.value).filter(\.isFinite)
        let validation = points(c.validationLoss).map(\.value).filter(\.isFinite)
        guard train.count >= t.minimumEpochs, let lastTrain = train.last, let lastValidation = validation.last,
            lastValidation > 0
        else { return nil }
        let close = lastTrain / lastValidation
        guard close >= t.underfitClose else { return nil }
        let lastThird = Array(train.suffix(max(train.count / 3, 2)))
        let movement = abs(lastThird[0] - lastThird[lastThird.count - 1]) / max(abs(lastTrain), 1e-12)
        guard movement <= t.flatFraction else { return nil }
        let level = Level(c)
        var evidence: [String: Double] = [
            "final_train_loss": lastTrain, "final_validation_loss": lastValidation, "train_over_validation": close,
            "last_third_change": movement
        ]
        let margin: Double, against: String
        if let ratio = level.ratioToReference, let reference = level.referenceLoss {
            guard level.isFar(t) == true else { return nil }
            margin = min(
                Finding.ratioAbove(ratio, t.farReference), Finding.below(movement, t.flatFraction),
                Finding.above(close, t.underfitClose))
            evidence["reference_loss"] = reference
            evidence["ratio_to_reference"] = ratio
            against =
                "its lowest validation loss is \(fmt(ratio))x the reference \(fmt(reference))\(c.referenceSource.map { " (\($0))" } ?? "")"
        } else if let chance = c.constantLoss, chance > 0, lastTrain >= t.underfitLevel * chance {
            margin = min(Finding.above(lastTrain / chance, t.underfitLevel), Finding.below(movement, t.flatFraction))
            evidence["reference_loss"] = chance
            against =
                "the training loss is \(fmt(100 * lastTrain / chance))% of the \(fmt(chance)) a model that predicts a constant scores"
        } else {
            return nil
        }
        return Finding(
            id: id, severity: .warning, confidence: Finding.confidence(margin: margin),
            epochs: [train.count - lastThird.count + 1, train.count],
            evidence: evidence,
            explanation:
                "Both losses are close (training \(fmt(lastTrain)), validation \(fmt(lastValidation))) and barely moved over the last third of training, and \(against): the network cannot fit even the training rows.",
            nextStep:
                "Give it more capacity (wider or deeper hidden layers, e.g. twice the width), train longer, lower regularisation (dropout, weight decay), or raise the learning rate 3x."
        )
    }
}
