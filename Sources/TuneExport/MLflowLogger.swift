import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import TuneData

extension MLflowClient {
    /// Sends `method` `path` with a JSON `body`; the answer's JSON. Connection failures and 5xx answers are tried
    /// again `retries` times with a doubling pause (0.5 s, 1 s, ...); then no answer is `MLflowUnreachable` and any
    /// other answer `MLflowAnswer`, naming the server and the request, never the credentials.
    @discardableResult
    func request(_ method: String, _ path: String, json body: Any? = nil, data raw: Data? = nil, retries: Int = 3)
        throws -> Data
    {
        let parts = path.split(separator: "?", maxSplits: 1).map(String.init)
        var url = baseURL.appendingPathComponent(parts[0])
        if parts.count == 2, var components = URLComponents(url: url, resolvingAgainstBaseURL: false) {
            components.percentEncodedQuery = parts[1]
            url = components.url ?? url
        }
        let place = "\(shownURL) (\(path))"
        var pause = 0.5
        for attempt in 0...retries {
            var request = URLRequest(url: url, timeoutInterval: timeout)
            request.httpMethod = method
            if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
            if let body {
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = try JSONSerialization.data(withJSONObject: body)
            } else if let raw {
                request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
                request.httpBody = raw
            }
            let (data, response, error) = Self.send(request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if error == nil, (200..<300).contains(status) { return data ?? Data() }
            let retryable = error != nil || status >= 500 || status == 429
            if retryable && attempt < retries {
                Thread.sleep(forTimeInterval: pause)
                pause *= 2
                continue
            }
            if let error { throw MLflowUnreachable(place: place, message: error.localizedDescription) }
            let message =
                data.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }?["message"] as? String
                ?? String(decoding: (data ?? Data()).prefix(200), as: UTF8.self)
            throw MLflowAnswer(place: place, status: status, message: message)
        }
        throw DataError(path: place, "unreachable")
    }

    /// The id of the experiment named `name`, created if there is none (or found again when another process created
    /// it meanwhile).
    public func experiment(named name: String) throws -> String {
        func lookUp() throws -> String? {
            do {
                let data = try request(
                    "GET",
                    "api/2.0/mlflow/experiments/get-by-name?experiment_name="
                        + (name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name))
                return ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]).flatMap {
                    ($0["experiment"] as? [String: Any])?["experiment_id"] as? String
                }
            } catch let answer as MLflowAnswer where answer.status == 404 {
                return nil  // not there yet: created below
            }
        }
        if let id = try lookUp() { return id }
        let data: Data
        do {
            data = try request("POST", "api/2.0/mlflow/experiments/create", json: ["name": name])
        } catch let answer as MLflowAnswer where answer.status == 400 && answer.message.contains("already exists") {
            if let id = try lookUp() { return id }
            throw answer
        }
        guard let id = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["experiment_id"] as? String
        else {
            throw DataError(path: shownURL, "the MLflow server did not return the new experiment's id")
        }
        return id
    }

    /// A new run in `experiment`; its id.
    public func createRun(
        experiment: String, name: String, tags: [String: String], time: Int64 = MLflowClient.now(), retries: Int = 3
    ) throws -> String {
        let body: [String: Any] = [
            "experiment_id": experiment, "run_name": name, "start_time": time,
            "tags": tags.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] }
        ]
        let data = try request("POST", "api/2.0/mlflow/runs/create", json: body, retries: retries)
        guard
            let id = (((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["run"] as? [String: Any])
                .flatMap({ ($0["info"] as? [String: Any])?["run_id"] as? String })
        else {
            throw DataError(path: shownURL, "the MLflow server did not return the new run's id")
        }
        return id
    }

    /// Parameters, tags and metrics, in batches within the REST API's limits.
    public func log(
        run: String, parameters: [String: String] = [:], tags: [String: String] = [:],
        metrics: [MLflowOperation.Metric] = []
    ) throws {
        let params = parameters.sorted { $0.key < $1.key }.map {
            ["key": $0.key, "value": String($0.value.prefix(6000))]
        }
        for start in stride(from: 0, to: params.count, by: 100) {
            try request(
                "POST", "api/2.0/mlflow/runs/log-batch",
                json: ["run_id": run, "params": Array(params[start..<min(start + 100, params.count)])])
        }
        if !tags.isEmpty {
            try request(
                "POST", "api/2.0/mlflow/runs/log-batch",
                json: [
                    "run_id": run, "tags": tags.sorted { $0.key < $1.key }.map { ["key": $0.key, "value": $0.value] }
                ])
        }
        // Non-finite values are sent as MLflow's own client sends them, as strings.
        let values: [[String: Any]] = metrics.map { m in
            [
                "key": m.key, "value": m.value.isFinite ? m.value as Any : MLflowOperation.text(m.value) as Any,
                "timestamp": m.timestamp, "step": m.step
            ]
        }
        for start in stride(from: 0, to: values.count, by: 1000) {
            try request(
                "POST", "api/2.0/mlflow/runs/log-batch",
                json: ["run_id": run, "metrics": Array(values[start..<min(start + 1000, values.count)])])
        }
    }

    /// Ends a run: FINISHED, FAILED or KILLED.
    public func finish(run: String, status: String, time: Int64 = MLflowClient.now()) throws {
        try request("POST", "api/2.0/mlflow/runs/update", json: ["run_id": run, "status": status, "end_time": time])
    }

    /// Uploads a file as an artifact of the run through the server's artifact proxy (`mlflow server` serves artifacts
    /// by default since MLflow 2).
    public func upload(run: String, experiment: String, name: String, data: Data) throws {
        let path = "api/2.0/mlflow-artifacts/artifacts/\(experiment)/\(run)/artifacts/\(name)"
        try request("PUT", path, data: data)
    }

    public static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// The MLflow server did not answer (after the retries).
public struct MLflowUnreachable: Error, CustomStringConvertible {
    public let place: String
    public let message: String
    public var description: String { "\(place): the MLflow server did not answer: \(message)" }
}

/// An answer of the MLflow server other than success.
public struct MLflowAnswer: Error, CustomStringConvertible {
    public let place: String
    public let status: Int
    public let message: String
    /// Whether the server refuses the request itself (400-499), so that sending it again would not help; not an
    /// answer about access (401, 403, 407), time (408, 429) or size (413), which a later attempt may pass.
    public var refuses: Bool { (400..<500).contains(status) && ![401, 403, 407, 408, 413, 429].contains(status) }
    public var description: String { "\(place): the MLflow server answered \(status): \(message)" }
}
