import Foundation
import TuneDiagnosis

/// Checks of single columns and of the target.
extension DataCheck {
    // MARK: - Columns

    /// What the column checks noticed, column by column, before it becomes findings.
    struct ColumnScan {
        var constant: [String] = [], nearConstant: [(String, Double)] = [], mostlyMissing: [(String, Double)] = []
        var wide: [(String, Int)] = [], numericText: [(String, [String])] = []
    }

    static func scanColumns(_ input: Input, features: [Int]) -> ColumnScan {
        let t = input.table, n = input.rows.count
        var scan = ColumnScan()
        for c in features {
            let cells = input.cells.of(c, input).filter { $0 != missingCode }
            let missingShare = 1 - Double(cells.count) / Double(n)
            if missingShare >= Rule.mostlyMissing { scan.mostlyMissing.append((t.header[c], missingShare)) }
            var counts: [UInt32: Int] = [:]
            for v in cells { counts[v, default: 0] += 1 }
            if counts.count <= 1 {
                scan.constant.append(t.header[c])
                continue
            }
            let top = Double(counts.values.max() ?? 0) / Double(n)
            if top >= Rule.nearConstant { scan.nearConstant.append((t.header[c], top)) }
            guard inferKind(t, column: c) == .categorical else { continue }
            if let others = numbersAsText(
                input.rows.compactMap { cellText(t, column: c, row: $0) }, levels: counts.count,
                categoryLimit: input.categoryLimit)
            {
                scan.numericText.append((t.header[c], others))
            } else if counts.count > input.categoryLimit {
                scan.wide.append((t.header[c], counts.count))
            }
        }
        return scan
    }

    /// Text that is mostly numbers: "12.5", "$1,200", "15%", with a few words among them (up to three returned).
    /// Codes are not: numbers with a leading zero ("007"), or whole numbers with more levels than one-hot keeps
    /// (group ids such as families or subjects, "136A" among them), which high_cardinality reports.
    static func numbersAsText(_ present: [String], levels: Int, categoryLimit: Int) -> [String]? {
        let numeric = present.filter { numberLike($0) }
        let code =
            numeric.contains { $0.count > 1 && $0.hasPrefix("0") && $0.dropFirst().first?.isNumber == true }
            || (levels > categoryLimit && numeric.allSatisfy { Double($0).map { $0 == $0.rounded() } ?? false })
        guard !code, Double(numeric.count) / Double(present.count) >= Rule.numericText else { return nil }
        return Array(Set(present.filter { !numberLike($0) }).sorted().prefix(3))
    }

    static func columnFindings(_ input: Input, features: [Int]) -> [Finding] {
        guard !input.rows.isEmpty else { return [] }
        let scan = scanColumns(input, features: features)
        return groupedColumnFindings(scan) + singleColumnFindings(scan, categoryLimit: input.categoryLimit)
    }

    /// The checks that name several columns in one finding: constant and near-constant columns.
    static func groupedColumnFindings(_ scan: ColumnScan) -> [Finding] {
        let (constant, nearConstant) = (scan.constant, scan.nearConstant)
        var findings: [Finding] = []
        if !constant.isEmpty {
            findings.append(
                Finding(
                    id: .constantColumn, severity: .info, epochs: [], evidence: ["columns": Double(constant.count)],
                    explanation:
                        "\(list(constant)) hold\(constant.count == 1 ? "s" : "") a single value on every row: "
                        + "nothing to learn from.",
                    nextStep:
                        "Nothing to do (standardised to zero); drop \(constant.count == 1 ? "it" : "them") with "
                        + "--ignore to keep the model smaller.",
                    columns: constant))
        }
        if !nearConstant.isEmpty {
            let names = nearConstant.map(\.0)
            findings.append(
                Finding(
                    id: .nearConstantColumn, severity: .info, epochs: [],
                    evidence: ["columns": Double(names.count), "largest_share": nearConstant.map(\.1).max()!],
                    explanation:
                        "\(list(names)) hold\(names.count == 1 ? "s" : "") one value on "
                        + "\(String(format: "%.1f", 100 * Rule.nearConstant))% of the rows or more: the rest is "
                        + "a handful of rows, which the validation split may barely see.",
                    nextStep:
                        "Keep \(names.count == 1 ? "it" : "them") if the rare values matter; otherwise drop with "
                        + "--ignore.",
                    columns: names))
        }
        return findings
    }

