/// What a finding says, one identifier each: the doctor's rules and verdicts on curves, and the data check's findings
/// on a table. The raw values are the stable names in JSON output and in docs/DOCTOR.md and docs/DATA.md.
public enum FindingID: String, Codable, Sendable, CaseIterable {
    // The curves' rules.
    case lrTooHigh = "lr_too_high"
    case lrTooLow = "lr_too_low"
    case notLearning = "not_learning"
    case badInit = "bad_init"
    case overfitting
    case underfitting
    case noisy
    case stillImproving = "still_improving"
    case metricLossDisagree = "metric_loss_disagree"
    case valLossUpMetricOK = "val_loss_up_metric_ok"
    case gradients
    case explodingGradients = "exploding_gradients"
    case vanishingGradients = "vanishing_gradients"
    // The curves' verdicts, findings of their own.
    case healthy
    case noProblemVisible = "no_problem_visible"
    case possibleUnderfitting = "possible_underfitting"
    case tooFewEpochs = "too_few_epochs"
    // The data check.
    case identifier
    case leak
    case strongSingleColumn = "strong_single_column"
    case sortedTarget = "sorted_target"
    case duplicateRows = "duplicate_rows"
    case conflictingLabels = "conflicting_labels"
    case imbalance
    case constantColumn = "constant_column"
    case nearConstantColumn = "near_constant_column"
    case mostlyMissing = "mostly_missing"
    case highCardinality = "high_cardinality"
    case numericAsText = "numeric_as_text"
    case skewedTarget = "skewed_target"
}
