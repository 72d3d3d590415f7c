/// `overfitting`: the validation loss reaches a minimum and rises while the training loss keeps falling and the gap
/// widens; or a wide gap between the two curves while the validation loss is far from what the data allow (a wide
/// gap means overfitting whether or not the validation loss rises).
public struct Overfitting: DiagnosisRule {
    public let id = FindingID.overfitting
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let validation = points(c.validationLoss).filter { $0.value.isFinite }
        guard validation.count >= t.minimumEpochs else { return nil }
        let best = validation.min { $0.value < $1.value }!
        let last = validation[validation.count - 1]
        let train = byEpoch(c.trainLoss, finiteOnly: true)
        let next =
            "Stop at epoch \(best.epoch) (early stopping with a patience of about \(max(3, (last.epoch - best.epoch) / 3)) epochs), and regularise: dropout 0.2-0.5, weight decay 1e-4 to 1e-2 (AdamW), batch normalisation; more data helps most."
        // The validation loss turned up (a trend over two epochs at least, not one epoch's jump) while the training
        // loss kept falling.
        let afterBest = validation.filter { $0.epoch > best.epoch }.count
        if afterBest >= 2, last.value > best.value + t.overfitRise * abs(best.value),
            let trainAtBest = train[best.epoch], let trainAtEnd = train[last.epoch],
            trainAtEnd < trainAtBest - t.overfitTrainFall * abs(trainAtBest)
        {
            let gapAtBest = best.value - trainAtBest, gapAtEnd = last.value - trainAtEnd
            if gapAtEnd > gapAtBest {
                let margin = min(
                    Finding.above((last.value - best.value) / max(abs(best.value), 1e-12), t.overfitRise),
                    Finding.above((trainAtBest - trainAtEnd) / max(abs(trainAtBest), 1e-12), t.overfitTrainFall))
                return Finding(
                    id: id, severity: .warning, confidence: Finding.confidence(margin: margin),
                    epochs: [best.epoch, last.epoch],
                    evidence: [
                        "best_validation_loss": best.value, "final_validation_loss": last.value,
                        "train_loss_at_best": trainAtBest,
                        "final_train_loss": trainAtEnd, "gap_at_best": gapAtBest, "final_gap": gapAtEnd
                    ],
                    explanation:
                        "The validation loss was lowest at epoch \(best.epoch) (\(fmt(best.value))) and rose to \(fmt(last.value)) by epoch \(last.epoch), while the training loss kept falling from \(fmt(trainAtBest)) to \(fmt(trainAtEnd)): the gap grew from \(fmt(gapAtBest)) to \(fmt(gapAtEnd)). The network is memorising the training rows.",
                    nextStep: next)
            }
        }
        // A wide gap at the end, far from what the data allow.
        guard let trainAtEnd = train[last.epoch], trainAtEnd > 0, last.value >= t.gapRatio * trainAtEnd else {
            return nil
        }
        let level = Level(c)
        let far: Double
        if let share = level.share(last.value) {
            far = Finding.above(share, t.gapShare)
        } else if level.referenceLoss == nil, let constant = c.constantLoss, constant > 0 {
            far = Finding.above(last.value / constant, t.gapShare)
        } else {
            return nil
        }
        guard far > 0 else { return nil }
        return Finding(
            id: id, severity: .warning,
            confidence: Finding.confidence(margin: min(far, Finding.ratioAbove(last.value / trainAtEnd, t.gapRatio))),
            epochs: [best.epoch, last.epoch],
            evidence: [
                "final_validation_loss": last.value, "final_train_loss": trainAtEnd,
                "gap_ratio": last.value / trainAtEnd,
                "best_validation_loss": best.value
            ],
            explanation:
                "At the end the validation loss (\(fmt(last.value))) is \(fmt(last.value / trainAtEnd))x the training loss (\(fmt(trainAtEnd)))\(level.describe(last.value).isEmpty ? "" : ", at \(level.describe(last.value))"): the network fits the training rows far better than it generalises.",
            nextStep: next)
    }
}
