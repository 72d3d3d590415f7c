/// `bad_init`: the first step's loss is far from what chance predicts (ln C for C balanced classes, ln 2 for binary).
/// Judged on the very first step only: an epoch's mean loss is not the loss at initialisation, so logs without the
/// first step's loss get no judgement of the initialisation.
public struct BadInitialization: DiagnosisRule {
    public let id = FindingID.badInit
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        guard let chance = c.chanceLoss, c.firstStepLogged, let first = c.stepLoss.first, first.isFinite, first > 0
        else { return nil }
        guard first > chance * t.initFactor || first < chance / t.initFactor else { return nil }
        let ratio = first > chance ? first / chance : chance / first
        return Finding(
            id: id, severity: .warning, confidence: Finding.confidence(margin: Finding.ratioAbove(ratio, t.initFactor)),
            epochs: [1],
            evidence: ["initial_loss": first, "chance_loss": chance],
            explanation:
                "The loss of the first step was \(fmt(first)), \(fmt(first / chance))x the \(fmt(chance)) that guessing \(c.task == .binary ? "with p = 0.5" : "uniformly over \(c.classes ?? 0) classes") scores: the network starts out confidently wrong (or suspiciously right).",
            nextStep:
                "Check the output layer (zero or small initial weights and bias; for imbalanced classes, set the bias to the log prior), the weight initialisation (PyTorch's Linear default or He), and that the inputs are standardised."
        )
    }
}
