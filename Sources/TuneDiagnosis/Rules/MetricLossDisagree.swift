/// `metric_loss_disagree`: the epoch with the lowest validation loss is not the epoch with the best metric.
public struct MetricLossDisagree: DiagnosisRule {
    public let id = FindingID.metricLossDisagree
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let loss = points(c.validationLoss).filter { $0.value.isFinite }
        let metric = byEpoch(c.metric, finiteOnly: true)
        guard loss.count >= 3, metric.count >= 3, let name = c.metricName else { return nil }
        let lowest = loss.min { $0.value < $1.value }!
        let sign = c.metricHigherIsBetter ? 1.0 : -1.0
        let best = metric.max {
            sign * $0.value < sign * $1.value || (sign * $0.value == sign * $1.value && $0.key > $1.key)
        }!
        guard let atLowest = metric[lowest.epoch], best.key != lowest.epoch,
            sign * (best.value - atLowest) > t.metricTolerance
        else { return nil }
        return Finding(
            id: id, severity: .info,
            confidence: Finding.confidence(margin: Finding.above(sign * (best.value - atLowest), t.metricTolerance)),
            epochs: [lowest.epoch, best.key],
            evidence: [
                "lowest_loss_epoch": Double(lowest.epoch), "best_metric_epoch": Double(best.key),
                "metric_at_lowest_loss": atLowest, "best_metric": best.value
            ],
            explanation:
                "The validation loss was lowest at epoch \(lowest.epoch), but the best validation \(name) (\(fmt(best.value))) came at epoch \(best.key); at the lowest-loss epoch it was \(fmt(atLowest)). The loss and the metric reward different things.",
            nextStep:
                "Select the model by \(name), not by the loss (tune train --metric \(name) does; keep epoch \(best.key)), and early-stop on \(name)."
        )
    }
}
