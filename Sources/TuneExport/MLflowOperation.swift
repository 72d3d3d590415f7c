import Foundation
import TuneData

/// One thing to tell an MLflow tracking server, as swift-tune queues it, keeps it on disk when the server cannot take
/// it, and sends it later (`tune mlflow-sync`).
///
/// Runs are named by a local id (a UUID) that swift-tune chooses when it starts the run, before the server gives its
/// own; every run is created with the tag `swift_tune_run` set to it, so that a run sent twice (a send cut off by a
/// crash, say) is found again instead of being created a second time. Metrics carry the time they were logged, and
/// parameters and tags the same values each time, so sending an operation twice changes nothing on a server with a
/// database backend (MLflow's SQL store keeps a metric value logged twice at the same time and step once; its file
/// store would keep both).
public struct MLflowOperation: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Creates the run `run` in the experiment named `experiment`, nested under `parent` when given.
        case createRun = "create_run"
        /// Logs `parameters`, `tags` and `metrics` to `run`.
        case log
        /// Uploads an artifact named `name` to `run` through the server's artifact proxy.
        case upload
        /// Ends `run` with `status` (FINISHED, FAILED or KILLED).
        case finish
    }

    /// One metric value at a step, with the time it was logged (milliseconds since 1970).
    public struct Metric: Codable, Sendable, Equatable {
        public var key: String
        public var value: Double
        public var step: Int
        public var timestamp: Int64

        public init(key: String, value: Double, step: Int, timestamp: Int64) {
            self.key = key
            self.value = value
            self.step = step
            self.timestamp = timestamp
        }

        enum CodingKeys: String, CodingKey { case key, value, step, timestamp }

        // Non-finite values are written as MLflow writes them, as the strings "NaN", "Infinity" and "-Infinity".
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(key, forKey: .key)
            if value.isFinite {
                try c.encode(value, forKey: .value)
            } else {
                try c.encode(MLflowOperation.text(value), forKey: .value)
            }
            try c.encode(step, forKey: .step)
            try c.encode(timestamp, forKey: .timestamp)
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            key = try c.decode(String.self, forKey: .key)
            value = try c.number(forKey: .value)
            step = try c.decode(Int.self, forKey: .step)
            timestamp = try c.decode(Int64.self, forKey: .timestamp)
        }
    }

    public var kind: Kind
    /// The run's local id.
    public var run: String
    /// When it happened (milliseconds since 1970): a run's start or end time.
    public var time: Int64
    /// `createRun`: the experiment's name.
    public var experiment: String?
    /// `createRun`: the run's name; `upload`: the artifact's name.
    public var name: String?
    /// `createRun`: the parent run, by local id or by the server's id.
    public var parent: String?
    public var tags: [String: String]?
    public var parameters: [String: String]?
    public var metrics: [Metric]?
    /// `finish`: the run's status.
    public var status: String?
    /// `upload`: the file in the spool's `blobs/` that holds the artifact, once kept on disk.
    public var blob: String?
    /// `upload`: the artifact while it is in memory (not written in the spool's JSON).
    public var data: Data?

    enum CodingKeys: String, CodingKey {
        case kind, run, time, experiment, name, parent, tags, parameters, metrics, status, blob
    }

    public init(
        kind: Kind, run: String, time: Int64 = MLflowClient.now(), experiment: String? = nil, name: String? = nil,
        parent: String? = nil,
        tags: [String: String]? = nil, parameters: [String: String]? = nil, metrics: [Metric]? = nil,
        status: String? = nil,
        data: Data? = nil
    ) {
        self.kind = kind
        self.run = run
        self.time = time
        self.experiment = experiment
        self.name = name
        self.parent = parent
        self.tags = tags
        self.parameters = parameters
        self.metrics = metrics
        self.status = status
        self.data = data
    }

    static func text(_ v: Double) -> String { v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity") }

    /// The tag that holds a run's local id.
    public static let localIDTag = "swift_tune_run"

    /// Whether `reference` is a local id (a UUID) rather than a run id the server gave (32 hexadecimal digits).
    public static func isLocal(_ reference: String) -> Bool { UUID(uuidString: reference) != nil }
}

/// A run as the server knows it: its id and its experiment's.
public struct MLflowRunID: Codable, Sendable, Equatable {
    public var run: String
    public var experiment: String
}

/// The server rejected an operation (an answer in 400-499 other than 429): sending it again would not help.
public struct MLflowRejected: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// The operation names a run that the server does not know yet (created in another process whose request has not gone
/// through, say).
public struct MLflowUnresolved: Error, CustomStringConvertible {
    public let run: String
    public var description: String { "run \(run) is not on the server yet" }
}

