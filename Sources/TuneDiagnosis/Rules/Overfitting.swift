/// `overfitting`: the validation loss reaches a minimum and rises while the training loss keeps falling; the gap
/// between them widens.
public struct Overfitting: DiagnosisRule {
    public let id = "overfitting"
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let validation = points(c.validationLoss).filter { $0.value.isFinite }
        guard validation.count >= t.minimumEpochs else { return nil }
        let best = validation.min { $0.value < $1.value }!
        let last = validation[validation.count - 1]
        guard best.epoch < last.epoch, last.value > best.value + t.overfitRise * abs(best.value) else { return nil }
        let train = byEpoch(c.trainLoss, finiteOnly: false)
        guard let trainAtBest = train[best.epoch], let trainAtEnd = train[last.epoch],
              trainAtEnd < trainAtBest - t.overfitTrainFall * abs(trainAtBest) else { return nil }
        let gapAtBest = best.value - trainAtBest, gapAtEnd = last.value - trainAtEnd
        guard gapAtEnd > gapAtBest else { return nil }
        return Finding(
            id: id, severity: .warning, epochs: [best.epoch, last.epoch],
            evidence: ["best_validation_loss": best.value, "final_validation_loss": last.value, "train_loss_at_best": trainAtBest,
                       "final_train_loss": trainAtEnd, "gap_at_best": gapAtBest, "final_gap": gapAtEnd],
            explanation: "The validation loss was lowest at epoch \(best.epoch) (\(fmt(best.value))) and rose to \(fmt(last.value)) by epoch \(last.epoch), while the training loss kept falling from \(fmt(trainAtBest)) to \(fmt(trainAtEnd)): the gap grew from \(fmt(gapAtBest)) to \(fmt(gapAtEnd)). The network is memorising the training rows.",
            nextStep: "Stop at epoch \(best.epoch) (early stopping with a patience of about \(max(3, (last.epoch - best.epoch) / 3)) epochs), and regularise: dropout 0.2-0.5, weight decay 1e-4 to 1e-2 (AdamW), batch normalisation; more data helps most.")
    }
}
