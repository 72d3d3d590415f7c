/// Reads curves and reports findings, most severe first; `healthy` when nothing is wrong and training converged.
public struct Doctor: Sendable {
    public var thresholds: Thresholds
    public var rules: [any DiagnosisRule]

    public init(thresholds: Thresholds = Thresholds()) {
        self.thresholds = thresholds
        rules = [LearningRateTooHigh(), NotLearning(), BadInitialization(), Overfitting(), Underfitting(), LearningRateTooLow(),
                 Noisy(), Gradients(), StillImproving(), MetricLossDisagree(), ValidationLossUpMetricOK()]
    }

    /// Every finding of every rule, most severe first (in rule order within a severity), or `healthy`.
    public func diagnose(_ curves: Curves) -> [Finding] {
        var findings = rules.compactMap { $0.examine(curves, thresholds) }
        // Findings that another makes moot: a loss that does not move is not "too slow"; when the steps are too large,
        // a rising validation loss or a slow fall are the steps' doing.
        let ids = Set(findings.map(\.id))
        var moot = Set<String>()
        if ids.contains("not_learning") { moot.insert("lr_too_low") }
        if ids.contains("lr_too_high") { moot.formUnion(["overfitting", "lr_too_low"]) }
        findings.removeAll { moot.contains($0.id) }
        // A diverged run's other findings are noise.
        if let critical = findings.first(where: { $0.id == "lr_too_high" && $0.severity == .critical }), critical.evidence["first_non_finite_epoch"] != nil || critical.evidence["first_non_finite_step"] != nil {
            findings = [critical]
        }
        let trainPoints = points(curves.trainLoss), validationPoints = points(curves.validationLoss)
        let logged = max(trainPoints.count, validationPoints.count)
        if findings.isEmpty && logged < thresholds.minimumEpochs {
            findings.append(Finding(
                id: "too_few_epochs", severity: .info, epochs: [],
                evidence: ["epochs": Double(logged)],
                explanation: "Only \(logged) epochs were logged: too few to judge the shape of the curves.",
                nextStep: "Train at least \(thresholds.minimumEpochs) epochs (with validation every epoch) and ask again."))
        } else if findings.allSatisfy({ $0.severity == .info && $0.id != "still_improving" }) {
            let train = trainPoints.map(\.value), validation = validationPoints.map(\.value)
            if let lastTrain = train.last, let lastValidation = validation.last {
                let gap = (lastValidation - lastTrain) / max(abs(lastTrain), 1e-12)
                findings.append(Finding(
                    id: "healthy", severity: .info, epochs: [max(trainPoints.last!.epoch, validationPoints.last!.epoch)],
                    evidence: ["final_train_loss": lastTrain, "final_validation_loss": lastValidation, "relative_gap": gap],
                    explanation: "The losses fell and levelled off (training \(fmt(lastTrain)), validation \(fmt(lastValidation))) with a modest gap and no sign of divergence, noise, over- or underfitting.",
                    nextStep: "Tune the next thing in order: batch size (start near sqrt(N)), then the decay (weight decay, schedule), then the architecture; or build a seed ensemble."))
            }
        }
        return findings.enumerated().sorted { a, b in
            a.element.severity != b.element.severity ? a.element.severity > b.element.severity : a.offset < b.offset
        }.map(\.element)
    }
}
