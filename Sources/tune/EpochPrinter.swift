import Foundation
import Tune

/// Prints a run as it goes: a table row per epoch (with a progress bar inside long epochs on a terminal), JSON lines,
/// or nothing.
final class EpochPrinter {
    enum Mode { case table, json, quiet }
    let mode: Mode
    private var headerPrinted = false
    private var columns: [String] = []

    init(mode: Mode) { self.mode = mode }

    func note(_ text: String) {
        switch mode {
        case .table: print(text)
        case .json: printJSON(["note": text])
        case .quiet: break
        }
    }

    /// A progress bar inside an epoch that takes more than a second, on the terminal's status line.
    func progress(epoch: Int, step: Int, steps: Int, elapsed: Double) {
        guard mode == .table, elapsed > 1, step < steps else {
            if step == steps { StatusLine.shared.clear() }
            return
        }
        StatusLine.shared.show(
            {
                let width = 30, filled = width * step / max(steps, 1)
                let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
                return "epoch \(epoch) \(bar) \(step)/\(steps) steps"
            }())
    }

    func epoch(_ record: EpochRecord, history: History) {
        StatusLine.shared.clear()
        switch mode {
        case .quiet:
            return
        case .json:
            var object: [String: Any] = [
                "epoch": record.epoch, "train_loss": record.trainLoss, "val_loss": record.validationLoss,
                "lr": record.learningRate, "seconds": record.seconds, "grad_norm_mean": record.gradientNormMean
            ]
            for (k, v) in record.metrics { object[k] = v }
            printJSON(object)
        case .table:
            if !headerPrinted {
                columns = Array(
                    history.metricNames.sorted { a, b in
                        (a == history.monitor ? 0 : 1, a) < (b == history.monitor ? 0 : 1, b)
                    }.prefix(4))
                let names = ["epoch", "train loss", "val loss"] + columns + ["lr", "time"]
                print(names.map { pad($0, $0 == "epoch" ? 5 : max(10, $0.count)) }.joined(separator: " "))
                headerPrinted = true
            }
            var cells = [
                pad(String(record.epoch), 5), pad(format(record.trainLoss), 10), pad(format(record.validationLoss), 10)
            ]
            cells += columns.map { pad(record.metrics[$0].map(format) ?? "-", max(10, $0.count)) }
            cells += [
                pad(String(format: "%.2e", record.learningRate), 10), pad(String(format: "%.2fs", record.seconds), 10)
            ]
            let mark = history.bestEpoch == record.epoch ? "  *" : ""
            print(cells.joined(separator: " ") + mark)
        }
    }

    func summary(_ outcome: TrainOutcome, out: String) {
        let h = outcome.result.history
        switch mode {
        case .quiet:
            return
        case .json:
            var object: [String: Any] = [
                "status": h.status.rawValue, "reason": h.reason, "monitor": h.monitor, "out": out
            ]
            if let b = h.bestEpoch { object["best_epoch"] = b }
            if let l = h.lowestValidationLossEpoch { object["lowest_val_loss_epoch"] = l }
            object["test"] = outcome.testMetrics
            printJSON(object)
        case .table:
            print("")
            if !h.epochs.isEmpty {
                print(
                    LossChart.render(
                        train: h.epochs.map(\.trainLoss), validation: h.epochs.map(\.validationLoss),
                        marked: h.bestEpoch))
                print("")
            }
            print("status: \(h.status.rawValue) (\(h.reason))")
            if let best = h.bestEpoch {
                let value = h.epochs[best - 1].metrics[h.monitor].map(format) ?? "-"
                print("selected epoch \(best): best validation \(h.monitor) \(value) (* in the table)")
                if let lowest = h.lowestValidationLossEpoch, lowest != best {
                    print(
                        "note: the lowest validation loss was at epoch \(lowest), not \(best): the model is chosen by \(h.monitor), not by the loss"
                    )
                }
            }
            if !outcome.testMetrics.isEmpty {
                let text = outcome.testMetrics.keys.sorted().map { "\($0) \(format(outcome.testMetrics[$0]!))" }.joined(
                    separator: ", ")
                print("test (\(outcome.rows.test) rows): \(text)")
            }
            print("written to \(out)")
        }
    }

    private func printJSON(_ object: [String: Any]) {
        let cleaned = object.mapValues { value -> Any in
            if let d = value as? Double, !d.isFinite { return d.isNaN ? "nan" : (d > 0 ? "inf" : "-inf") }
            return value
        }
        if let data = try? JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys]) {
            print(String(decoding: data, as: UTF8.self))
        }
    }

    private func format(_ v: Double) -> String {
        guard v.isFinite else { return "\(v)" }
        return abs(v) >= 1000 || (abs(v) < 0.001 && v != 0) ? String(format: "%.3e", v) : String(format: "%.4f", v)
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }
}
