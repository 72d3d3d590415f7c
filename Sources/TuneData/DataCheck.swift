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
            "\(report.path): the data check stopped here: \(leaks) predict\(report.leaks.count == 1 ? "s" : "") the target '\(report.target)' far better than every other column together; every later number would be meaningless. Drop \(report.leaks.count == 1 ? "it" : "them") (--ignore), or pass --allow-leak \(report.leaks.joined(separator: ",")) if \(report.leaks.count == 1 ? "it is" : "they are") known when predicting.\n"
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
    }

    public static func run(_ input: Input, options: DataCheckOptions = DataCheckOptions()) -> DataCheckReport {
        let t = input.table
        var findings: [Finding] = []
        let n = input.rows.count

        // Identifiers.
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
                        "'\(name)' holds \(why), a different value on each of the \(n) rows: it identifies rows rather than describing them, and a network would learn the row order or nothing. \(only ? "Kept, since no other feature is left." : kept ? "Kept, as --keep asks." : "Left out of the features.")",
                    nextStep: kept
                        ? "Make sure '\(name)' means something at prediction time; otherwise drop --keep \(name)."
                        : "Nothing to do; \(keepIt) if it is a real feature.",
                    columns: [name]))
        }
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
                    distinct: Set(codes(t, column: c, rows: input.rows)).subtracting([missingCode]).count))
        }
        return DataCheckReport(
            path: t.path, target: t.header[input.targetColumn], task: input.task, rows: n, columns: profiles,
            findings: findings, excluded: excluded.map { t.header[$0] }, leaks: leakFindings.leaks)
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

    // MARK: - Identifiers

    /// Why a column is an identifier, or nil: unique per row and either named like one, a row number, UUIDs or
    /// hashes, or a text unique to every row. A unique float (a measurement) or unique integers in no order are not.
    static func identifierReason(_ input: Input, column c: Int) -> String? {
        let t = input.table, rows = input.rows
        guard rows.count >= Rule.identifierRows, !rows.contains(where: { t.missing[c][$0] }) else { return nil }
        guard Set(codes(t, column: c, rows: rows)).count == rows.count else { return nil }
        let name = t.header[c].trimmingCharacters(in: .whitespaces)
        let lower = name.lowercased()
        if lower.isEmpty || lower.hasPrefix("unnamed") {
            return "an unnamed column of unique values (a saved row index)"
        }
        let idWords: Set<String> = [
            "id", "index", "idx", "rowid", "row_id", "row", "key", "uuid", "guid", "#", "no", "number"
        ]
        if idWords.contains(lower) || lower.hasSuffix("_id") || lower.hasSuffix(" id") || name.hasSuffix("ID")
            || name.hasSuffix("Id")
        {
            return "unique values under an identifier's name"
        }
        if t.texts[c] == nil {
            let values = rows.map { Double(t.numbers[c][$0]) }
            guard values.allSatisfy({ $0 == $0.rounded() }), values.count >= 2 else { return nil }
            // A row number: steps of exactly one from row to row, starting at the row's position (0 or 1 based).
            var up = 0, down = 0
            for i in 1..<values.count {
                if values[i] - values[i - 1] == 1 { up += 1 }
                if values[i] - values[i - 1] == -1 { down += 1 }
            }
            let steps = Double(max(up, down)) / Double(values.count - 1)
            let offset = values[0] - Double(rows[0])
            if steps >= Rule.rowNumberSteps && (offset == 0 || offset == 1 || down > up) {
                return "integers that follow the row order (a row number)"
            }
            return nil
        }
        // Text: UUIDs, hashes, or any text unique to every row.
        let texts = rows.map { cellText(t, column: c, row: $0)! }
        if texts.allSatisfy(isUUID) { return "UUIDs" }
        if texts.allSatisfy(isDate) {
            return
                "dates (read as text, one per row: turn them into numbers such as the year, month, day of week or days since a start to use them)"
        }
        let length = texts[0].count
        if length >= 8, texts.allSatisfy({ $0.count == length && $0.allSatisfy(\.isHexDigit) }) {
            return "hexadecimal hashes"
        }
        return "a text unique to every row (one-hot encoding can learn nothing from it)"
    }

    /// A date or a date and time as files write them: 2024-01-31, 2024-01, 2024-01-31T12:00, 31/01/2024, 1/31/24,
    /// 31.01.2024; 1986.5 is not (a number).
    static func isDate(_ s: String) -> Bool {
        let head = s.split(whereSeparator: { $0 == "T" || $0 == " " }).first.map(String.init) ?? s
        let parts = head.split(
            omittingEmptySubsequences: false, whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." })
        guard (2...3).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy(\.isNumber) })
        else { return false }
        if head.contains(".") && parts.count != 3 { return false }  // 1986.5 is a number, 31.01.2024 a date
        return parts.contains { $0.count == 4 } || (parts.count == 3 && head.contains("/"))
    }

    static func isUUID(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [8, 4, 4, 4, 12] && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    // MARK: - Leaks

    /// A column's values on some rows, as keys for a one-column model: numbers (NaN when missing) or texts.
    enum Values {
        case numbers([Double])
        case texts([String])
    }

    static func values(_ t: CSVTable, column c: Int, rows: [Int]) -> Values {
        if inferKind(t, column: c) == .numeric {
            return .numbers(rows.map { t.missing[c][$0] ? .nan : Double(t.numbers[c][$0]) })
        }
        let boolean = inferKind(t, column: c) == .boolean
        return .texts(
            rows.map { cellText(t, column: c, row: $0).map { boolean ? $0.lowercased() : $0 } ?? "\u{0}missing" })
    }

    /// The share of what a constant predictor gets wrong that a one-column model still gets wrong, cross-fitted over
    /// two halves: binned (up to 32 equal-count bins of the fitting half, missing its own bin) or by category, each
    /// bin predicting its majority class or mean target.
    static func unexplained(_ x: Values, _ y: [Double], classification: Bool) -> Double {
        let n = y.count
        guard n >= 4 else { return 1 }
        var loss = 0.0, base = 0.0
        for fold in 0..<2 {
            let fit = (0..<n).filter { $0 % 2 == fold }, check = (0..<n).filter { $0 % 2 != fold }
            let keyOf: (Int) -> Int
            switch x {
            case .numbers(let v):
                let present = fit.filter { !v[$0].isNaN }.map { v[$0] }.sorted()
                let bins = max(2, min(32, present.count / 10))
                var edges: [Double] = []
                if !present.isEmpty {
                    for b in 1..<bins { edges.append(present[b * present.count / bins]) }
                }
                edges = Array(Set(edges)).sorted()
                keyOf = { i in
                    if v[i].isNaN { return -1 }
                    var lo = 0, hi = edges.count
                    while lo < hi { let mid = (lo + hi) / 2; if edges[mid] <= v[i] { lo = mid + 1 } else { hi = mid } }
                    return lo
                }
            case .texts(let s):
                var ids: [String: Int] = [:]
                for i in 0..<n where ids[s[i]] == nil { ids[s[i]] = ids.count }
                keyOf = { ids[s[$0]]! }
            }
            let (l, b) = crossScore(fit: fit, check: check, key: keyOf, y: y, classification: classification)
            loss += l
            base += b
        }
        return base > 0 ? loss / base : 1
    }

    /// The loss of predicting `y` on `check` from each key's fitted majority or mean (the overall one for a key the
    /// fitting rows lack), and the loss of the overall one alone: errors, or squared errors.
    static func crossScore(fit: [Int], check: [Int], key: (Int) -> Int, y: [Double], classification: Bool) -> (
        Double, Double
    ) {
        if classification {
            var counts: [Int: [Int: Int]] = [:], overall: [Int: Int] = [:]
            for i in fit {
                counts[key(i), default: [:]][Int(y[i]), default: 0] += 1; overall[Int(y[i]), default: 0] += 1
            }
            func majority(_ c: [Int: Int]) -> Int {
                c.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? 0
            }
            let top = majority(overall)
            var errors = 0.0, baseErrors = 0.0
            for i in check {
                let predicted = counts[key(i)].map(majority) ?? top
                if predicted != Int(y[i]) { errors += 1 }
                if top != Int(y[i]) { baseErrors += 1 }
            }
            return (errors, baseErrors)
        }
        var sums: [Int: (Double, Int)] = [:]
        var total = 0.0
        for i in fit { let k = key(i); sums[k] = ((sums[k]?.0 ?? 0) + y[i], (sums[k]?.1 ?? 0) + 1); total += y[i] }
        let mean = total / Double(max(fit.count, 1))
        var sse = 0.0, sst = 0.0
        for i in check {
            let p = sums[key(i)].map { $0.0 / Double($0.1) } ?? mean
            sse += (y[i] - p) * (y[i] - p)
            sst += (y[i] - mean) * (y[i] - mean)
        }
        return (sse, sst)
    }

    /// The share of `y`'s variance left once `x` is known, estimated from neighbours (Rice's difference estimator):
    /// with the rows sorted by `x` (ties in their given order, which the split has shuffled), half the mean squared
    /// difference of neighbouring `y`s over `y`'s variance. Near 0 when `y` is a smooth function of `x`, near 1 when
    /// it is independent of it; no fitting, so no overfitting.
    static func neighbourUnexplained(_ x: [Double], _ y: [Double]) -> Double {
        let rows = x.indices.filter { !x[$0].isNaN && !y[$0].isNaN }
        guard rows.count >= 20 else { return 1 }
        let order = rows.sorted { x[$0] != x[$1] ? x[$0] < x[$1] : $0 < $1 }
        let mean = rows.reduce(0) { $0 + y[$1] } / Double(rows.count)
        let variance = rows.reduce(0) { $0 + (y[$1] - mean) * (y[$1] - mean) } / Double(rows.count)
        guard variance > 0 else { return 1 }
        var differences = 0.0
        for i in 1..<order.count { let d = y[order[i]] - y[order[i - 1]]; differences += d * d }
        return differences / Double(2 * (order.count - 1)) / variance
    }

    /// Spearman's rank correlation (average ranks for ties); nil when either side is constant.
    public static func rankCorrelation(_ a: [Double], _ b: [Double]) -> Double? {
        guard a.count == b.count, a.count >= 3 else { return nil }
        let ra = ranks(a), rb = ranks(b)
        let ma = ra.reduce(0, +) / Double(ra.count), mb = rb.reduce(0, +) / Double(rb.count)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in ra.indices {
            sab += (ra[i] - ma) * (rb[i] - mb); saa += (ra[i] - ma) * (ra[i] - ma); sbb += (rb[i] - mb) * (rb[i] - mb)
        }
        guard saa > 0, sbb > 0 else { return nil }
        return sab / (saa * sbb).squareRoot()
    }

    static func ranks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var r = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = rank }
            i = j + 1
        }
        return r
    }

    /// The share of the target that every column in `columns` together leaves unexplained, cross-fitted: a ridge
    /// linear model on the standardised numbers, booleans and the 10 commonest categories of each text column
    /// (one-vs-rest for classes), or the best single column when that does better (the linear model misses curves).
    static func restUnexplained(_ input: Input, columns: [Int], trainRows: [Int], y: [Double], singles: [Double])
        -> Double
    {
        let best = singles.min() ?? 1
        guard !columns.isEmpty, trainRows.count >= 8 else { return best }
        let t = input.table
        // The design matrix, column by column.
        var design: [[Double]] = []
        for c in columns {
            switch values(t, column: c, rows: trainRows) {
            case .numbers(let v):
                let present = v.filter { !$0.isNaN }
                guard !present.isEmpty else { continue }
                let m = present.reduce(0, +) / Double(present.count)
                let sd = (present.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(present.count)).squareRoot()
                guard sd > 0 else { continue }
                design.append(v.map { $0.isNaN ? 0 : ($0 - m) / sd })
            case .texts(let s):
                var counts: [String: Int] = [:]
                for x in s { counts[x, default: 0] += 1 }
                for level in counts.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }).prefix(
                    10
                ).map(\.key) {
                    design.append(s.map { $0 == level ? 1 : 0 })
                }
            }
            if design.count >= 300 { break }
        }
        guard !design.isEmpty else { return best }
        let n = trainRows.count, p = design.count + 1
        let classification = input.task.isClassification
        let outputs: [[Double]] =
            classification
            ? (0..<(input.classes?.count ?? 2)).map { k in y.map { Int($0) == k ? 1 : 0 } }
            : [y]
        var loss = 0.0, base = 0.0
        for fold in 0..<2 {
            let fit = (0..<n).filter { $0 % 2 == fold }, check = (0..<n).filter { $0 % 2 != fold }
            func row(_ i: Int) -> [Double] { [1] + design.map { $0[i] } }
            var a = [Double](repeating: 0, count: p * p)
            for i in fit {
                let x = row(i)
                for r in 0..<p where x[r] != 0 { for s in 0..<p { a[r * p + s] += x[r] * x[s] } }
            }
            for r in 1..<p { a[r * p + r] += 1e-3 * Double(fit.count) }
            a[0] += 1e-9
            guard let l = cholesky(a, p) else { return best }
            var predictions: [[Double]] = []
            for out in outputs {
                var b = [Double](repeating: 0, count: p)
                for i in fit { let x = row(i); for r in 0..<p { b[r] += x[r] * out[i] } }
                let w = solve(l, p, b)
                predictions.append(check.map { i in zip(row(i), w).reduce(0) { $0 + $1.0 * $1.1 } })
            }
            if classification {
                var overall: [Int: Int] = [:]
                for i in fit { overall[Int(y[i]), default: 0] += 1 }
                let top = overall.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? 0
                for (j, i) in check.enumerated() {
                    let predicted = predictions.indices.max { predictions[$0][j] < predictions[$1][j] } ?? 0
                    if predicted != Int(y[i]) { loss += 1 }
                    if top != Int(y[i]) { base += 1 }
                }
            } else {
                let mean = fit.reduce(0) { $0 + y[$1] } / Double(fit.count)
                for (j, i) in check.enumerated() {
                    loss += (y[i] - predictions[0][j]) * (y[i] - predictions[0][j])
                    base += (y[i] - mean) * (y[i] - mean)
                }
            }
        }
        return min(best, base > 0 ? loss / base : 1)
    }

    static func cholesky(_ a: [Double], _ p: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: p * p)
        for i in 0..<p {
            for j in 0...i {
                var s = a[i * p + j]
                for k in 0..<j { s -= l[i * p + k] * l[j * p + k] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * p + i] = s.squareRoot()
                } else {
                    l[i * p + j] = s / l[j * p + j]
                }
            }
        }
        return l
    }

    static func solve(_ l: [Double], _ p: Int, _ b: [Double]) -> [Double] {
        var z = b
        for i in 0..<p { for k in 0..<i { z[i] -= l[i * p + k] * z[k] }; z[i] /= l[i * p + i] }
        for i in stride(from: p - 1, through: 0, by: -1) {
            for k in (i + 1)..<p { z[i] -= l[k * p + i] * z[k] }; z[i] /= l[i * p + i]
        }
        return z
    }

    /// Columns that predict the target almost perfectly alone (or are a near-exact function of it) while the other
    /// columns together leave far more unexplained: leaks, which stop training unless allowed.
    static func leaks(_ input: Input, features: [Int], options: DataCheckOptions) -> (
        findings: [Finding], leaks: [String]
    ) {
        let t = input.table
        let trainRows = input.train.map { input.rows[$0] }
        let y = input.train.map { Double(input.encoded[$0]) }
        let classification = input.task.isClassification
        guard trainRows.count >= 8 else { return ([], []) }
        var singles: [Int: Double] = [:]
        var candidates: [(column: Int, unexplained: Double, how: String)] = []
        // Rows in time order: a column (or target) that follows the row order has neighbouring rows for neighbouring
        // values, so the neighbour estimates would measure how smoothly the target moves from row to row (a time
        // series), not how well the column predicts it; they are left out for it.
        let positions = trainRows.map(Double.init)
        func followsOrder(_ v: [Double]) -> Bool { abs(rankCorrelation(positions, v) ?? 0) >= Rule.leakRankCorrelation }
        let targetFollowsOrder = !classification && followsOrder(y)
        for c in features {
            let x = values(t, column: c, rows: trainRows)
            var u = unexplained(x, y, classification: classification)
            var how =
                classification
                ? String(
                    format:
                        "alone, it classifies the training rows with %.2f%% of the errors of predicting the commonest class",
                    100 * u)
                : String(
                    format: "alone, it explains %.2f%% of the target's variance on the training rows", 100 * (1 - u))
            if !classification, case .numbers(let v) = x, !v.contains(where: \.isNaN) {
                if let rho = rankCorrelation(v, y), abs(rho) >= Rule.leakRankCorrelation, 1 - rho * rho < u {
                    u = 1 - rho * rho
                    how = String(format: "its rank correlation with the target on the training rows is %.4f", rho)
                }
                // The target as a smooth function of the column, curves and tails included.
                let smooth = followsOrder(v) ? 1 : neighbourUnexplained(v, y)
                if smooth < u {
                    u = smooth
                    how = String(
                        format:
                            "alone, it explains %.2f%% of the target's variance on the training rows (neighbouring values, neighbouring targets)",
                        100 * (1 - smooth))
                }
                // A near-exact function of the target (not necessarily one the target is a function of).
                let reverse = targetFollowsOrder ? 1 : neighbourUnexplained(y, v)
                if reverse < u {
                    u = reverse
                    how = String(
                        format:
                            "it is a near-exact function of the target: the target alone explains %.2f%% of its variance",
                        100 * (1 - reverse))
                }
            }
            singles[c] = u
            if u <= Rule.leakUnexplained { candidates.append((c, u, how)) }
        }
        guard !candidates.isEmpty else { return ([], []) }
        let others = features.filter { c in !candidates.contains { $0.column == c } }
        let rest = restUnexplained(
            input, columns: others, trainRows: trainRows, y: y, singles: others.compactMap { singles[$0] })
        var findings: [Finding] = [], leaks: [String] = []
        for (c, u, how) in candidates {
            let name = t.header[c]
            let evidence = ["unexplained": u, "rest_unexplained": rest]
            if others.isEmpty && candidates.count == 1 {
                // The only feature: nothing to judge it against (a curve y = f(x) looks the same as a leak).
                findings.append(
                    Finding(
                        id: .strongSingleColumn, severity: .warning, epochs: [], evidence: evidence,
                        explanation:
                            "'\(name)' predicts the target almost perfectly (\(how)), and it is the only feature, so nothing tells a leak from a clean curve.",
                        nextStep: "Make sure '\(name)' is known when predicting and is not the target in another form.",
                        columns: [name]))
            } else if rest >= Rule.leakAgainstRest * u {
                let allowed = options.allowLeak.contains(name)
                let timeLike: String
                if case .numbers(let v) = values(t, column: c, rows: trainRows), !v.contains(where: \.isNaN),
                    followsOrder(v)
                {
                    timeLike =
                        " It also follows the row order: if it is a time, the target may simply trend with it; then split by time (--split column:NAME) and pass --allow-leak."
                } else {
                    timeLike = ""
                }
                if !allowed { leaks.append(name) }
                findings.append(
                    Finding(
                        id: .leak, severity: allowed ? .warning : .critical, epochs: [], evidence: evidence,
                        explanation: String(
                            format:
                                "'%@' gives the target away: %@, while every other column together leaves %.1f%% unexplained. A column that is the target in another unit, or known only after the fact, makes every later number meaningless.%@%@",
                            name, how, 100 * rest, timeLike, allowed ? " Allowed with --allow-leak." : ""),
                        nextStep: allowed
                            ? "Check once more that '\(name)' is known when predicting."
                            : "Drop it (--ignore \(name)); only if it is truly known when predicting, pass --allow-leak \(name).",
                        columns: [name]))
            } else {
                findings.append(
                    Finding(
                        id: .strongSingleColumn, severity: .info, epochs: [], evidence: evidence,
                        explanation: String(
                            format:
                                "'%@' predicts the target almost perfectly (%@), but the other columns together come close too (%.1f%% unexplained): the task looks easy rather than leaked.",
                            name, how, 100 * rest),
                        nextStep: "Check that '\(name)' is known when predicting.", columns: [name]))
            }
        }
        return (findings, leaks)
    }

    // MARK: - Order

    /// A target that rises or falls with the row order (regression: Spearman's rho with the row's position), or whose
    /// classes come in runs (far fewer class changes between neighbouring rows than a shuffled file has).
    static func order(_ input: Input) -> Finding? {
        let n = input.rows.count
        guard n >= 20 else { return nil }
        let y = input.encoded.map(Double.init)
        var explanation: String, evidence: [String: Double]
        if input.task.isClassification {
            var changes = 0
            for i in 1..<n where y[i] != y[i - 1] { changes += 1 }
            var counts: [Int: Int] = [:]
            for v in y { counts[Int(v), default: 0] += 1 }
            let q = 1 - counts.values.reduce(0.0) { $0 + pow(Double($1) / Double(n), 2) }
            let expected = Double(n - 1) * q
            let sd = (Double(n - 1) * q * (1 - q)).squareRoot()
            guard expected > 0, sd > 0 else { return nil }
            let effect = 1 - Double(changes) / expected, z = (expected - Double(changes)) / sd
            guard z >= Rule.orderSigmas, effect >= Rule.orderEffect else { return nil }
            evidence = ["class_changes": Double(changes), "expected_changes": expected, "sigmas": z]
            explanation = String(
                format:
                    "The classes come in runs: the class changes %d times between neighbouring rows, where a shuffled file would change about %.0f times (%.0f standard errors fewer): the file is sorted or grouped by class.",
                changes, expected, z)
        } else {
            guard let rho = rankCorrelation((0..<n).map(Double.init), y) else { return nil }
            let z = abs(rho) * Double(n - 1).squareRoot()
            guard z >= Rule.orderSigmas, abs(rho) >= Rule.orderEffect else { return nil }
            evidence = ["rank_correlation": rho, "sigmas": z]
            explanation = String(
                format:
                    "The target %@ with the row order: its rank correlation with the row's position is %.3f (%.0f standard errors from a shuffled file's 0): the file is sorted by it, or by something that drives it.",
                rho > 0 ? "rises" : "falls", rho, z)
        }
        let next =
            input.splitGiven
            ? "The split column decides the parts, so the order does not bias it; a split by position elsewhere would."
            : "The default split shuffles (seeded), so this split is safe; never take the first or last rows as the validation or test set without shuffling."
        return Finding(
            id: .sortedTarget, severity: .info, epochs: [], evidence: evidence, explanation: explanation,
            nextStep: next,
            columns: [input.table.header[input.targetColumn]])
    }

    // MARK: - Duplicates

    static func duplicates(_ input: Input, features: [Int]) -> [Finding] {
        let t = input.table
        let columns = features.map { codes(t, column: $0, rows: input.rows) }
        let keys = input.rows.indices.map { i in columns.map { $0[i] } }
        var firstTarget: [[UInt32]: Float] = [:], identical = 0, conflicting = Set<[UInt32]>(), rowsInConflict = 0
        var groupSize: [[UInt32]: Int] = [:]
        for (i, k) in keys.enumerated() {
            groupSize[k, default: 0] += 1
            if let y = firstTarget[k] {
                if y == input.encoded[i] { identical += 1 } else { conflicting.insert(k) }
            } else {
                firstTarget[k] = input.encoded[i]
            }
        }
        for k in conflicting { rowsInConflict += groupSize[k] ?? 0 }
        var findings: [Finding] = []
        let trainKeys = Set(input.train.map { keys[$0] })
        let held = input.validation + input.test
        let across = held.filter { trainKeys.contains(keys[$0]) }.count
        let share = held.isEmpty ? 0 : Double(across) / Double(held.count)
        if identical > 0 {
            findings.append(
                Finding(
                    id: .duplicateRows, severity: share >= Rule.crossSplitWarning ? .warning : .info, epochs: [],
                    evidence: [
                        "duplicate_rows": Double(identical), "held_out_with_training_copy": Double(across),
                        "held_out_share": share
                    ],
                    explanation: String(
                        format:
                            "%d row%@ an earlier row exactly (features and target); %d of the %d validation and test rows (%.1f%%) have an identical copy among the training rows, where the network can remember rather than predict.",
                        identical, identical == 1 ? " repeats" : "s repeat", across, held.count, 100 * share),
                    nextStep: share >= Rule.crossSplitWarning
                        ? "Drop the repeats before splitting (or split by a group column with --split column:NAME), so that the validation metric measures prediction."
                        : "Few cross the split; drop the repeats if they are not real repeated observations.",
                    columns: []))
        }
        if !conflicting.isEmpty {
            let rowShare = Double(rowsInConflict) / Double(max(input.rows.count, 1))
            findings.append(
                Finding(
                    id: .conflictingLabels, severity: rowShare >= Rule.crossSplitWarning ? .warning : .info, epochs: [],
                    evidence: ["groups": Double(conflicting.count), "rows": Double(rowsInConflict), "share": rowShare],
                    explanation: String(
                        format:
                            "%d groups of rows (%d rows, %.1f%%) have identical features but different targets: label noise, or a feature that is missing from the file. No model can get all of them right.",
                        conflicting.count, rowsInConflict, 100 * rowShare),
                    nextStep:
                        "Look at a few of them: fix the labels if they are wrong, or add the column that tells them apart.",
                    columns: [input.table.header[input.targetColumn]]))
        }
        return findings
    }

    // MARK: - Imbalance

    static func imbalance(_ input: Input) -> Finding? {
        guard input.task.isClassification, let classes = input.classes, !input.rows.isEmpty else { return nil }
        var counts = [Int](repeating: 0, count: classes.count)
        for v in input.encoded { counts[Int(v)] += 1 }
        guard let k = counts.indices.min(by: { counts[$0] < counts[$1] }) else { return nil }
        let share = Double(counts[k]) / Double(input.rows.count)
        guard share < Rule.minorityShare else { return nil }
        let binary = input.task == .binary
        return Finding(
            id: .imbalance, severity: .warning, epochs: [],
            evidence: [
                "minority_share": share, "minority_rows": Double(counts[k]),
                "validation_minority_rows": Double(input.validation.filter { Int(input.encoded[$0]) == k }.count)
            ],
            explanation: String(
                format:
                    "Class '%@' is %.2f%% of the rows (%d of %d): accuracy is near %.1f%% for a model that never predicts it, and the validation rows hold only %d of them.",
                classes[k], 100 * share, counts[k], input.rows.count, 100 * (1 - share),
                input.validation.filter { Int(input.encoded[$0]) == k }.count),
            nextStep: binary
                ? "Judge by average precision beside ROC AUC (--metric average_precision), keep the stratified split (the default), and weight the rare class or collect more of it."
                : "Judge by balanced accuracy (--metric balanced_accuracy), keep the stratified split (the default), and weight the rare class or collect more of it.",
            columns: [input.table.header[input.targetColumn]])
    }

    // MARK: - Columns

    static func columnFindings(_ input: Input, features: [Int]) -> [Finding] {
        let t = input.table, n = input.rows.count
        guard n > 0 else { return [] }
        var constant: [String] = [], nearConstant: [(String, Double)] = [], mostlyMissing: [(String, Double)] = []
        var wide: [(String, Int)] = [], numericText: [(String, [String])] = []
        for c in features {
            let cells = codes(t, column: c, rows: input.rows).filter { $0 != missingCode }
            let missingShare = 1 - Double(cells.count) / Double(n)
            if missingShare >= Rule.mostlyMissing { mostlyMissing.append((t.header[c], missingShare)) }
            var counts: [UInt32: Int] = [:]
            for v in cells { counts[v, default: 0] += 1 }
            if counts.count <= 1 {
                constant.append(t.header[c])
                continue
            }
            let top = Double(counts.values.max() ?? 0) / Double(n)
            if top >= Rule.nearConstant { nearConstant.append((t.header[c], top)) }
            guard inferKind(t, column: c) == .categorical else { continue }
            let present = input.rows.compactMap { cellText(t, column: c, row: $0) }
            // Text that is mostly numbers: "12.5", "$1,200", "15%", with a few words among them. Codes are not: numbers
            // with a leading zero ("007"), or whole numbers with more levels than one-hot keeps (group ids such as
            // families or subjects, "136A" among them), which high_cardinality reports.
            let numeric = present.filter { numberLike($0) }
            let code =
                numeric.contains { $0.count > 1 && $0.hasPrefix("0") && $0.dropFirst().first?.isNumber == true }
                || (counts.count > input.categoryLimit
                    && numeric.allSatisfy { Double($0).map { $0 == $0.rounded() } ?? false })
            if !code && Double(numeric.count) / Double(present.count) >= Rule.numericText {
                let others = Set(present.filter { !numberLike($0) }).sorted().prefix(3)
                numericText.append((t.header[c], Array(others)))
                continue
            }
            if counts.count > input.categoryLimit { wide.append((t.header[c], counts.count)) }
        }
        var findings: [Finding] = []
        if !constant.isEmpty {
            findings.append(
                Finding(
                    id: .constantColumn, severity: .info, epochs: [], evidence: ["columns": Double(constant.count)],
                    explanation:
                        "\(list(constant)) hold\(constant.count == 1 ? "s" : "") a single value on every row: nothing to learn from.",
                    nextStep:
                        "Nothing to do (standardised to zero); drop \(constant.count == 1 ? "it" : "them") with --ignore to keep the model smaller.",
                    columns: constant))
        }
        if !nearConstant.isEmpty {
            let names = nearConstant.map(\.0)
            findings.append(
                Finding(
                    id: .nearConstantColumn, severity: .info, epochs: [],
                    evidence: ["columns": Double(names.count), "largest_share": nearConstant.map(\.1).max()!],
                    explanation:
                        "\(list(names)) hold\(names.count == 1 ? "s" : "") one value on \(String(format: "%.1f", 100 * Rule.nearConstant))% of the rows or more: the rest is a handful of rows, which the validation split may barely see.",
                    nextStep:
                        "Keep \(names.count == 1 ? "it" : "them") if the rare values matter; otherwise drop with --ignore.",
                    columns: names))
        }
        for (name, share) in mostlyMissing {
            findings.append(
                Finding(
                    id: .mostlyMissing, severity: .info, epochs: [], evidence: ["missing_share": share],
                    explanation: String(
                        format:
                            "'%@' is missing on %.1f%% of the rows: imputed with the training median or mode and a missing-indicator column, it mostly says whether it was recorded.",
                        name, 100 * share),
                    nextStep: "Keep it if being missing means something; otherwise drop it with --ignore \(name).",
                    columns: [name]))
        }
        for (name, levels) in wide {
            findings.append(
                Finding(
                    id: .highCardinality, severity: .info, epochs: [], evidence: ["levels": Double(levels)],
                    explanation:
                        "'\(name)' has \(levels) distinct values: one-hot encoding would cost \(levels) input columns, so swift-tune keeps the \(input.categoryLimit) commonest and an 'other' column.",
                    nextStep:
                        "Group rare values into meaningful ones, or replace the column by a number it stands for (a count, a rate).",
                    columns: [name]))
        }
        for (name, others) in numericText {
            findings.append(
                Finding(
                    id: .numericAsText, severity: .warning, epochs: [], evidence: [:],
                    explanation:
                        "'\(name)' holds numbers written as text (with symbols or words among them\(others.isEmpty ? "" : ", such as " + others.map { "'\($0)'" }.joined(separator: ", "))): it is read as categories, so its order and distances are lost.",
                    nextStep:
                        "Write plain numbers (no currency, thousands separators or %), and leave a missing value empty.",
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
                    "The target is positive and skewed (skewness %.2f; from %.4g to %.4g): a squared error is dominated by its largest values. Its logarithm has a skewness of %.2f.",
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
