import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import TuneData
import TuneDiagnosis

extension KeyedDecodingContainer {
    /// A number written as a JSON number or, as MLflow writes NaN and infinities, as a string ("NaN", "Infinity",
    /// "-Infinity"); a string that is no number goes to `otherwise`, and is an error without it.
    func number(forKey key: Key, otherwise: ((String) -> Double)? = nil) throws -> Double {
        if let v = try? decode(Double.self, forKey: key) { return v }
        let text = try decode(String.self, forKey: key)
        if let v = Double(text) { return v }
        guard let otherwise else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "a number, NaN, Infinity or -Infinity, not \(text)")
        }
        return otherwise(text)
    }
}

/// Reads runs from an MLflow tracking server through its REST API (`/api/2.0/mlflow/...`).
///
/// Credentials come from the environment, as MLflow's own client takes them: `MLFLOW_TRACKING_TOKEN` (sent as a bearer
/// token) or `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD` (basic authentication). They are sent, never
/// printed or logged; error messages name the server and the request, not the headers.
public struct MLflowClient: Sendable {
    public let baseURL: URL
    let authorization: String?
    /// The server's address as messages name it: without a user name or password.
    var shownURL: String { Self.withoutCredentials(baseURL.absoluteString) }

    /// The tracking server to use: `flag` (`--mlflow`), else `MLFLOW_TRACKING_URI` when it is an http(s) address,
    /// else `recorded` (the one a run was logging to); nil when the one chosen is not an http(s) URL or there is none.
    /// Every command finds its server here.
    public static func trackingServer(
        flag: String?, recorded: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> URL? {
        func http(_ text: String?) -> URL? {
            guard let text, let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? "")
            else { return nil }
            return url
        }
        if let flag { return http(flag) }
        return http(environment["MLFLOW_TRACKING_URI"]) ?? http(recorded)
    }

    /// An address without any user name or password in it, as it may be shown or saved.
    public static func withoutCredentials(_ address: String) -> String {
        guard var c = URLComponents(string: address), c.user != nil || c.password != nil else { return address }
        c.user = nil
        c.password = nil
        return c.string ?? "the MLflow server"
    }
    /// Seconds to wait for each request.
    public var timeout: TimeInterval = 30

