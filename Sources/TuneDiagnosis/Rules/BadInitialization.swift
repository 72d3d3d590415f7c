/// `bad_init`: the first loss is far from what chance predicts (ln C for C balanced classes, ln 2 for binary).
public struct BadInitialization: DiagnosisRule {
    public let id = "bad_init"
    public init() {}

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        guard let chance = c.chanceLoss else { return nil }
        // The first step's loss when logged (before any learning), else the first epoch's mean with a doubled margin.
        let first: Double, label: String, factor: Double
        if let step = c.stepLoss.first(where: { $0.isFinite }) {
            (first, label, factor) = (step, "first step", t.initFactor)
        } else if let epoch = points(c.trainLoss).first?.value, epoch.isFinite {
            (first, label, factor) = (epoch, "first epoch", t.initFactor * 2)
        } else {
            return nil
        }
        guard first > chance * factor || (first < chance / factor && label == "first step") else { return nil }
        return Finding(
            id: id, severity: .warning, epochs: [1],
            evidence: ["initial_loss": first, "chance_loss": chance],
            explanation: "The loss of the \(label) was \(fmt(first)), \(fmt(first / chance))x the \(fmt(chance)) that guessing \(c.task == .binary ? "with p = 0.5" : "uniformly over \(c.classes ?? 0) classes") scores: the network starts out confidently wrong (or suspiciously right).",
            nextStep: "Check the output layer (zero or small initial weights and bias; for imbalanced classes, set the bias to the log prior), the weight initialisation (PyTorch's Linear default or He), and that the inputs are standardised.")
    }
}
