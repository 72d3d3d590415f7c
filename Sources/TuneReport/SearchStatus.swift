import Foundation
import TuneTraining

/// The one line that says where a search is, rewritten in place on a terminal at each epoch: the trial and its epoch
/// against its limit, the epoch's validation metric, the best finished trial so far, the epochs trained and the time.
public struct SearchStatus {
    /// The finished trials' numbers and values.
    var finished: [(trial: Int, value: Double)] = []
    public private(set) var epochs = 0
    var higherIsBetter = true
    let started: Date

    public init(started: Date = Date()) { self.started = started }

    /// Counts the epoch; the line to show.
    public mutating func epoch(trial: Int, record: EpochRecord, history: History, limit: Int, now: Date = Date())
        -> String
    {
        count(history)
        return line(trial: trial, record: record, history: history, limit: limit, now: now)
    }

    /// Counts an epoch of a run with `history`.
    public mutating func count(_ history: History) {
        epochs += 1
        higherIsBetter = history.monitorHigherIsBetter
    }

    /// The line to show after the epochs counted so far (built only when it is drawn).
    public func line(trial: Int, record: EpochRecord, history: History, limit: Int, now: Date = Date()) -> String {
        var parts = ["trial \(trial)", "epoch \(record.epoch)/\(limit)"]
        if let v = record.metrics[history.monitor] {
            parts.append("val \(history.monitor) \(String(format: "%.4f", v))")
        }
        if let best { parts.append("best \(String(format: "%.4f", best.value)) (trial \(best.trial))") }
        let seconds = max(0, Int(now.timeIntervalSince(started)))
        parts.append("\(epochs) epoch\(epochs == 1 ? "" : "s") trained")
        parts.append(String(format: "%d:%02d", seconds / 60, seconds % 60))
        return parts.joined(separator: " · ")
    }

    /// A trial ended with `value` (nil when it failed). Pruned trials do not count.
    public mutating func trialEnded(_ trial: Int, value: Double?, complete: Bool = true) {
        guard complete, let value, value.isFinite else { return }
        finished.append((trial, value))
    }

    /// The best finished trial in the monitor's direction (known from the first epoch; larger is better until then);
    /// the first of equals.
    public var best: (trial: Int, value: Double)? {
        finished.reduce(nil) { b, t in
            b.map { (higherIsBetter ? t.value > $0.value : t.value < $0.value) ? t : $0 } ?? t
        }
    }
}
