/// `not_learning`: the training loss does not move at all.
public struct NotLearning: DiagnosisRule {
    public let id = FindingID.notLearning
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let train = points(c.trainLoss).map(\.value).filter(\.isFinite)
        guard train.count >= 3, let lo = train.min(), let hi = train.max() else { return nil }
        let mean = CurveMath.mean(train), level = abs(mean)
        let range = (hi - lo) / max(level, 1e-12)
        guard range < t.notLearningRange else { return nil }
        return Finding(
            id: id, severity: .critical,
            confidence: Finding.confidence(margin: Finding.below(range, t.notLearningRange)), epochs: [1, train.count],
            evidence: ["relative_range": range, "mean_loss": mean],
            explanation:
                "Over \(train.count) epochs the training loss stayed within \(fmt(100 * range))% of \(fmt(mean)): the weights are not changing what the network outputs.",
            nextStep:
                "Check that the optimizer gets the model's parameters and a non-zero learning rate, that the loss is computed from the outputs, and that activations are not dead (ReLU with large negative biases) or saturated (sigmoid, tanh); then try a learning rate 10x higher."
        )
    }
}
