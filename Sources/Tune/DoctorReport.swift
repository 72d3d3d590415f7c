import Foundation
import TuneDiagnosis

/// The doctor's findings for people: the curves drawn, then each finding with its evidence and next step.
public enum DoctorReport {
    public static func text(_ curves: Curves, _ findings: [Finding], colour: Bool) -> String {
        func paint(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        var lines = ["tune doctor: \(curves.source)"]
        let epochs = curves.epochCount
        var facts = ["\(epochs) epochs"]
        if !curves.stepLoss.isEmpty { facts.append("\(curves.stepLoss.count) steps") }
        if let name = curves.metricName { facts.append("metric \(name) (\(curves.metricHigherIsBetter ? "higher" : "lower") is better)") }
        if curves.task != .unknown { facts.append("\(curves.task.rawValue)\(curves.classes.map { ", \($0) classes" } ?? "")") }
        lines.append(facts.joined(separator: ", "))
        let train = curves.trainLoss.map { $0 ?? .nan }, validation = curves.validationLoss.map { $0 ?? .nan }
        if !train.isEmpty || !validation.isEmpty {
            let lowest = validation.indices.filter { validation[$0].isFinite }.min { validation[$0] < validation[$1] }.map { $0 + 1 }
            lines.append("")
            lines.append(LossChart.render(train: train, validation: validation, marked: lowest, markLabel: "lowest validation loss at epoch"))
        }
        lines.append("")
        for f in findings {
            let badge: String
            switch f.severity {
            case .critical: badge = paint("CRITICAL", "1;31")
            case .warning: badge = paint("WARNING ", "1;33")
            case .info: badge = paint("INFO    ", "1;36")
            }
            let where_ = f.epochs.isEmpty ? "" : (f.epochs.count == 1 ? " (epoch \(f.epochs[0]))" : " (epochs \(f.epochs.map(String.init).joined(separator: "-")))")
            lines.append("\(badge) \(paint(f.id, "1"))\(where_)")
            lines.append(wrap(f.explanation, indent: "  "))
            lines.append(wrap("next: " + f.nextStep, indent: "  "))
            let evidence = f.evidence.keys.sorted().map { "\($0)=\(String(format: "%.4g", f.evidence[$0]!))" }.joined(separator: " ")
            lines.append(paint("  evidence: " + evidence, "2"))
            lines.append("")
        }
        return lines.joined(separator: "\n")
    }

    /// Findings as JSON (non-finite evidence as strings).
    public static func json(_ curves: Curves, _ findings: [Finding]) throws -> String {
        struct Output: Encodable { let source: String; let epochs: Int; let findings: [Finding] }
        return String(decoding: try jsonData(Output(source: curves.source, epochs: curves.epochCount, findings: findings)), as: UTF8.self)
    }

    static func wrap(_ text: String, indent: String, width: Int = 110) -> String {
        var lines: [String] = [], line = indent
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width && line.count > indent.count {
                lines.append(line)
                line = indent + "  "
            }
            line += (line.hasSuffix(" ") || line == indent || line == indent + "  " ? "" : " ") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}
