import Foundation
import TuneReport
import TuneRun

/// The recipe's printed summary: the stage-by-stage table (what was tried, what won, why), the best configuration,
/// its test metrics and the ensemble against single models.
public enum RecipeTable {
    /// The `tune train` command that trains `s` again: the same split, seed and weights (bit for bit at the same
    /// BLAS thread count).
    public static func trainCommand(_ s: TrainSettings) -> String {
        var parts = ["tune train", "--data", shellQuoted(s.data ?? ""), "--target", shellQuoted(s.target ?? "")]
        if let task = s.task { parts += ["--task", task.rawValue] }
        parts += ["--hidden", s.hidden.map(String.init).joined(separator: ","), "--activation", s.activation.rawValue]
        if s.dropout > 0 { parts += ["--dropout", String(format: "%g", s.dropout)] }
        if s.batchnorm { parts.append("--batchnorm") }
        parts += ["--optimizer", s.optimizer.rawValue, "--lr", String(format: "%g", s.lr)]
        if s.weightDecay > 0 { parts += ["--weight-decay", String(format: "%g", s.weightDecay)] }
        parts += ["--batch-size", s.batchSize.description, "--schedule", s.schedule.rawValue]
        if s.warmup > 0 { parts += ["--warmup", String(s.warmup)] }
        parts += ["--epochs", String(s.epochs)]
        if let p = s.earlyStop { parts += ["--early-stop", String(p)] }
        if let m = s.metric { parts += ["--metric", m.rawValue] }
        let d = TrainSettings()
        if let c = s.clip { parts += ["--clip", String(format: "%g", c)] }
        if s.momentum != d.momentum { parts += ["--momentum", String(format: "%g", s.momentum)] }
        if s.labelSmoothing != d.labelSmoothing {
            parts += ["--label-smoothing", String(format: "%g", s.labelSmoothing)]
        }
        if let p = s.reduceOnPlateau { parts += ["--reduce-on-plateau", String(p)] }
        if s.missing != d.missing { parts += ["--missing", s.missing.rawValue] }
        if s.categoryLimit != d.categoryLimit { parts += ["--category-limit", String(s.categoryLimit)] }
        if let delimiter = s.delimiter { parts += ["--delimiter", shellQuoted(delimiter)] }
        parts += ["--seed", String(s.seed)]
        if s.split != d.split { parts += ["--split", shellQuoted(s.split)] }
        if !s.ignore.isEmpty { parts += ["--ignore", shellQuoted(s.ignore.joined(separator: ","))] }
        if let keep = s.keep, !keep.isEmpty { parts += ["--keep", shellQuoted(keep.joined(separator: ","))] }
        if let allowed = s.allowLeak, !allowed.isEmpty {
            parts += ["--allow-leak", shellQuoted(allowed.joined(separator: ","))]
        }
        if let transform = s.targetTransform { parts += ["--target-transform", transform.rawValue] }
        return parts.joined(separator: " ")
    }

    public static func render(_ s: RecipeSummary) -> String {
        var lines: [String] = []
        let rows = s.stages.map { stage -> (String, String, String, String) in
            let tried = stage.trials.count
            let trained = stage.trials.filter { n in s.trials.contains { $0.number == n && !$0.reused } }.count
            let count =
                stage.number == 0 || stage.number == 5
                ? "-" : (trained == tried ? "\(tried)" : "\(tried) (\(tried - trained) read back)")
            return ("\(stage.number) \(stage.name)", count, stage.decision, stage.reason)
        }
        let w0 = max(5, rows.map(\.0.count).max() ?? 0), w1 = max(6, rows.map(\.1.count).max() ?? 0)
        let w2 = max(8, min(48, rows.map(\.2.count).max() ?? 0))
        func pad(_ t: String, _ w: Int) -> String { t.count >= w ? t : t + String(repeating: " ", count: w - t.count) }
        lines.append("\(pad("stage", w0))  \(pad("trials", w1))  \(pad("decision", w2))  why")
        lines.append(String(repeating: "-", count: w0 + w1 + w2 + 11))
        for r in rows { lines.append("\(pad(r.0, w0))  \(pad(r.1, w1))  \(pad(r.2, w2))  \(r.3)") }
        lines.append("")
        if let best = s.best, let b = s.bestSettings {
            lines.append(
                String(
                    format: "best: trial %d, validation %@ %.4f (epoch %d)", best.number, s.monitor, best.value ?? .nan,
                    best.bestEpoch ?? 0))
            lines.append("  " + trainCommand(b))
        }
        if !s.test.isEmpty {
            let split = s.ensemble?.split ?? (s.rows["test", default: 0] > 0 ? "test" : "validation")
            lines.append(
                "\(split) (\(s.rows[split, default: 0]) rows), best model: "
                    + s.test.keys.sorted().map { String(format: "%@ %.4f", $0, s.test[$0]!) }.joined(separator: ", "))
        }
        if let e = s.ensemble { lines.append("ensemble: " + e.sentence) }
        let spent = s.spent
        lines.append(
            String(
                format:
                    "spent: %.0f trials (%.0f trained, the rest read back from the study), %.0f epochs, %.0f more for the best model and ensemble; %.1f s%@",
                spent["trials"] ?? 0, spent["trained_trials"] ?? 0, spent["epochs"] ?? 0, spent["ensemble_epochs"] ?? 0,
                spent["seconds"] ?? 0, s.budget.map { "; budget \($0)" } ?? ""))
        return lines.joined(separator: "\n")
    }
}

/// `word` as one shell word: unchanged when it needs no quoting, else in single quotes.
public func shellQuoted(_ word: String) -> String {
    let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:+@%")
    if !word.isEmpty && word.unicodeScalars.allSatisfy({ safe.contains($0) }) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
