import Foundation
import TuneDiagnosis

/// Checks of the rows: their order, repeats and the classes' balance.
extension DataCheck {
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
                    "The classes come in runs: the class changes %d times between neighbouring rows, where a "
                    + "shuffled file would change about %.0f times (%.0f standard errors fewer): the file is "
                    + "sorted or grouped by class.",
                changes, expected, z)
        } else {
            guard let rho = rankCorrelation((0..<n).map(Double.init), y) else { return nil }
            let z = abs(rho) * Double(n - 1).squareRoot()
            guard z >= Rule.orderSigmas, abs(rho) >= Rule.orderEffect else { return nil }
            evidence = ["rank_correlation": rho, "sigmas": z]
            explanation = String(
                format:
                    "The target %@ with the row order: its rank correlation with the row's position is %.3f (%.0f "
                    + "standard errors from a shuffled file's 0): the file is sorted by it, or by something that "
                    + "drives it.",
                rho > 0 ? "rises" : "falls", rho, z)
        }
        let next =
            input.splitGiven
            ? "The split column decides the parts, so the order does not bias it; a split by position elsewhere would."
            : "The default split shuffles (seeded), so this split is safe; never take the first or last rows as the "
                + "validation or test set without shuffling."
        return Finding(
            id: .sortedTarget, severity: .info, epochs: [], evidence: evidence, explanation: explanation,
            nextStep: next,
            columns: [input.table.header[input.targetColumn]])
    }

    // MARK: - Duplicates

    static func duplicates(_ input: Input, features: [Int]) -> [Finding] {
        let columns = features.map { input.cells.of($0, input) }
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
                            "%d row%@ an earlier row exactly (features and target); %d of the %d validation and test "
                            + "rows (%.1f%%) have an identical copy among the training rows, where the network "
                            + "can remember rather than predict.",
                        identical, identical == 1 ? " repeats" : "s repeat", across, held.count, 100 * share),
                    nextStep: share >= Rule.crossSplitWarning
                        ? "Drop the repeats before splitting (or split by a group column with --split column:NAME), "
                            + "so that the validation metric measures prediction."
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
                            "%d groups of rows (%d rows, %.1f%%) have identical features but different targets: "
                            + "label noise, or a feature that is missing from the file. No model can get all of "
                            + "them right.",
                        conflicting.count, rowsInConflict, 100 * rowShare),
                    nextStep:
                        "Look at a few of them: fix the labels if they are wrong, or add the column that tells them "
                        + "apart.",
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
                    "Class '%@' is %.2f%% of the rows (%d of %d): accuracy is near %.1f%% for a model that never "
                    + "predicts it, and the validation rows hold only %d of them.",
                classes[k], 100 * share, counts[k], input.rows.count, 100 * (1 - share),
                input.validation.filter { Int(input.encoded[$0]) == k }.count),
            nextStep: binary
                ? "Judge by average precision beside ROC AUC (--metric average_precision), keep the stratified split "
                    + "(the default), and weight the rare class or collect more of it."
                : "Judge by balanced accuracy (--metric balanced_accuracy), keep the stratified split (the default), "
                    + "and weight the rare class or collect more of it.",
            columns: [input.table.header[input.targetColumn]])
    }
}
