import Foundation
import TuneData

extension HTMLReport {
    /// The data check: each column's kind, role, missing share and distinct values, then its findings.
    static func data(_ report: DataCheckReport) -> String {
        let columns = table(
            ["column", "kind", "role", "missing", "distinct"],
            report.columns.map {
                [
                    $0.name.isEmpty ? "(unnamed)" : $0.name, $0.kind.rawValue, $0.role,
                    String(format: "%.1f%%", 100 * $0.missingShare), "\($0.distinct)"
                ]
            })
        let found = findings(report.findings, severity: true, none: "The data check has no findings.")
        return
            "<p>\(escape(report.path)): \(report.rows) rows, target '\(escape(report.target))' (\(report.task.rawValue)).</p>"
            + found + columns
    }
}
