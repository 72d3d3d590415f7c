import Foundation
import TuneData
import TuneDiagnosis

/// The doctor's findings for people: the curves drawn, then each finding with its evidence and next step; for several
/// runs, each run's findings and a comparison against the best of them.
public enum DoctorReport {
    public static func text(_ curves: Curves, _ findings: [Finding], colour: Bool) -> String {
        var lines = ["tune doctor: \(curves.source)"]
        lines.append(facts(curves).joined(separator: ", "))
        let train = curves.trainLoss.map { $0 ?? .nan }, validation = curves.validationLoss.map { $0 ?? .nan }
        if !train.isEmpty || !validation.isEmpty {
            let lowest = validation.indices.filter { validation[$0].isFinite }.min { validation[$0] < validation[$1] }
                .map { $0 + 1 }
            lines.append("")
            lines.append(
                LossChart.render(
                    train: train, validation: validation, marked: lowest, markLabel: "lowest validation loss at epoch"))
        }
        lines.append("")
        lines += findingLines(findings, colour: colour, evidence: true)
        return lines.joined(separator: "\n")
    }

    /// Several runs: the reference, each run's findings (without the charts), then the comparison table and which runs
    /// far above the best underfit rather than overfit.
    public static func text(source: String, _ comparison: Comparison, colour: Bool) -> String {
        var lines = ["tune doctor: \(source) (\(comparison.runs.count) runs)"]
        if let loss = comparison.referenceLoss {
            lines.append(
                "reference: "
                    + (comparison.referenceRun.map {
                        "\($0)'s lowest validation loss \(fmt(loss)), the best of the runs"
                    } ?? "the given loss \(fmt(loss))"))
        } else {
            lines.append("reference: none (no run has a finite validation loss over enough epochs)")
        }
        for run in comparison.runs {
            lines.append("")
            let level =
                run.level.bestValidationLoss.map { low in
                    "lowest validation loss \(fmt(low))"
                        + (run.level.ratioToReference.map { " (\(fmt($0))x the reference)" } ?? "")
                } ?? "no finite validation loss"
            lines.append(
                paint("== \(run.name)", "1", colour) + ": \(level); " + facts(run.curves).joined(separator: ", "))
            lines += findingLines(run.findings, colour: colour, evidence: false)
        }
        lines.append("")
        lines.append(paint("Comparison", "1", colour) + " (lowest validation loss against the reference):")
        let rows = comparison.runs.map { run -> [String] in
            [
                run.name, run.level.bestValidationLoss.map(fmt) ?? "-",
                run.level.ratioToReference.map { fmt($0) + "x" } ?? "-",
                run.verdict == "problems"
                    ? run.findings.filter { $0.severity != .info || $0.id == .stillImproving }.map(\.id.rawValue)
                        .joined(separator: ", ") : run.verdict
            ]
        }
        lines += table(["run", "lowest val loss", "x reference", "findings"], rows)
        let far = comparison.runs.filter(\.far)
        if !far.isEmpty {
            lines.append("")
            lines.append(
                "Far above the reference: " + far.map { "\($0.name) (\(Comparison.kind($0)))" }.joined(separator: "; ")
                    + ".")
            let under = far.filter { $0.findings.contains { $0.id == .underfitting } }.map(\.name)
            let over = far.filter { $0.findings.contains { $0.id == .overfitting } }.map(\.name)
            if !under.isEmpty {
                lines.append(
                    wrap(
                        "Underfitting (training close to validation, both flat): \(under.joined(separator: ", ")): more capacity, less regularisation, or a higher rate.",
                        indent: ""))
            }
            if !over.isEmpty {
                lines.append(
                    wrap(
                        "Overfitting (the gap between the curves): \(over.joined(separator: ", ")): stop earlier and regularise.",
                        indent: ""))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The data check for people: the columns (kind, role, missing share, distinct values), then the findings.
    public static func text(_ report: DataCheckReport, colour: Bool) -> String {
        var lines = [
            "tune doctor: data check of \(report.path) (target '\(report.target)', \(report.task.rawValue), \(report.rows) rows)",
            ""
        ]
        lines += table(
            ["column", "kind", "role", "missing", "distinct"],
            report.columns.map {
                [
                    $0.name.isEmpty ? "(unnamed)" : $0.name, $0.kind.rawValue, $0.role,
                    String(format: "%.1f%%", 100 * $0.missingShare), String($0.distinct)
                ]
            })
        lines.append("")
        if report.findings.isEmpty {
            lines.append("No findings: no identifier, leak, sorted target, duplicate, imbalance or awkward column.")
        }
        lines += findingLines(report.findings, colour: colour, evidence: true, confidence: false)
        return lines.joined(separator: "\n")
    }

    static func facts(_ curves: Curves) -> [String] {
        var facts = ["\(curves.epochCount) epochs"]
        if !curves.stepLoss.isEmpty { facts.append("\(curves.stepLoss.count) steps") }
        if let name = curves.metricName {
            facts.append("metric \(name) (\(curves.metricHigherIsBetter ? "higher" : "lower") is better)")
        }
        if curves.task != .unknown {
            facts.append("\(curves.task.rawValue)\(curves.classes.map { ", \($0) classes" } ?? "")")
        }
        let settings = curves.hyperparameters.summary
        if !settings.isEmpty { facts.append(settings) }
        return facts
    }

    static func paint(_ s: String, _ code: String, _ colour: Bool) -> String {
        colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
    }

    static func findingLines(_ findings: [Finding], colour: Bool, evidence: Bool, confidence: Bool = true) -> [String] {
        var lines: [String] = []
        for f in findings {
            let badge: String
            switch f.severity {
            case .critical: badge = paint("CRITICAL", "1;31", colour)
            case .warning: badge = paint("WARNING ", "1;33", colour)
            case .info: badge = paint(f.hypothesis ? "GUESS   " : "INFO    ", "1;36", colour)
            }
            let where_ =
                f.epochs.isEmpty
                ? ""
                : (f.epochs.count == 1
                    ? " (epoch \(f.epochs[0]))" : " (epochs \(f.epochs.map(String.init).joined(separator: "-")))")
            let sure =
                (f.severity == .info && !f.hypothesis) || !confidence
                ? "" : String(format: " [confidence %.2f]", f.confidence)
            lines.append("\(badge) \(paint(f.id.rawValue, "1", colour))\(where_)\(sure)")
            lines.append(wrap(f.explanation, indent: "  "))
            lines.append(wrap("next: " + f.nextStep, indent: "  "))
            if evidence {
                let numbers = f.evidence.keys.sorted().map { "\($0)=\(String(format: "%.4g", f.evidence[$0]!))" }
                    .joined(separator: " ")
                lines.append(paint("  evidence: " + numbers, "2", colour))
                lines.append("")
            }
        }
        return lines
    }

    static func table(_ header: [String], _ rows: [[String]]) -> [String] {
        let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map {
                $0.offset == cells.count - 1
                    ? $0.element : $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0)
            }
            .joined(separator: "  ")
        }
        return [line(header)] + rows.map(line)
    }

    /// One run as JSON (non-finite evidence as strings); the schema is in docs/DOCTOR.md.
    public static func json(_ curves: Curves, _ findings: [Finding]) throws -> String {
        String(decoding: try jsonData(RunOutput(name: nil, curves: curves, findings: findings)), as: UTF8.self)
    }

    /// Several runs and their comparison as JSON.
    public static func json(source: String, _ comparison: Comparison) throws -> String {
        struct Reference: Encodable { let run: String?; let loss: Double }
        struct Row: Encodable {
            let name: String
            let bestValidationLoss: Double?
            let ratioToReference: Double?
            let verdict: String
            let farAboveReference: Bool
            let kind: String?
        }
        struct Output: Encodable {
            let source: String
            let reference: Reference?
            let runs: [RunOutput]
            let comparison: [Row]
        }
        let output = Output(
            source: source,
            reference: comparison.referenceLoss.map { Reference(run: comparison.referenceRun, loss: $0) },
            runs: comparison.runs.map { RunOutput(name: $0.name, curves: $0.curves, findings: $0.findings) },
            comparison: comparison.runs.map {
                Row(
                    name: $0.name, bestValidationLoss: $0.level.bestValidationLoss,
                    ratioToReference: $0.level.ratioToReference,
                    verdict: $0.verdict, farAboveReference: $0.far, kind: $0.far ? Comparison.kind($0) : nil)
            })
        return String(decoding: try jsonData(output), as: UTF8.self)
    }

    /// The JSON object of one run.
    struct RunOutput: Encodable {
        let name: String?
        let source: String
        let epochs: Int
        let task: String
        let classes: Int?
        let metric: String?
        let verdict: String
        let level: Level
        let hyperparameters: Hyperparameters
        let findings: [Finding]

        init(name: String?, curves: Curves, findings: [Finding]) {
            self.name = name
            source = curves.source
            epochs = curves.epochCount
            task = curves.task.rawValue
            classes = curves.classes
            metric = curves.metricName
            verdict = Comparison.verdict(findings)
            level = Level(curves)
            hyperparameters = curves.hyperparameters
            self.findings = findings
        }
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
