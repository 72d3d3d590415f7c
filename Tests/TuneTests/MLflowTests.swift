import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Tune
import TuneData
import TuneDiagnosis
import TuneSearch
@testable import TuneExport

/// A real MLflow tracking server on 127.0.0.1 (SQLite backend), started with the Python that `make test` provides
/// (TUNE_PYTHON), stopped at the end.
final class MLflowServer {
    let url: URL
    let process = Process()
    let python: String
    let directory = scratchDirectory()

    init() throws {
        python = ProcessInfo.processInfo.environment["TUNE_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        // A free port: bind to port 0 and read the port back.
        let port = try MLflowServer.freePort()
        url = URL(string: "http://127.0.0.1:\(port)")!
        // Foundation starts the process as the leader of a new process group, which the server's workers join: the
        // group is stopped together.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", String(port),
                             "--backend-store-uri", "sqlite:///\(directory.path)/mlflow.db",
                             // Artifacts through the server's proxy, as a remote server takes them.
                             "--default-artifact-root", "mlflow-artifacts:/", "--artifacts-destination", directory.path + "/artifacts",
                             "--workers", "1"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Wait for it to answer, at most 90 s.
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            var request = URLRequest(url: url.appendingPathComponent("health"), timeoutInterval: 2)
            request.httpMethod = "GET"
            if case let (_, response?, nil) = MLflowClient.send(request), (response as? HTTPURLResponse)?.statusCode == 200 { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
        stop()
        throw DataError(path: url.absoluteString, "the MLflow server did not start within 90 s (is mlflow installed for \(python)?)")
    }

    static func freePort() throws -> Int {
        let probe = Process()
        let pipe = Pipe()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]
        probe.standardOutput = pipe
        try probe.run()
        probe.waitUntilExit()
        return Int(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 5917
    }

    /// Logs the test run with MLflow's own client; returns its id.
    func logRun() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let p = Process(), pipe = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, root.appendingPathComponent("tools/mlflow/log_run.py").path, url.absoluteString]
        p.standardOutput = pipe
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        p.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
    }

    /// Stops the server's whole process group: SIGTERM, then SIGKILL after 5 seconds.
    func stop() {
        let group = -process.processIdentifier
        kill(group, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        kill(group, SIGKILL)
    }

    deinit { stop() }
}

@Suite("Reading MLflow runs", .serialized)
struct MLflowTests {
    @Test func aRunLoggedWithMLflowsClientIsReadThroughTheRESTAPI() throws {
        let server = try MLflowServer()
        defer { server.stop() }
        let run = try server.logRun()
        #expect(run.count == 32, "a run id: \(run)")
        let client = MLflowClient(url: server.url)
        #expect(try client.metricKeys(run: run) == ["train_loss", "train_loss_epoch", "val_accuracy", "val_loss"])
        #expect(try client.history(run: run, key: "train_loss").count == 120)
        let curves = try client.curves(run: run)
        #expect(curves.epochCount == 12)
        // Values by hand from tools/mlflow/log_run.py: val_loss at epoch 5 (index 4) is 0.3, the minimum.
        #expect(abs((curves.validationLoss[4] ?? 0) - 0.3) < 1e-9)
        #expect(abs((curves.trainLoss[0] ?? 0) - 0.62) < 1e-9)
        #expect(curves.metricName == "accuracy")
        #expect(Doctor().diagnose(curves).first?.id == "overfitting")
        // The command line, and a clear error for an unknown run.
        let r = try runTune(["doctor", "--mlflow", server.url.absoluteString, "--run", run, "--json"])
        #expect(r.status == 0, "\(r.error)")
        let missing = try runTune(["doctor", "--mlflow", server.url.absoluteString, "--run", "nope"])
        #expect(missing.status == 2 && missing.error.contains("404"))
    }

    @Test func aTokenIsSentButNeverPrinted() throws {
        let r = try runTune(["doctor", "--mlflow", "http://127.0.0.1:9", "--run", "x"], environment: ["MLFLOW_TRACKING_TOKEN": "secret-token-123"])
        #expect(r.status == 2)
        #expect(r.error.contains("did not answer"))
        #expect(!r.error.contains("secret-token-123") && !r.output.contains("secret-token-123"))
        let client = MLflowClient(url: URL(string: "http://127.0.0.1:9")!, environment: ["MLFLOW_TRACKING_TOKEN": "t"])
        #expect(client.authorization == "Bearer t")
        let basic = MLflowClient(url: URL(string: "http://127.0.0.1:9")!, environment: ["MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p"])
        #expect(basic.authorization == "Basic dTpw")
    }