    /// The checks that name one column each: mostly missing, wide categories, numbers as text.
    static func singleColumnFindings(_ scan: ColumnScan, categoryLimit: Int) -> [Finding] {
        var findings: [Finding] = []
        for (name, share) in scan.mostlyMissing {
            findings.append(
                Finding(
                    id: .mostlyMissing, severity: .info, epochs: [], evidence: ["missing_share": share],
                    explanation: String(
                        format:
                            "'%@' is missing on %.1f%% of the rows: imputed with the training median or mode and a "
                            + "missing-indicator column, it mostly says whether it was recorded.",
                        name, 100 * share),
                    nextStep: "Keep it if being missing means something; otherwise drop it with --ignore \(name).",
                    columns: [name]))
        }
        for (name, levels) in scan.wide {
            findings.append(
                Finding(
                    id: .highCardinality, severity: .info, epochs: [], evidence: ["levels": Double(levels)],
                    explanation:
                        "'\(name)' has \(levels) distinct values: one-hot encoding would cost \(levels) input "
                        + "columns, so swift-tune keeps the \(categoryLimit) commonest and an 'other' column.",
                    nextStep:
                        "Group rare values into meaningful ones, or replace the column by a number it stands for (a "
                        + "count, a rate).",
                    columns: [name]))
        }
        for (name, others) in scan.numericText {
            findings.append(
                Finding(
                    id: .numericAsText, severity: .warning, epochs: [], evidence: [:],
                    explanation:
                        "'\(name)' holds numbers written as text (with symbols or words among "
                        + "them\(others.isEmpty ? "" : ", such as " + others.map { "'\($0)'" }.joined(separator: ", "))): it is read as categories, so its order and distances are lost.",
                    nextStep:
                        "Write plain numbers (no currency, thousands separators or %), and leave a missing value "
                        + "empty.",
                    columns: [name]))
        }
        return findings
    }

    static func numberLike(_ s: String) -> Bool {
        var t = s.trimmingCharacters(in: .whitespaces)
        for symbol in ["$", "€", "£", "%", ",", " ", "'"] { t = t.replacingOccurrences(of: symbol, with: "") }
        return !t.isEmpty && Double(t) != nil
    }

    static func list(_ names: [String]) -> String {
        let quoted = names.prefix(8).map { "'\($0)'" }
        return quoted.joined(separator: ", ") + (names.count > 8 ? " and \(names.count - 8) more" : "")
    }

    // MARK: - The target

    /// A regression target that is positive, highly skewed and spans an order of magnitude: its logarithm is usually
    /// the better thing to train on (errors become relative).
    static func skewedTarget(_ input: Input) -> Finding? {
        guard input.task == .regression, !input.targetTransformed, input.rows.count >= 20 else { return nil }
        let y = input.encoded.map(Double.init)
        guard let lo = y.min(), let hi = y.max(), lo > 0 else { return nil }
        let s = skewness(y)
        guard s >= Rule.targetSkewness, hi / lo >= Rule.targetRange else { return nil }
        let logSkew = skewness(y.map { Foundation.log($0) })
        return Finding(
            id: .skewedTarget, severity: .warning, epochs: [],
            evidence: ["skewness": s, "log_skewness": logSkew, "min": lo, "max": hi],
            explanation: String(
                format:
                    "The target is positive and skewed (skewness %.2f; from %.4g to %.4g): a squared error is "
                    + "dominated by its largest values. Its logarithm has a skewness of %.2f.",
                s, lo, hi, logSkew),
            nextStep: "Train on its logarithm with --target-transform log (metrics stay in the original units).",
            columns: [input.table.header[input.targetColumn]])
    }

    static func skewness(_ v: [Double]) -> Double {
        let n = Double(v.count), m = v.reduce(0, +) / n
        let m2 = v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n, m3 = v.reduce(0) { $0 + pow($1 - m, 3) } / n
        return m2 > 0 ? m3 / pow(m2, 1.5) : 0
    }
}
