/// Several runs of the same data and loss, each diagnosed against the best of them: the lowest validation loss any
/// run reached is the reference that shows what is achievable, so that a run far above it can be told apart as
/// underfitting (training close to validation, both flat) or overfitting.
public struct Comparison: Sendable {
    /// One run's diagnosis.
    public struct Run: Sendable {
        public var name: String
        public var curves: Curves
        public var level: Level
        public var findings: [Finding]
        /// `healthy`, `no_problem_visible`, `too_few_epochs`, or `problems` when a warning or a critical finding holds.
        public var verdict: String
        /// Far above the reference (see ``Level/isFar(_:)``).
        public var far: Bool
    }

    /// The run whose lowest validation loss is the reference, and that loss (nil when it was given, or no run has a
    /// finite validation loss).
    public var referenceRun: String?
    public var referenceLoss: Double?
    public var runs: [Run]

    /// Diagnoses every run against the reference: `reference` when given, else the lowest validation loss of any run
    /// that logged at least the doctor's minimum of epochs (the best run's: what the runs show is achievable).
    public init(_ runs: [(name: String, curves: Curves)], doctor: Doctor = Doctor(), reference: Double? = nil) {
        let best = runs.filter { points($0.curves.validationLoss).count >= doctor.thresholds.minimumEpochs }
            .compactMap { run in Level(run.curves).bestValidationLoss.map { (name: run.name, loss: $0) } }
            .min { ($0.loss, $0.name) < ($1.loss, $1.name) }
        let referenceRun = reference == nil ? best?.name : nil, referenceLoss = reference ?? best?.loss
        self.referenceRun = referenceRun
        self.referenceLoss = referenceLoss
        let how = "the best of \(runs.count) runs"
        self.runs = runs.map { run in
            var curves = run.curves
            if let loss = referenceLoss, curves.referenceLoss == nil || reference != nil {
                curves.referenceLoss = loss
                curves.referenceSource =
                    referenceRun.map {
                        $0 == run.name ? "this run's own, \(how)" : "the lowest validation loss of \($0), \(how)"
                    }
                    ?? curves.referenceSource ?? "given"
            }
            let findings = doctor.diagnose(curves)
            let level = Level(curves)
            return Run(
                name: run.name, curves: curves, level: level, findings: findings, verdict: Self.verdict(findings),
                far: level.isFar(doctor.thresholds) ?? false)
        }
    }

    /// The verdict of a run's findings.
    public static func verdict(_ findings: [Finding]) -> String {
        if findings.contains(where: { $0.severity != .info || $0.id == .stillImproving }) { return "problems" }
        return findings.first { [FindingID.healthy, .noProblemVisible, .tooFewEpochs].contains($0.id) }?.id.rawValue
            ?? "problems"
    }

    /// What sets a run far above the reference apart: `underfitting`, `overfitting`, both, or the rest of its findings.
    public static func kind(_ run: Run) -> String {
        let ids = run.findings.filter { !$0.hypothesis && ($0.severity != .info || $0.id == .stillImproving) }.map(
            \.id.rawValue)
        let named = [FindingID.underfitting, .overfitting].map(\.rawValue).filter(ids.contains)
        if !named.isEmpty { return named.joined(separator: " and ") }
        return ids.isEmpty ? "no pattern in the curves" : ids.joined(separator: ", ")
    }
}
