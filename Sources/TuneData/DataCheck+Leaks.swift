import Foundation
import TuneDiagnosis

extension DataCheck {
    /// The training rows a leak is measured on, and what follows the row order among them.
    struct LeakContext {
        let table: CSVTable
        let rows: [Int]
        let y: [Double]
        let classification: Bool
        let positions: [Double]

        init(_ input: Input) {
            table = input.table
            rows = input.train.map { input.rows[$0] }
            y = input.train.map { Double(input.encoded[$0]) }
            classification = input.task.isClassification
            positions = rows.map(Double.init)
        }

        /// Rows in time order: a column (or target) that follows the row order has neighbouring rows for neighbouring
        /// values, so the neighbour estimates would measure how smoothly the target moves from row to row (a time
        /// series), not how well the column predicts it; they are left out for it.
        func followsOrder(_ v: [Double]) -> Bool {
            abs(rankCorrelation(positions, v) ?? 0) >= Rule.leakRankCorrelation
        }
    }

    /// How much of the target one column leaves unexplained alone (the least of its estimates), how, and whether the
    /// column follows the row order (a time, perhaps).
    static func singleColumn(_ c: Int, _ context: LeakContext, targetFollowsOrder: Bool) -> (
        unexplained: Double, how: String, ordered: Bool
    ) {
        let x = values(context.table, column: c, rows: context.rows), y = context.y
        var u = unexplained(x, y, classification: context.classification)
        let trainingRows = "on the training rows"
        var how =
            context.classification
            ? String(
                format:
                    "alone, it classifies the training rows with %.2f%% of the errors of predicting the commonest "
                    + "class",
                100 * u)
            : String(format: "alone, it explains %.2f%% of the target's variance %@", 100 * (1 - u), trainingRows)
        guard case .numbers(let v) = x, !v.contains(where: \.isNaN) else { return (u, how, false) }
        // (For a class, the order matters only to the message of a leak.)
        guard !context.classification else { return (u, how, u <= Rule.leakUnexplained && context.followsOrder(v)) }
        let ordered = context.followsOrder(v)
        if let rho = rankCorrelation(v, y), abs(rho) >= Rule.leakRankCorrelation, 1 - rho * rho < u {
            u = 1 - rho * rho
            how = String(format: "its rank correlation with the target %@ is %.4f", trainingRows, rho)
        }
        // The target as a smooth function of the column, curves and tails included.
        let smooth = ordered ? 1 : neighbourUnexplained(v, y)
        if smooth < u {
            u = smooth
            how = String(
                format:
                    "alone, it explains %.2f%% of the target's variance %@ (neighbouring values, neighbouring targets)",
                100 * (1 - smooth), trainingRows)
        }
        // A near-exact function of the target (not necessarily one the target is a function of).
        let reverse = targetFollowsOrder ? 1 : neighbourUnexplained(y, v)
        if reverse < u {
            u = reverse
            how = String(
                format: "it is a near-exact function of the target: the target alone explains %.2f%% of its variance",
                100 * (1 - reverse))
        }
        return (u, how, ordered)
    }

    /// Columns that predict the target almost perfectly alone (or are a near-exact function of it) while the other
    /// columns together leave far more unexplained: leaks, which stop training unless allowed.
    static func leaks(_ input: Input, features: [Int], options: DataCheckOptions) -> (
        findings: [Finding], leaks: [String]
    ) {
        let context = LeakContext(input)
        guard context.rows.count >= 8 else { return ([], []) }
        let targetFollowsOrder = !context.classification && context.followsOrder(context.y)
        var singles: [Int: Double] = [:]
        var candidates: [(column: Int, unexplained: Double, how: String, ordered: Bool)] = []
        for c in features {
            let (u, how, ordered) = singleColumn(c, context, targetFollowsOrder: targetFollowsOrder)
            singles[c] = u
            if u <= Rule.leakUnexplained { candidates.append((c, u, how, ordered)) }
        }
        guard !candidates.isEmpty else { return ([], []) }
        let others = features.filter { c in !candidates.contains { $0.column == c } }
        let rest = restUnexplained(
            input, columns: others, trainRows: context.rows, y: context.y,
            singles: others.compactMap { singles[$0] })
        var findings: [Finding] = [], leaks: [String] = []
        for (c, u, how, ordered) in candidates {
            let name = context.table.header[c]
            let evidence = ["unexplained": u, "rest_unexplained": rest]
            if others.isEmpty && candidates.count == 1 {
                // The only feature: nothing to judge it against (a curve y = f(x) looks the same as a leak).
                findings.append(
                    Finding(
                        id: .strongSingleColumn, severity: .warning, epochs: [], evidence: evidence,
                        explanation:
                            "'\(name)' predicts the target almost perfectly (\(how)), and it is the only feature, so "
                            + "nothing tells a leak from a clean curve.",
                        nextStep: "Make sure '\(name)' is known when predicting and is not the target in another form.",
                        columns: [name]))
            } else if rest >= Rule.leakAgainstRest * u {
                let allowed = options.allowLeak.contains(name)
                if !allowed { leaks.append(name) }
                findings.append(
                    leakFinding(name, how: how, ordered: ordered, rest: rest, allowed: allowed, evidence: evidence))
            } else {
                findings.append(
                    Finding(
                        id: .strongSingleColumn, severity: .info, epochs: [], evidence: evidence,
                        explanation: String(
                            format:
                                "'%@' predicts the target almost perfectly (%@), but the other columns together come "
                                + "close too (%.1f%% unexplained): the task looks easy rather than leaked.",
                            name, how, 100 * rest),
                        nextStep: "Check that '\(name)' is known when predicting.", columns: [name]))
            }
        }
        return (findings, leaks)
    }

    /// The finding of a leaking column: critical, or a warning when `--allow-leak` names it.
    static func leakFinding(
        _ name: String, how: String, ordered: Bool, rest: Double, allowed: Bool, evidence: [String: Double]
    ) -> Finding {
        let timeLike =
            ordered
            ? " It also follows the row order: if it is a time, the target may simply trend with it; then split by "
                + "time (--split column:NAME) and pass --allow-leak."
            : ""
        return Finding(
            id: .leak, severity: allowed ? .warning : .critical, epochs: [], evidence: evidence,
            explanation: String(
                format:
                    "'%@' gives the target away: %@, while every other column together leaves %.1f%% unexplained. A "
                    + "column that is the target in another unit, or known only after the fact, makes every "
                    + "later number meaningless.%@%@",
                name, how, 100 * rest, timeLike, allowed ? " Allowed with --allow-leak." : ""),
            nextStep: allowed
                ? "Check once more that '\(name)' is known when predicting."
                : "Drop it (--ignore \(name)); only if it is truly known when predicting, pass --allow-leak \(name).",
            columns: [name])
    }
}
