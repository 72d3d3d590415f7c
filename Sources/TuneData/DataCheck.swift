import Foundation
import TuneDiagnosis

/// What the data check is told by the user: the columns to keep although they look like identifiers, and the
/// columns allowed to predict the target suspiciously well.
public struct DataCheckOptions: Codable, Sendable, Equatable {
    /// Columns kept as features although they look like identifiers (`--keep`).
    public var keep: [String] = []
    /// Columns allowed to leak (`--allow-leak`): reported, but training goes on.
    public var allowLeak: [String] = []
    /// Whether a leak stops the preparation with a ``DataLeakError`` (training), or is only reported (`tune doctor`).
    public var stopOnLeak = true
    public init(keep: [String] = [], allowLeak: [String] = [], stopOnLeak: Bool = true) {
        self.keep = keep
        self.allowLeak = allowLeak
        self.stopOnLeak = stopOnLeak
    }
}

/// One column as the data check saw it.
public struct ColumnProfile: Codable, Sendable, Equatable {
    public var name: String
    /// numeric, boolean or categorical (as the preprocessing reads it).
    public var kind: ColumnKind
    /// feature, target, excluded (an identifier), ignored (`--ignore`) or split (`--split column:`).
    public var role: String
    /// The share of the used rows whose cell is missing.
    public var missingShare: Double
    /// The number of distinct values among the used rows.
    public var distinct: Int
}

/// What the data check found in a table, before anything trains.
public struct DataCheckReport: Codable, Sendable, Equatable {
    public var path: String
    public var target: String
    public var task: TaskKind
    /// The rows used (those with a target).
    public var rows: Int
    public var columns: [ColumnProfile]
    public var findings: [Finding]
    /// The identifiers left out of the features.
    public var excluded: [String]
    /// The columns that leak the target and were not allowed to (training stops on them).
    public var leaks: [String]

    /// The findings as lines for a terminal: severity, id, explanation and next step.
    public var lines: [String] {
        findings.map { "[\($0.severity.rawValue)] \($0.id.rawValue): \($0.explanation) Next: \($0.nextStep)" }
    }
}

/// The data check stopped training: a column leaks the target. Its message names every finding.
public struct DataLeakError: Error, CustomStringConvertible {
    public let report: DataCheckReport
    public var description: String {
        let leaks = report.leaks.map { "'\($0)'" }.joined(separator: ", ")
        return
            "\(report.path): the data check stopped here: \(leaks) predict\(report.leaks.count == 1 ? "s" : "") the "
            + "target '\(report.target)' far better than every other column together; every later number would "
            + "be meaningless. Drop \(report.leaks.count == 1 ? "it" : "them") (--ignore), or pass "
            + "--allow-leak \(report.leaks.joined(separator: ",")) if "
            + "\(report.leaks.count == 1 ? "it is" : "they are") known when predicting.\n"
            + report.lines.map { "  " + $0 }.joined(separator: "\n")
    }
}

/// "Become one with the data": checks a table for identifiers, leaks, order, duplicates, imbalance, awkward columns
/// and an awkward target before anything trains. Every rule and threshold is listed in docs/DATA.md.
///
/// Leaks are measured on the training rows only, with two-fold cross-fitting (each half's one-column model scored on
/// the other half), so that a column with a value per row cannot look predictive by memorising.
public enum DataCheck {
    /// The thresholds, with the reasoning in docs/DATA.md.
    public enum Rule {
        /// Identifiers: the least rows for "unique per row" to mean anything.
        public static let identifierRows = 20
        /// Integers following the row order: the share of consecutive rows that step by exactly +1 (or -1).
        public static let rowNumberSteps = 0.99
        /// A leak: one column alone leaves at most this share of what a constant predictor gets wrong (1 - R^2 for
        /// a regression, the error over the constant predictor's error for a classification), ...
        public static let leakUnexplained = 0.02
        /// ... or (regression) its rank correlation with the target is at least this, ...
        public static let leakRankCorrelation = 0.99
        /// ... and every other column together leaves at least this many times as much unexplained.
        public static let leakAgainstRest = 5.0
        /// Order: a rank correlation (regression) or a shortfall of class changes (classification) this many
        /// standard errors past what a shuffled file shows, ...
        public static let orderSigmas = 5.0
        /// ... and at least this large an effect (|rho|, or 1 - changes / expected changes).
        public static let orderEffect = 0.3
        /// Duplicates across the split: a warning from this share of the validation and test rows.
        public static let crossSplitWarning = 0.01
        /// Imbalance: the minority class's share below which it is a warning.
        public static let minorityShare = 0.05
        /// Near-constant: the most common value's share of the used rows.
        public static let nearConstant = 0.99
        /// Mostly missing: the missing share.
        public static let mostlyMissing = 0.5
        /// Numeric stored as text: the share of a text column's cells that read as numbers.
        public static let numericText = 0.9
        /// A skewed positive target: sample skewness at least this (Bulmer's "highly skewed"), ...
        public static let targetSkewness = 1.0
        /// ... spanning at least this ratio from its smallest value to its largest.
        public static let targetRange = 10.0
    }

    /// The inputs of a check: the table and what the preparation decided.
    public struct Input {
        public var table: CSVTable
        public var targetColumn: Int
        /// The candidate feature columns (the target, `--ignore`d and split columns left out).
        public var featureColumns: [Int]
        public var ignored: [Int] = []
        public var splitColumn: Int?
        /// The rows used, in file order.
        public var rows: [Int]
        /// Each used row's encoded target: class number, or raw value for a regression.
        public var encoded: [Float]
        public var task: TaskKind
        public var classes: [String]?
        /// The split, as positions in `rows`.
        public var train: [Int], validation: [Int], test: [Int]
        public var splitGiven: Bool
        public var categoryLimit: Int
        public var targetTransformed: Bool
        /// Each column's cell codes over `rows`, computed once and shared by the checks.
        let cells = CellCodes()
    }

