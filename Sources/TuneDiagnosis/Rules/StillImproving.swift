import Foundation

/// `still_improving`: both losses are still falling at the end of training.
public struct StillImproving: DiagnosisRule {
    public let id = FindingID.stillImproving
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let train = points(c.trainLoss).filter { $0.value.isFinite }
        let validation = points(c.validationLoss).filter { $0.value.isFinite }
        guard train.count >= t.minimumEpochs, validation.count >= t.minimumEpochs else { return nil }
        // The last fifth: from the epoch at 80% of the run to the end.
        let from = max(Int(0.8 * Double(train.count)) - 1, 0)
        let window = train.count - from
        let trainFall = -CurveMath.relativeChange([train[from].value, train[train.count - 1].value])
        let validationFrom = max(Int(0.8 * Double(validation.count)) - 1, 0)
        let validationFall = -CurveMath.relativeChange([
            validation[validationFrom].value, validation[validation.count - 1].value
        ])
        guard trainFall >= t.stillImprovingFall, validationFall >= t.stillImprovingFall else { return nil }
        // Also the validation loss must be at (or within a hair of) its minimum at the end.
        let best = validation.map(\.value).min()!, last = validation[validation.count - 1].value
        guard last <= best + 0.01 * abs(best) else { return nil }
        // More epochs, from a saturating fit of the validation loss: until it is within 1% of its floor.
        let fit = CurveMath.saturatingFit(validation.map { Double($0.epoch) }, validation.map(\.value))
        var more = validation.count
        if fit.scale > 0, fit.floor > 0, fit.tau.isFinite {
            let t0 = Double(validation[0].epoch)
            let target = fit.tau * Foundation.log(fit.scale / (0.01 * fit.floor)) + t0
            more = min(
                max(Int((target - Double(validation[validation.count - 1].epoch)).rounded(.up)), window),
                10 * validation.count)
        }
        return Finding(
            id: id, severity: .info,
            confidence: Finding.confidence(
                margin: min(
                    Finding.above(trainFall, t.stillImprovingFall), Finding.above(validationFall, t.stillImprovingFall))
            ),
            epochs: [train[train.count - window].epoch, train[train.count - 1].epoch],
            evidence: [
                "train_fall_last_fifth": trainFall, "validation_fall_last_fifth": validationFall,
                "suggested_extra_epochs": Double(more)
            ],
            explanation:
                "Both losses were still falling when training stopped: over the last \(window) epochs the training loss fell \(fmt(100 * trainFall))% and the validation loss \(fmt(100 * validationFall))%.",
            nextStep:
                "Train about \(more) more epochs (from a saturating fit of the validation loss), with early stopping to catch the turn."
        )
    }
}
