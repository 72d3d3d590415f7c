import Foundation
import TuneData
import TuneExport
import TuneReport
import TuneSearch
import TuneTraining

/// One run logged to an MLflow tracking server as training goes: parameters and tags at the start, per epoch
/// `train_loss`, `val_loss`, `val_<metric>` and `learning_rate` (step = epoch), then test metrics, artifacts and the
/// run's status.
///
/// Nothing here but `writeParent` (up to 10 s) waits for the server: each call queues an operation that a background thread sends, in order
/// (`MLflowSender`). A server that is down, failing or hanging never stops training: each request is tried again with
/// backoff, then that operation and every later one are kept on disk, in `mlflow-unsent/` of the output directory,
/// with one note; `tune mlflow-sync DIR` sends them later. `MLflowLog.finish(onNote:)` at the end of a command waits
/// for the queue.
public final class MLflowLog {
    let sender: MLflowSender
    /// The run's local id (a UUID): the server's id is not known until the background thread has created the run.
    public let run: String
    private let onNote: (String) -> Void

    init(sender: MLflowSender, run: String, onNote: @escaping (String) -> Void) {
        self.sender = sender
        self.run = run
        self.onNote = onNote
    }

    /// The tracking server of `settings` (`--mlflow`, else `MLFLOW_TRACKING_URI` when it is an http(s) address).
    package static func server(
        _ settings: TrainSettings, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> URL? {
        MLflowClient.trackingServer(flag: settings.mlflow, environment: environment)
    }

    /// Where what could not be sent is kept: `mlflow-unsent/` in the output directory, or in the working directory
    /// when there is none.
    public static func spoolDirectory(_ settings: TrainSettings) -> URL {
        URL(fileURLWithPath: settings.out ?? FileManager.default.currentDirectoryPath).appendingPathComponent(
            MLflowSpool.directoryName)
    }

    /// This process's senders, one per server and spool.
    nonisolated(unsafe) private static var senders: [String: MLflowSender] = [:]
    /// Set by the last `finish(final: true)`: senders made after it keep everything on disk.
    nonisolated(unsafe) private static var closedForGood = false
    private static let sendersLock = NSLock()
    /// One `finish` at a time: a process on its way out waits for one already draining.
    private static let finishing = NSLock()

    static func sender(_ url: URL, spool: URL) -> MLflowSender {
        sendersLock.lock()
        defer { sendersLock.unlock() }
        let key = url.absoluteString + "\n" + spool.path
        if let s = senders[key] { return s }
        let s = MLflowSender(
            client: MLflowClient(url: url), spool: MLflowSpool(directory: spool, server: url.absoluteString))
        if closedForGood { s.closeNow() }
        senders[key] = s
        return s
    }

    /// Starts a run (nested under `parent`, a local id or the server's, when given); nil when no server is set.
    package static func start(
        _ settings: TrainSettings, name: String, parent: String? = nil, parameters: [String: String],
        tags: [String: String] = [:],
        onNote: @escaping (String) -> Void
    ) -> MLflowLog? {
        guard let url = server(settings) else { return nil }
        let sender = sender(url, spool: spoolDirectory(settings))
        let experiment = settings.mlflowExperiment ?? "swift-tune"
        let run = UUID().uuidString
        var allTags = tags
        allTags["mlflow.source.name"] = "swift-tune \(SwiftTune.version)"
        let log = MLflowLog(sender: sender, run: run, onNote: onNote)
        log.send(
            MLflowOperation(
                kind: .createRun, run: run, experiment: experiment, name: name, parent: parent, tags: allTags,
                parameters: parameters))
        return log
    }

    private func send(_ op: MLflowOperation) {
        sender.enqueue(op)
        for note in sender.takeNotes() { onNote(note) }
    }

    public func epoch(_ r: EpochRecord) {
        let time = MLflowClient.now()
        var metrics = [
            MLflowOperation.Metric(key: "train_loss", value: r.trainLoss, step: r.epoch, timestamp: time),
            MLflowOperation.Metric(key: "val_loss", value: r.validationLoss, step: r.epoch, timestamp: time),
            MLflowOperation.Metric(key: "learning_rate", value: r.learningRate, step: r.epoch, timestamp: time)
        ]
        metrics += r.metrics.sorted { $0.key < $1.key }.map {
            MLflowOperation.Metric(key: "val_\($0.key)", value: $0.value, step: r.epoch, timestamp: time)
        }
        send(MLflowOperation(kind: .log, run: run, metrics: metrics))
    }

    public func metrics(_ values: [String: Double], step: Int = 0) {
        guard !values.isEmpty else { return }
        let time = MLflowClient.now()
        send(
            MLflowOperation(
                kind: .log, run: run,
                metrics: values.sorted { $0.key < $1.key }.map {
                    MLflowOperation.Metric(key: $0.key, value: $0.value, step: step, timestamp: time)
                }))
    }

    public func artifact(_ name: String, _ data: Data) {
        send(MLflowOperation(kind: .upload, run: run, name: name, data: data))
    }

    /// FINISHED, FAILED or KILLED (a pruned trial).
    public func finish(_ status: String) {
        send(MLflowOperation(kind: .finish, run: run, status: status))
    }

    /// Waits for every sender of this process to send what is queued (see `MLflowSender.finish`), then says what was
    /// kept on disk and how to send it. A later run in the same process starts afresh; with `final` (the process is
    /// about to exit) whatever is logged later is kept on disk.
    public static func finish(final: Bool = false, onNote: (String) -> Void) {
        finishing.lock()
        defer { finishing.unlock() }
        sendersLock.lock()
        if final { closedForGood = true }
        let all = senders.sorted { $0.key < $1.key }
        sendersLock.unlock()
        defer {
            if !final {
                sendersLock.lock()
                for (key, sender) in all where senders[key] === sender { senders[key] = nil }
                sendersLock.unlock()
            }
        }
        for (_, sender) in all {
            let kept = sender.finish()
            for note in sender.takeNotes() { onNote(note) }
            if kept > 0 {
                let out = sender.spool.directory.deletingLastPathComponent().path
                onNote(
                    "MLflow: \(kept) operations could not be sent and are kept in \(sender.spool.directory.path); send them with: tune mlflow-sync \(out)"
                )
            }
        }
    }

    /// A study's parent run id, kept in the output directory so that worker processes nest their trials under it.
    static func parentFile(_ out: String) -> URL {
        URL(fileURLWithPath: out).appendingPathComponent(".mlflow-parent-run")
    }

    /// Leaves `parent`'s run id (or nothing) in the output directory for the workers: the server's id once the run
    /// is created (waiting up to 10 s for it), else its local id.
    package static func writeParent(_ parent: MLflowLog?, out: String) throws {
        try writeAtomically(
            Data((parent.map { $0.sender.reference($0.run, timeout: 10) } ?? "").utf8), to: parentFile(out))
    }

    /// The parent run id the leader left, if any.
    package static func readParent(out: String) -> String? {
        (try? String(contentsOf: parentFile(out), encoding: .utf8)).flatMap { $0.isEmpty ? nil : $0 }
    }

    package static func parameters(_ values: [String: ParameterValue]) -> [String: String] {
        values.mapValues(\.description)
    }
}
