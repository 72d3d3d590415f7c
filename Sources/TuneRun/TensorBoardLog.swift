import Foundation
import TuneExport
import TuneReport
import TuneSearch
import TuneTraining

/// A training run logged to TensorBoard as it goes: per epoch `train/loss`, `validation/loss`, `validation/<metric>`
/// for each metric, `learning_rate` and `gradient_norm/mean` and `/max`; per step `train/step_loss`; text summaries;
/// and, for a trial of a study, the HParams plugin's session records. `tune doctor` reads these tags back. A log
/// directory that cannot be created is an error before training; a failure to write while training never stops
/// it: the first one is kept in `problem` for a warning.
public final class TensorBoardLog {
    public let writer: TensorBoardWriter
    public private(set) var problem: (any Error)?
    private var stepsWritten = 0

    public init(directory: URL) throws {
        writer = try TensorBoardWriter(directory: directory)
    }

    private func attempt(_ body: () throws -> Void) {
        guard problem == nil else { return }
        do { try body() } catch { problem = error }
    }

    /// Logs one finished epoch, and the steps it took.
    public func epoch(_ r: EpochRecord, history: History) {
        attempt {
            try writer.grouped {
                for i in stepsWritten..<history.stepLosses.count where history.stepLosses[i].isFinite {
                    try writer.scalar("train/step_loss", history.stepLosses[i], step: i + 1)
                }
                stepsWritten = history.stepLosses.count
                try writer.scalar("train/loss", r.trainLoss, step: r.epoch)
                try writer.scalar("validation/loss", r.validationLoss, step: r.epoch)
                for (name, value) in r.metrics.sorted(by: { $0.key < $1.key }) {
                    try writer.scalar("validation/\(name)", value, step: r.epoch)
                }
                try writer.scalar("learning_rate", r.learningRate, step: r.epoch)
                try writer.scalar("gradient_norm/mean", r.gradientNormMean, step: r.epoch)
                try writer.scalar("gradient_norm/max", r.gradientNormMax, step: r.epoch)
            }
        }
    }

    /// A text summary (Markdown).
    public func text(_ tag: String, _ text: String) {
        attempt { try writer.text(tag, text) }
    }

    public func sessionStart(_ parameters: [String: ParameterValue]) {
        attempt { try writer.sessionStart(parameters.mapValues(Self.hparam)) }
    }

    public func sessionEnd(success: Bool) {
        attempt { try writer.sessionEnd(success: success) }
    }

    /// The HParams experiment of a study, written in its root directory: each parameter (its choices when it has a
    /// set of them) and the monitored metric's tag.
    public static func experiment(
        directory: URL, parameters: [(name: String, choices: [ParameterValue]?)], monitor: String,
        intervals: [String: ClosedRange<Double>] = [:]
    ) throws {
        try experiment(
            try TensorBoardWriter(directory: directory), parameters: parameters, monitor: monitor, intervals: intervals)
    }

    /// The experiment through an open writer (a single run logs it beside its own records, in one file).
    static func experiment(
        _ writer: TensorBoardWriter, parameters: [(name: String, choices: [ParameterValue]?)], monitor: String,
        intervals: [String: ClosedRange<Double>] = [:]
    ) throws {
        try writer.experiment(
            hyperparameters: parameters.map { ($0.name, $0.choices?.map(hparam)) },
            metrics: ["validation/\(monitor)", "validation/loss"], intervals: intervals)
    }

    /// The log of one trial of a study logged under `root` (nil: no TensorBoard), in `root/trial-<number>`, its
    /// HParams session started with `parameters`.
    package static func trial(_ root: String?, number: Int, parameters: [String: ParameterValue]) throws
        -> TensorBoardLog?
    {
        guard let root else { return nil }
        let log = try TensorBoardLog(
            directory: URL(fileURLWithPath: root).appendingPathComponent(String(format: "trial-%04d", number)))
        log.sessionStart(parameters)
        return log
    }

    static func hparam(_ v: ParameterValue) -> HParamValue {
        switch v {
        case .double(let d): return .number(d)
        case .int(let i): return .number(Double(i))
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        }
    }

    /// The doctor's findings on a history, as Markdown for the Text tab.
    public static func findingsText(_ findings: [(id: String, explanation: String, nextStep: String)]) -> String {
        findings.isEmpty
            ? "no findings"
            : findings.map { "- **\($0.id)**: \($0.explanation) Next: \($0.nextStep)" }.joined(separator: "\n")
    }
}