    /// The cell codes of each column (``codes(_:column:rows:)``) over the used rows, computed at first use.
    final class CellCodes {
        private var byColumn: [Int: [UInt32]] = [:]

        func of(_ column: Int, _ input: Input) -> [UInt32] {
            if let known = byColumn[column] { return known }
            let found = DataCheck.codes(input.table, column: column, rows: input.rows)
            byColumn[column] = found
            return found
        }
    }

    public static func run(_ input: Input, options: DataCheckOptions = DataCheckOptions()) -> DataCheckReport {
        let t = input.table
        var findings: [Finding] = []
        let n = input.rows.count

        // Identifiers.
        let (identifierFound, excluded) = identifiers(input, options: options)
        findings += identifierFound
        let features = input.featureColumns.filter { !excluded.contains($0) }

        // Leaks, on the training rows.
        let leakFindings = leaks(input, features: features, options: options)
        findings += leakFindings.findings

        // Order.
        if let f = order(input) { findings.append(f) }
        // Duplicates.
        findings += duplicates(input, features: features)
        // Imbalance.
        if let f = imbalance(input) { findings.append(f) }
        // Columns.
        findings += columnFindings(input, features: features)
        // The target.
        if let f = skewedTarget(input) { findings.append(f) }

        let profiles = columnProfiles(input, excluded: excluded)
        return DataCheckReport(
            path: t.path, target: t.header[input.targetColumn], task: input.task, rows: n, columns: profiles,
            findings: findings, excluded: excluded.map { t.header[$0] }, leaks: leakFindings.leaks)
    }

    /// The identifiers among the feature columns, as findings, and the columns left out (none when nothing else would
    /// be left: a series of a time index and a value keeps its index).
    static func identifiers(_ input: Input, options: DataCheckOptions) -> (findings: [Finding], excluded: [Int]) {
        let t = input.table, n = input.rows.count
        var findings: [Finding] = []
        var identifiers: [(column: Int, why: String)] = []
        for c in input.featureColumns {
            if let why = identifierReason(input, column: c) { identifiers.append((c, why)) }
        }
        var excluded = identifiers.filter { !options.keep.contains(t.header[$0.column]) }.map(\.column)
        // With nothing else to learn from (a series of a time index and a value), identifiers stay.
        let only = input.featureColumns.allSatisfy(excluded.contains)
        if only { excluded = [] }
        for (c, why) in identifiers {
            let name = t.header[c], kept = options.keep.contains(name) || only
            let keepIt = name.isEmpty ? "name it in the header and pass --keep NAME" : "pass --keep \(name)"
            findings.append(
                Finding(
                    id: .identifier, severity: kept ? .info : .warning, epochs: [],
                    evidence: ["rows": Double(n), "distinct": Double(n)],
                    explanation:
                        "'\(name)' holds \(why), a different value on each of the \(n) rows: it identifies rows "
                        + "rather than describing them, and a network would learn the row order or nothing. "
                        + "\(only ? "Kept, since no other feature is left." : kept ? "Kept, as --keep asks." : "Left out of the features.")",
                    nextStep: kept
                        ? "Make sure '\(name)' means something at prediction time; otherwise drop --keep \(name)."
                        : "Nothing to do; \(keepIt) if it is a real feature.",
                    columns: [name]))
        }
        return (findings, excluded)
    }

    /// Every column of the file with its kind, its role in this run, its missing share and distinct values.
    static func columnProfiles(_ input: Input, excluded: [Int]) -> [ColumnProfile] {
        let t = input.table, n = input.rows.count
        var profiles: [ColumnProfile] = []
        for c in 0..<t.header.count {
            let role: String
            if c == input.targetColumn {
                role = "target"
            } else if excluded.contains(c) {
                role = "excluded"
            } else if c == input.splitColumn {
                role = "split"
            } else if input.ignored.contains(c) {
                role = "ignored"
            } else {
                role = "feature"
            }
            let missing = input.rows.reduce(0) { $0 + (t.missing[c][$1] ? 1 : 0) }
            profiles.append(
                ColumnProfile(
                    name: t.header[c], kind: inferKind(t, column: c), role: role,
                    missingShare: n == 0 ? 0 : Double(missing) / Double(n),
                    distinct: Set(input.cells.of(c, input)).subtracting([missingCode]).count))
        }
        return profiles
    }

    /// Each used row's cell of column `c` as a number that is equal exactly when the cells are: a float's bits for
    /// a numeric column (0 for -0), a category's index for the others; `missingCode` for a missing cell.
    static func codes(_ t: CSVTable, column c: Int, rows: [Int]) -> [UInt32] {
        if t.texts[c] == nil {
            return rows.map {
                t.missing[c][$0] ? missingCode : (t.numbers[c][$0] == 0 ? 0 : t.numbers[c][$0].bitPattern)
            }
        }
        var ids: [String: UInt32] = [:]
        return rows.map { row in
            guard let text = cellText(t, column: c, row: row) else { return missingCode }
            if let id = ids[text] { return id }
            let id = UInt32(ids.count)
            ids[text] = id
            return id
        }
    }

    static let missingCode = UInt32.max
}
