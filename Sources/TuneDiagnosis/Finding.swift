import Foundation

/// How much a finding matters.
public enum Severity: String, Codable, Sendable, Comparable {
    case info, warning, critical

    private var rank: Int { self == .info ? 0 : (self == .warning ? 1 : 2) }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// One thing the doctor noticed: what, where, the numbers behind it, why it matters and what to do.
public struct Finding: Codable, Sendable, Equatable {
    /// A stable identifier (`overfitting`, `lr_too_low`, ...).
    public var id: FindingID
    public var severity: Severity
    /// How far past its threshold the evidence is, from 0.5 (just at it) toward 1 (far past it); see
    /// ``Finding/confidence(margin:)``. Verdicts (`healthy`, `no_problem_visible`) carry 1.
    public var confidence: Double
    /// A guess the curves allow but cannot confirm (they lack a reference to judge by), not a finding.
    public var hypothesis: Bool
    /// The epochs involved (1-based).
    public var epochs: [Int]
    /// The numbers behind the finding, by name.
    public var evidence: [String: Double]
    /// A plain explanation, with the numbers.
    public var explanation: String
    /// A concrete next step, with numbers.
    public var nextStep: String
    /// The data columns involved (the data check's findings; empty for the curves').
    public var columns: [String] = []

    public init(
        id: FindingID, severity: Severity, confidence: Double = 1, hypothesis: Bool = false, epochs: [Int],
        evidence: [String: Double], explanation: String, nextStep: String, columns: [String] = []
    ) {
        self.id = id
        self.severity = severity
        self.confidence = confidence
        self.hypothesis = hypothesis
        self.epochs = epochs
        self.evidence = evidence
        self.explanation = explanation
        self.nextStep = nextStep
        self.columns = columns
    }

    enum CodingKeys: String, CodingKey {
        case id, severity, confidence, hypothesis, epochs, evidence, explanation, nextStep, columns
    }

    /// Findings written before confidences existed read as confidence 1, not hypotheses.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(FindingID.self, forKey: .id)
        severity = try c.decode(Severity.self, forKey: .severity)
        confidence = try c.decodeIfPresent(Double.self, forKey: .confidence) ?? 1
        hypothesis = try c.decodeIfPresent(Bool.self, forKey: .hypothesis) ?? false
        epochs = try c.decode([Int].self, forKey: .epochs)
        evidence = try c.decode([String: Double].self, forKey: .evidence)
        explanation = try c.decode(String.self, forKey: .explanation)
        nextStep = try c.decode(String.self, forKey: .nextStep)
        columns = try c.decodeIfPresent([String].self, forKey: .columns) ?? []
    }

    /// `columns` is written only when there are some, so the curves' findings read as before.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(severity, forKey: .severity)
        try c.encode(confidence, forKey: .confidence)
        try c.encode(hypothesis, forKey: .hypothesis)
        try c.encode(epochs, forKey: .epochs)
        try c.encode(evidence, forKey: .evidence)
        try c.encode(explanation, forKey: .explanation)
        try c.encode(nextStep, forKey: .nextStep)
        if !columns.isEmpty { try c.encode(columns, forKey: .columns) }
    }

    /// The confidence of evidence `margin` past its threshold, the margin in units of the threshold's own scale
    /// (for a ratio threshold t and a value x, log(x) / log(t) - 1; for a fraction, (x - t) / t): 1 - exp(-margin) / 2,
    /// so 0.5 at the threshold, 0.82 at a margin of 1 (twice as far), 0.93 at 2. A rule with several conditions takes
    /// its weakest margin.
    public static func confidence(margin: Double) -> Double {
        guard margin.isFinite else { return margin > 0 ? 1 : 0.5 }
        return 1 - 0.5 * Foundation.exp(-max(margin, 0))
    }

    /// The margin of `value` past a threshold it must exceed, in units of the threshold (`(value - t) / |t|`).
    public static func above(_ value: Double, _ threshold: Double) -> Double {
        threshold == 0 ? (value > 0 ? .infinity : 0) : (value - threshold) / abs(threshold)
    }

    /// The margin of `value` below a threshold it must not reach, in units of the threshold.
    public static func below(_ value: Double, _ threshold: Double) -> Double {
        threshold == 0 ? (value < 0 ? .infinity : 0) : (threshold - value) / abs(threshold)
    }

    /// The margin of a ratio `value` past a ratio threshold `t` > 1, on a log scale (`log(value) / log(t) - 1`).
    public static func ratioAbove(_ value: Double, _ threshold: Double) -> Double {
        guard value > 0, threshold > 1 else { return 0 }
        return Foundation.log(value) / Foundation.log(threshold) - 1
    }
}

/// A rule of the doctor: looks at the curves and reports a finding or nothing.
public protocol DiagnosisRule: Sendable {
    /// The identifier of the findings this rule makes.
    var id: FindingID { get }
    func examine(_ curves: Curves, _ thresholds: Thresholds) -> Finding?
}
