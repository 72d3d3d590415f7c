/// How much a finding matters.
public enum Severity: String, Codable, Sendable, Comparable {
    case info, warning, critical

    private var rank: Int { self == .info ? 0 : (self == .warning ? 1 : 2) }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// One thing the doctor noticed: what, where, the numbers behind it, why it matters and what to do.
public struct Finding: Codable, Sendable, Equatable {
    /// A stable identifier (`overfitting`, `lr_too_low`, ...).
    public var id: String
    public var severity: Severity
    /// The epochs involved (1-based).
    public var epochs: [Int]
    /// The numbers behind the finding, by name.
    public var evidence: [String: Double]
    /// A plain explanation, with the numbers.
    public var explanation: String
    /// A concrete next step, with numbers.
    public var nextStep: String

    public init(id: String, severity: Severity, epochs: [Int], evidence: [String: Double], explanation: String, nextStep: String) {
        self.id = id
        self.severity = severity
        self.epochs = epochs
        self.evidence = evidence
        self.explanation = explanation
        self.nextStep = nextStep
    }
}

/// A rule of the doctor: looks at the curves and reports a finding or nothing.
public protocol DiagnosisRule: Sendable {
    /// The identifier of the findings this rule makes.
    var id: String { get }
    func examine(_ curves: Curves, _ thresholds: Thresholds) -> Finding?
}
