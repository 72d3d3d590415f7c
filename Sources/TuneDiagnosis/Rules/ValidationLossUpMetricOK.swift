/// `val_loss_up_metric_ok`: the validation loss rises while the metric holds or improves: the model grows
/// over-confident without ranking or classifying worse.
public struct ValidationLossUpMetricOK: DiagnosisRule {
    public let id = FindingID.valLossUpMetricOK
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let loss = points(c.validationLoss).filter { $0.value.isFinite }
        let metric = byEpoch(c.metric, finiteOnly: true)
        guard loss.count >= t.minimumEpochs, let name = c.metricName else { return nil }
        let lowest = loss.min { $0.value < $1.value }!, last = loss[loss.count - 1]
        guard last.epoch > lowest.epoch, last.value > lowest.value + t.validationRise * abs(lowest.value),
            let atLowest = metric[lowest.epoch], let atEnd = metric[last.epoch]
        else { return nil }
        let sign = c.metricHigherIsBetter ? 1.0 : -1.0
        guard sign * (atEnd - atLowest) >= -t.metricHold else { return nil }
        return Finding(
            id: id, severity: .info,
            confidence: Finding.confidence(
                margin: Finding.above((last.value - lowest.value) / max(abs(lowest.value), 1e-12), t.validationRise)),
            epochs: [lowest.epoch, last.epoch],
            evidence: [
                "lowest_validation_loss": lowest.value, "final_validation_loss": last.value,
                "metric_at_lowest_loss": atLowest, "final_metric": atEnd
            ],
            explanation:
                "The validation loss rose from \(fmt(lowest.value)) (epoch \(lowest.epoch)) to \(fmt(last.value)) (epoch \(last.epoch)), yet the validation \(name) went from \(fmt(atLowest)) to \(fmt(atEnd)): the model is becoming over-confident on the rows it gets wrong, not worse at the task.",
            nextStep:
                "Do not early-stop on the loss; select and stop on \(name). If calibrated probabilities matter, add label smoothing (0.05-0.1) or fit a temperature on the validation rows."
        )
    }
}