    public init(url: URL, environment: [String: String] = ProcessInfo.processInfo.environment) {
        baseURL = url
        if let token = environment["MLFLOW_TRACKING_TOKEN"], !token.isEmpty {
            authorization = "Bearer \(token)"
        } else if let user = environment["MLFLOW_TRACKING_USERNAME"],
            let password = environment["MLFLOW_TRACKING_PASSWORD"]
        {
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
    }

    /// One metric value as MLflow stores it.
    public struct Metric: Decodable, Sendable {
        public let key: String
        public let value: Double
        public let timestamp: Int64
        public let step: Int64

        enum CodingKeys: String, CodingKey { case key, value, timestamp, step }

        /// An integer field written as a number or as a string; 0 when absent.
        static func integer(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) -> Int64 {
            if let n = try? c.decode(Int64.self, forKey: key) { return n }
            if let s = try? c.decode(String.self, forKey: key), let n = Int64(s) { return n }
            return 0
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            key = try c.decode(String.self, forKey: .key)
            // MLflow writes 64-bit integers as strings in some versions; an odd spelling of a non-finite value is read
            // by its sign.
            value = try c.number(forKey: .value) {
                $0.lowercased().contains("nan") ? .nan : ($0.hasPrefix("-") ? -.infinity : .infinity)
            }
            timestamp = Self.integer(c, .timestamp)
            step = Self.integer(c, .step)
        }
    }

    /// GET `path` with `query`, decoded as `T`; a `DataError` naming the server and what went wrong otherwise.
    func get<T: Decodable>(_ path: String, _ query: [URLQueryItem], as type: T.Type) throws -> T {
        var components = URLComponents(url: baseURL.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        components.queryItems = query
        guard let url = components.url else { throw DataError(path: shownURL, "cannot form a request for \(path)") }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let (data, response, error) = Self.send(request)
        let place = "\(shownURL) (\(path))"
        if let error { throw DataError(path: place, "the MLflow server did not answer: \(error.localizedDescription)") }
        guard let http = response as? HTTPURLResponse, let data else {
            throw DataError(path: place, "no answer from the MLflow server")
        }
        guard (200..<300).contains(http.statusCode) else {
            let message =
                (try? JSONDecoder().decode([String: String].self, from: data))?["message"]
                ?? String(decoding: data.prefix(200), as: UTF8.self)
            throw DataError(path: place, "the MLflow server answered \(http.statusCode): \(message)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw DataError(path: place, "the MLflow server's answer is not what the REST API describes: \(error)")
        }
    }

    /// A request sent and waited for (the command line has nothing else to do meanwhile), never longer than its
    /// timeout plus five seconds: a server that accepts the connection and never answers does not hang the caller.
    static func send(_ request: URLRequest) -> (Data?, URLResponse?, Error?) {
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var result: (Data?, URLResponse?, Error?) = (nil, nil, nil)
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.dataTask(with: request) { data, response, error in
            box.lock.lock()
            box.result = (data, response, error)
            box.lock.unlock()
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + request.timeoutInterval + 5) == .timedOut {
            task.cancel()
            return (nil, nil, URLError(.timedOut))
        }
        box.lock.lock()
        defer { box.lock.unlock() }
        return box.result
    }

    /// The keys of the metrics a run logged.
    public func metricKeys(run: String) throws -> [String] {
        try runData(run: run).metricKeys
    }

    /// The keys of the metrics a run logged, and its parameters.
    public func runData(run: String) throws -> (metricKeys: [String], parameters: [String: String]) {
        struct Response: Decodable {
            struct Run: Decodable {
                struct Param: Decodable { let key: String; let value: String? }
                struct RunData: Decodable { let metrics: [Metric]?; let params: [Param]? }
                let data: RunData?
            }
            let run: Run
        }
        let response = try get("api/2.0/mlflow/runs/get", [URLQueryItem(name: "run_id", value: run)], as: Response.self)
        let parameters = Dictionary((response.run.data?.params ?? []).map { ($0.key, $0.value ?? "") }) { a, _ in a }
        return ((response.run.data?.metrics ?? []).map(\.key).sorted(), parameters)
    }

    /// Every value a run logged for `key`, following the pages.
    public func history(run: String, key: String) throws -> [Metric] {
        struct Response: Decodable {
            let metrics: [Metric]?
            let next_page_token: String?
        }
        var all: [Metric] = []
        var token: String?
        repeat {
            var query = [
                URLQueryItem(name: "run_id", value: run), URLQueryItem(name: "metric_key", value: key),
                URLQueryItem(name: "max_results", value: "25000")
            ]
            if let token { query.append(URLQueryItem(name: "page_token", value: token)) }
            let page = try get("api/2.0/mlflow/metrics/get-history", query, as: Response.self)
            all += page.metrics ?? []
            token = page.next_page_token.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return all
    }

    /// The doctor's curves of a run: every metric's history, then the usual names (`train_loss`, `loss`, `val_loss`,
    /// `val_accuracy`, ...) or the named ones.
    public func curves(run: String, columns: CurveColumns = CurveColumns()) throws -> Curves {
        var series: [String: [TensorBoardReader.Point]] = [:]
        let data = try runData(run: run)
        for key in data.metricKeys {
            // In the order they were logged; values logged without a step (all at step 0) are numbered in that order.
            let values = try history(run: run, key: key).sorted { ($0.step, $0.timestamp) < ($1.step, $1.timestamp) }
            let stepsRepeat = Set(values.map(\.step)).count < values.count
            series[key] = values.enumerated().map { i, m in
                TensorBoardReader.Point(
                    step: stepsRepeat ? Int64(i) : m.step, value: m.value, wallTime: Double(m.timestamp) / 1000)
            }
        }
        let source = "\(shownURL) run \(run)"
        guard !series.isEmpty else { throw DataError(path: source, "the run has no metrics") }
        var curves = try ScalarSeries.curves(["": series], source: source, columns: columns)
        curves.hyperparameters = Hyperparameters(settings: data.parameters, source: "the run's MLflow parameters")
        return curves
    }
}

extension MLflowClient {
    /// The runs of the experiment called `name`, oldest first, each with its id and name (unique: a name that repeats
    /// gets its id's first 8 characters); a `DataError` naming the experiment when there is none by that name.
    public func runs(experiment name: String) throws -> [(id: String, name: String)] {
        let data: Data
        do {
            data = try request(
                "GET",
                "api/2.0/mlflow/experiments/get-by-name?experiment_name="
                    + (name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name))
        } catch let answer as MLflowAnswer where answer.status == 404 {
            throw DataError(path: "\(shownURL) experiment \(name)", "no experiment by that name on the MLflow server")
        }
        guard
            let id = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any]).flatMap({
                ($0["experiment"] as? [String: Any])?["experiment_id"] as? String
            })
        else {
            throw DataError(path: "\(shownURL) experiment \(name)", "the MLflow server's answer has no experiment id")
        }
        var found: [(id: String, name: String, start: Int64)] = []
        var token: String?
        repeat {
            var body: [String: Any] = ["experiment_ids": [id], "max_results": 1000]
            if let token { body["page_token"] = token }
            let page =
                (try JSONSerialization.jsonObject(with: try request("POST", "api/2.0/mlflow/runs/search", json: body)))
                as? [String: Any] ?? [:]
            for run in page["runs"] as? [[String: Any]] ?? [] {
                guard let info = run["info"] as? [String: Any], let runID = info["run_id"] as? String else { continue }
                let start =
                    (info["start_time"] as? NSNumber)?.int64Value ?? Int64(info["start_time"] as? String ?? "") ?? 0
                found.append((runID, info["run_name"] as? String ?? "", start))
            }
            token = (page["next_page_token"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        found.sort { ($0.start, $0.id) < ($1.start, $1.id) }
        let names = Dictionary(grouping: found, by: \.name)
        return found.map { run in
            (
                run.id,
                run.name.isEmpty
                    ? run.id : (names[run.name]!.count > 1 ? "\(run.name) (\(run.id.prefix(8)))" : run.name)
            )
        }
    }
}
