import Foundation
import TuneData
import TuneExport
import TuneSearch
import TuneTraining

/// One run logged to an MLflow tracking server as training goes: parameters and tags at the start, per epoch
/// `train_loss`, `val_loss`, `val_<metric>` and `learning_rate` (step = epoch), then test metrics, artifacts and the
/// run's status. A server that is down or failing never stops training: each request is tried again with backoff,
/// and after a failure the run's logging stops with one warning (through `onNote`).
public final class MLflowLog {
    let client: MLflowClient
    public let experiment: String
    public let run: String
    private var failed = false
    private let onNote: (String) -> Void

    init(client: MLflowClient, experiment: String, run: String, onNote: @escaping (String) -> Void) {
        self.client = client
        self.experiment = experiment
        self.run = run
        self.onNote = onNote
    }

    /// The tracking server of `settings` (`--mlflow`, else `MLFLOW_TRACKING_URI` when it is an http(s) address).
    static func server(_ settings: TrainSettings, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        let text = settings.mlflow ?? environment["MLFLOW_TRACKING_URI"]
        guard let text, let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? "") else { return nil }
        return url
    }

    /// Starts a run (nested under `parent` when given), or returns nil after a warning when the server cannot be used.
    static func start(_ settings: TrainSettings, name: String, parent: String? = nil, parameters: [String: String], tags: [String: String] = [:],
                      onNote: @escaping (String) -> Void) -> MLflowLog? {
        guard let url = server(settings) else { return nil }
        let client = MLflowClient(url: url)
        do {
            let experiment = try client.experiment(named: settings.mlflowExperiment ?? "swift-tune")
            var allTags = tags
            allTags["mlflow.source.name"] = "swift-tune \(SwiftTune.version)"
            if let parent { allTags["mlflow.parentRunId"] = parent }
            let run = try client.createRun(experiment: experiment, name: name, tags: allTags)
            try client.log(run: run, parameters: parameters)
            return MLflowLog(client: client, experiment: experiment, run: run, onNote: onNote)
        } catch {
            onNote("MLflow: not logging (\(error))")
            return nil
        }
    }

    private func attempt(_ body: () throws -> Void) {
        guard !failed else { return }
        do { try body() } catch {
            failed = true
            onNote("MLflow: logging of run \(run) stopped (\(error)); training goes on")
        }
    }

    public func epoch(_ r: EpochRecord) {
        var metrics: [(String, Double, Int)] = [("train_loss", r.trainLoss, r.epoch), ("val_loss", r.validationLoss, r.epoch),
                                                ("learning_rate", r.learningRate, r.epoch)]
        metrics += r.metrics.sorted { $0.key < $1.key }.map { ("val_\($0.key)", $0.value, r.epoch) }
        attempt { try client.log(run: run, metrics: metrics) }
    }

    public func metrics(_ values: [String: Double], step: Int = 0) {
        attempt { try client.log(run: run, metrics: values.sorted { $0.key < $1.key }.map { ($0.key, $0.value, step) }) }
    }

    public func artifact(_ name: String, _ data: Data) {
        attempt { try client.upload(run: run, experiment: experiment, name: name, data: data) }
    }

    /// FINISHED, FAILED or KILLED (a pruned trial).
    public func finish(_ status: String) {
        attempt { try client.finish(run: run, status: status) }
    }

    /// A study's parent run id, kept in the output directory so that worker processes nest their trials under it.
    static func parentFile(_ out: String) -> URL { URL(fileURLWithPath: out).appendingPathComponent(".mlflow-parent-run") }

    /// Leaves `parent`'s run id (or nothing) in the output directory for the workers.
    static func writeParent(_ parent: MLflowLog?, out: String) throws {
        try writeAtomically(Data((parent?.run ?? "").utf8), to: parentFile(out))
    }

    /// The parent run id the leader left, if any.
    static func readParent(out: String) -> String? {
        (try? String(contentsOf: parentFile(out), encoding: .utf8)).flatMap { $0.isEmpty ? nil : $0 }
    }

    static func parameters(_ values: [String: ParameterValue]) -> [String: String] { values.mapValues(\.description) }
}