    @Test func aSearchLogsAParentRunWithItsTrialsNestedAndTheirCurves() throws {
        let server = try MLflowServer()
        defer { server.stop() }
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("study").path
        #expect(try runTune(["generate", "moons", "--rows", "300", "--seed", "4", "--out", data]).status == 0)
        let run = try runTune(["search", "--data", data, "--target", "label", "--strategy", "random", "--pruner", "none", "--trials", "2",
                               "--epochs", "3", "--mlflow", server.url.absoluteString, "--mlflow-experiment", "moons", "--out", out],
                              environment: ["MLFLOW_TRACKING_TOKEN": "secret-token-456"])
        #expect(run.status == 0, "\(run.error)")
        #expect(!run.output.contains("secret-token-456") && !run.error.contains("secret-token-456"))
        let client = MLflowClient(url: server.url)
        let experiment = try client.experiment(named: "moons")
        let found = try client.request("POST", "api/2.0/mlflow/runs/search", json: ["experiment_ids": [experiment], "max_results": 100])
        let runs = (try JSONSerialization.jsonObject(with: found) as? [String: Any])?["runs"] as? [[String: Any]] ?? []
        func tags(_ r: [String: Any]) -> [String: String] {
            Dictionary(uniqueKeysWithValues: (((r["data"] as? [String: Any])?["tags"] as? [[String: String]]) ?? []).map { ($0["key"]!, $0["value"]!) })
        }
        func params(_ r: [String: Any]) -> [String: String] {
            Dictionary(uniqueKeysWithValues: (((r["data"] as? [String: Any])?["params"] as? [[String: String]]) ?? []).map { ($0["key"]!, $0["value"]!) })
        }
        func info(_ r: [String: Any]) -> [String: Any] { r["info"] as? [String: Any] ?? [:] }
        let parent = try #require(runs.first { tags($0)["mlflow.parentRunId"] == nil })
        let parentID = info(parent)["run_id"] as! String
        let children = runs.filter { tags($0)["mlflow.parentRunId"] == parentID }
        #expect(children.count == 2 && runs.count == 3)
        #expect(params(parent)["strategy"] == "random" && info(parent)["status"] as? String == "FINISHED")
        let trials = try SQLiteStorage(path: out + "/study.sqlite", direction: .maximize).allTrials()
        for t in trials {
            let child = try #require(children.first { info($0)["run_name"] as? String == "trial \(t.number)" })
            #expect(params(child) == t.parameters.mapValues(\.description))
            #expect(info(child)["status"] as? String == "FINISHED")
            let history = try client.history(run: info(child)["run_id"] as! String, key: "val_auc").sorted { $0.step < $1.step }
            #expect(history.map(\.step) == t.intermediate.keys.sorted().map(Int64.init))
            #expect(zip(history, t.intermediate.keys.sorted()).allSatisfy { close($0.value, t.intermediate[$1]!) })
        }
        // The study's summary, through the artifact proxy.
        let listed = try client.request("GET", "api/2.0/mlflow/artifacts/list?run_id=\(parentID)")
        #expect(String(decoding: listed, as: UTF8.self).contains("summary.json"))
    }

    @Test func aServerThatIsDownNeverStopsTraining() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path
        #expect(try runTune(["generate", "moons", "--rows", "200", "--out", data]).status == 0)
        let r = try runTune(["train", "--data", data, "--target", "label", "--epochs", "3", "--mlflow", "http://127.0.0.1:9",
                             "--out", dir.appendingPathComponent("run").path], environment: ["MLFLOW_TRACKING_TOKEN": "secret-token-789"])
        #expect(r.status == 0, "\(r.error)")
        #expect((r.output + r.error).contains("MLflow: not logging"))
        #expect(!(r.output + r.error).contains("secret-token-789"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/model/model.safetensors").path))
    }
}