extension MLflowClient {
    /// Carries out `op`: `ids` maps local run ids to the server's (a created run is added), `experiments` caches
    /// experiment ids by name. With `findExisting`, a run is first looked for by its local id tag before it is
    /// created. Throws `MLflowRejected` for an answer in 400-499 other than 429, `MLflowUnresolved` for a run or
    /// parent not in `ids`, and the request's error otherwise (the server is down or failing).
    public func perform(
        _ op: MLflowOperation, ids: inout [String: MLflowRunID], experiments: inout [String: String],
        blobs: URL? = nil, findExisting: Bool = false
    ) throws {
        do {
            switch op.kind {
            case .createRun:
                guard ids[op.run] == nil else { return }
                guard MLflowOperation.isLocal(op.run) else {
                    throw DataError(path: "MLflow", "a run's local id is a UUID, not \(op.run)")
                }
                let experiment = try experimentID(for: op, cache: &experiments)
                var tags = op.tags ?? [:]
                tags[MLflowOperation.localIDTag] = op.run
                if let parent = op.parent {
                    if MLflowOperation.isLocal(parent) {
                        guard let p = ids[parent] else { throw MLflowUnresolved(run: parent) }
                        tags["mlflow.parentRunId"] = p.run
                    } else {
                        tags["mlflow.parentRunId"] = parent
                    }
                }
                let found = findExisting ? try run(experiment: experiment, localID: op.run) : nil
                let run =
                    try found
                    ?? createOnce(
                        experiment: experiment, name: op.name ?? "swift-tune", tags: tags, time: op.time,
                        localID: op.run)
                // The run counts as created once its parameters are in too: a create kept after a failure in between
                // finds the run by its tag and logs them.
                if let parameters = op.parameters, !parameters.isEmpty { try log(run: run, parameters: parameters) }
                ids[op.run] = MLflowRunID(run: run, experiment: experiment)
            case .log:
                guard let id = ids[op.run] else { throw MLflowUnresolved(run: op.run) }
                try log(run: id.run, parameters: op.parameters ?? [:], tags: op.tags ?? [:], metrics: op.metrics ?? [])
            case .upload:
                guard let id = ids[op.run] else { throw MLflowUnresolved(run: op.run) }
                let name = op.name ?? "artifact"
                let data: Data
                if let d = op.data {
                    data = d
                } else if let blob = op.blob, let blobs {
                    let file = blobs.appendingPathComponent(blob)
                    do { data = try Data(contentsOf: file) } catch {
                        throw DataError(
                            path: file.path,
                            "the artifact \(name) kept for MLflow cannot be read: \(error.localizedDescription)")
                    }
                } else {
                    throw DataError(path: "MLflow", "the artifact \(name) has no data")
                }
                try upload(run: id.run, experiment: id.experiment, name: name, data: data)
            case .finish:
                guard let id = ids[op.run] else { throw MLflowUnresolved(run: op.run) }
                try finish(run: id.run, status: op.status ?? "FINISHED", time: op.time)
            }
        } catch let answer as MLflowAnswer where answer.refuses {
            throw MLflowRejected(reason: answer.description)
        }
    }

    /// The id of the experiment `op` names (swift-tune's by default), from `cache` or the server.
    func experimentID(for op: MLflowOperation, cache: inout [String: String]) throws -> String {
        let name = op.experiment ?? "swift-tune"
        if let id = cache[name] { return id }
        let id = try experiment(named: name)
        cache[name] = id
        return id
    }

    /// Creates a run, never twice: a create whose answer was lost (a timeout, a failing server) is looked for by its
    /// local id tag before it is sent again, up to 3 more times with a doubling pause.
    func createOnce(experiment: String, name: String, tags: [String: String], time: Int64, localID: String) throws
        -> String
    {
        var pause = 0.5, attempt = 0
        while true {
            do {
                return try createRun(experiment: experiment, name: name, tags: tags, time: time, retries: 0)
            } catch let answer as MLflowAnswer where answer.status < 500 && answer.status != 429 {
                throw answer
            } catch {
                if attempt == 3 { throw error }
                attempt += 1
                Thread.sleep(forTimeInterval: pause)
                pause *= 2
                if let found = try? run(experiment: experiment, localID: localID) { return found }
            }
        }
    }

    /// The id of the run in `experiment` tagged with `localID`, if there is one.
    func run(experiment: String, localID: String) throws -> String? {
        let data = try request(
            "POST", "api/2.0/mlflow/runs/search",
            json: [
                "experiment_ids": [experiment], "filter": "tags.\(MLflowOperation.localIDTag) = '\(localID)'",
                "max_results": 1
            ])
        let runs = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["runs"] as? [[String: Any]]
        return (runs?.first?["info"] as? [String: Any])?["run_id"] as? String
    }
}
