import Foundation
#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
import TestSupport
import Testing
@testable import Tune
@testable import TuneEngine
@testable import TuneReport
@testable import TuneRun
import TuneData
import TuneTraining
import TuneDiagnosis
import TuneSearch
@testable import TuneExport

/// A real MLflow tracking server on 127.0.0.1 (SQLite backend), started with the Python that `make test` provides
/// (TUNE_PYTHON), stopped at the end.
final class MLflowServer: @unchecked Sendable {
    let url: URL
    let process = Process()
    let python: String
    let directory: URL
    let port: Int

    /// A server on a free port with a new database, or on `port` with `directory`'s database (a server restarted).
    init(port: Int? = nil, directory: URL? = nil) throws {
        python = testPython
        self.directory = directory ?? scratchDirectory()
        // A free port: bind to port 0 and read the port back.
        let port = try port ?? MLflowServer.freePort()
        self.port = port
        url = URL(string: "http://127.0.0.1:\(port)")!
        // Foundation starts the process as the leader of a new process group, which the server's workers join: the
        // group is stopped together.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            python, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", String(port),
            "--backend-store-uri", "sqlite:///\(self.directory.path)/mlflow.db",
            // Artifacts through the server's proxy, as a remote server takes them.
            "--default-artifact-root", "mlflow-artifacts:/", "--artifacts-destination",
            self.directory.path + "/artifacts",
            "--workers", "1"
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Wait for it to answer, at most 90 s.
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline {
            var request = URLRequest(url: url.appendingPathComponent("health"), timeoutInterval: 2)
            request.httpMethod = "GET"
            if case let (_, response?, nil) = MLflowClient.send(request),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        stop()
        throw DataError(
            path: url.absoluteString, "the MLflow server did not start within 90 s (is mlflow installed for \(python)?)"
        )
    }

    static func freePort() throws -> Int {
        let probe = Process()
        let pipe = Pipe()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = [
            "python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"
        ]
        probe.standardOutput = pipe
        try probe.run()
        probe.waitUntilExit()
        return Int(
            String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines)) ?? 5917
    }

    /// Logs the test run with MLflow's own client; returns its id.
    func logRun() throws -> String {
        let root = repositoryRoot
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

/// The process group of the shared server, killed when the test process exits.
nonisolated(unsafe) var sharedMLflowGroup: pid_t = 0

extension MLflowServer {
    /// One server for the tests that need nothing more than a server (each logs to its own experiment), started once
    /// and stopped when the test process exits.
    static let shared: Result<MLflowServer, Error> = {
        let result = Result { try MLflowServer() }
        if case .success(let server) = result {
            sharedMLflowGroup = server.process.processIdentifier
            atexit { if sharedMLflowGroup > 0 { kill(-sharedMLflowGroup, SIGKILL) } }
        }
        return result
    }()
}

/// tools/mlflow/fake_server.py: a stand-in for a server that misbehaves in a given way, stopped at the end.
final class FakeMLflowServer {
    let process = Process()
    let url: URL

    init(_ arguments: [String]) throws {
        let root = repositoryRoot
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("tools/mlflow/fake_server.py").path] + arguments
        process.standardOutput = pipe
        try process.run()
        var line = Data()
        while let byte = try pipe.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line += byte
        }
        url = URL(string: "http://127.0.0.1:\(String(decoding: line, as: UTF8.self))")!
    }

    deinit {
        // SIGKILL: the test process may block SIGTERM, and its children inherit that.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite("Reading MLflow runs", .serialized)
struct MLflowTests {
    @Test func aRunLoggedWithMLflowsClientIsReadThroughTheRESTAPI() throws {
        let server = try MLflowServer.shared.get()
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
        #expect(Doctor().diagnose(curves).first?.id == .overfitting)
        // The command line, and a clear error for an unknown run.
        let r = try runTune(["doctor", "--mlflow", server.url.absoluteString, "--run", run, "--json"])
        #expect(r.status == 0, "\(r.error)")
        let missing = try runTune(["doctor", "--mlflow", server.url.absoluteString, "--run", "nope"])
        #expect(missing.status == 2 && missing.error.contains("404"))
    }

    @Test func aTokenIsSentButNeverPrinted() throws {
        let r = try runTune(
            ["doctor", "--mlflow", "http://127.0.0.1:9", "--run", "x"],
            environment: ["MLFLOW_TRACKING_TOKEN": "secret-token-123"])
        #expect(r.status == 2)
        #expect(r.error.contains("did not answer"))
        #expect(!r.error.contains("secret-token-123") && !r.output.contains("secret-token-123"))
        let client = MLflowClient(url: URL(string: "http://127.0.0.1:9")!, environment: ["MLFLOW_TRACKING_TOKEN": "t"])
        #expect(client.authorization == "Bearer t")
        let basic = MLflowClient(
            url: URL(string: "http://127.0.0.1:9")!,
            environment: ["MLFLOW_TRACKING_USERNAME": "u", "MLFLOW_TRACKING_PASSWORD": "p"])
        #expect(basic.authorization == "Basic dTpw")
    }

    @Test func aSearchLogsAParentRunWithItsTrialsNestedAndTheirCurves() throws {
        let server = try MLflowServer.shared.get()
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("study").path
        #expect(try runTune(["generate", "moons", "--rows", "300", "--seed", "4", "--out", data]).status == 0)
        let run = try runTune(
            [
                "search", "--data", data, "--target", "label", "--strategy", "random", "--pruner", "none", "--trials",
                "2",
                "--epochs", "3", "--mlflow", server.url.absoluteString, "--mlflow-experiment", "moons", "--out", out
            ],
            environment: ["MLFLOW_TRACKING_TOKEN": "secret-token-456"])
        #expect(run.status == 0, "\(run.error)")
        #expect(!run.output.contains("secret-token-456") && !run.error.contains("secret-token-456"))
        try checkSearch(server.url, out: out)
        // The experiment read back by the doctor: the two trials compared (the parent run logs no loss).
        let doctor = try runTune(["doctor", "--mlflow", server.url.absoluteString, "--experiment", "moons", "--json"])
        #expect(doctor.status == 0, "\(doctor.error)")
        struct Output: Decodable { struct Run: Decodable { let name: String; let epochs: Int }; let runs: [Run] }
        let runs = try JSONDecoder().decode(Output.self, from: Data(doctor.output.utf8)).runs
        #expect(runs.map(\.name) == ["trial 0", "trial 1"] && runs.allSatisfy { $0.epochs == 3 }, "\(runs)")
        let missing = try runTune([
            "doctor", "--mlflow", server.url.absoluteString, "--experiment", "no such experiment"
        ])
        #expect(missing.status == 2 && missing.error.contains("no experiment by that name"))
    }

    /// A sender through `client` whose spool is a new scratch directory's `mlflow-unsent/`.
    func spoolingSender(_ client: MLflowClient) -> (MLflowSender, URL) {
        let spool = scratchDirectory().appendingPathComponent("mlflow-unsent")
        return (
            MLflowSender(client: client, spool: MLflowSpool(directory: spool, server: client.baseURL.absoluteString)),
            spool
        )
    }

    /// The runs of experiment `experiment` on `url`, as runs/search answers.
    func runs(_ client: MLflowClient, experiment: String) throws -> [[String: Any]] {
        let id = try client.experiment(named: experiment)
        let found = try client.request(
            "POST", "api/2.0/mlflow/runs/search", json: ["experiment_ids": [id], "max_results": 100])
        return (try JSONSerialization.jsonObject(with: found) as? [String: Any])?["runs"] as? [[String: Any]] ?? []
    }

    func pairs(_ r: [String: Any], _ field: String) -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: (((r["data"] as? [String: Any])?[field] as? [[String: String]]) ?? []).map {
                ($0["key"]!, $0["value"]!)
            })
    }

    @Test func aServerThatIsDownNeverStopsTrainingAndMLflowSyncSendsTheRunLater() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("run")
        #expect(try runTune(["generate", "moons", "--rows", "200", "--out", data]).status == 0)
        // Nothing listens on the port yet.
        let port = try MLflowServer.freePort()
        let secret: [String: String?] = ["MLFLOW_TRACKING_TOKEN": "secret-token-789"]
        let r = try runTune(
            [
                "train", "--data", data, "--target", "label", "--epochs", "3", "--mlflow", "http://127.0.0.1:\(port)",
                "--out", out.path
            ], environment: secret)
        #expect(r.status == 0, "\(r.error)")
        #expect(
            r.output.contains("kept in \(out.path)/mlflow-unsent") && r.output.contains("tune mlflow-sync \(out.path)"),
            "\(r.output)")
        #expect(!(r.output + r.error).contains("secret-token-789"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("model/model.safetensors").path))
        // Still down: the sync fails, says so, and keeps everything.
        let early = try runTune(["mlflow-sync", out.path], environment: secret)
        #expect(early.status == 2 && early.error.contains("run tune mlflow-sync again"), "\(early.error)")
        #expect(MLflowSpool.find(in: out) != nil)
        // The server is up: the run arrives whole, at the address the run was logging to.
        let server = try MLflowServer(port: port)
        defer { server.stop() }
        let sync = try runTune(["mlflow-sync", out.path], environment: secret)
        #expect(sync.status == 0 && sync.output.contains("sent 1 runs"), "\(sync.output) \(sync.error)")
        #expect(!(sync.output + sync.error).contains("secret-token-789"))
        let client = MLflowClient(url: server.url)
        let all = try runs(client, experiment: "swift-tune")
        #expect(all.count == 1)
        let run = try #require(all.first)
        let info = run["info"] as? [String: Any] ?? [:]
        #expect(info["status"] as? String == "FINISHED" && info["run_name"] as? String == "run")
        var settings = TrainSettings()
        settings.epochs = 3
        #expect(pairs(run, "params") == TrainRun.hyperparameters(settings).mapValues(\.description))
        #expect(pairs(run, "params")["epochs"] == "3")
        let history = try jsonDecoder().decode(
            History.self, from: Data(contentsOf: out.appendingPathComponent("history.json")))
        let id = info["run_id"] as! String
        let sent = try client.history(run: id, key: "val_loss").sorted { $0.step < $1.step }
        #expect(sent.map(\.step) == [1, 2, 3])
        #expect(zip(sent, history.epochs).allSatisfy { close($0.value, $1.validationLoss) })
        let metrics = try jsonDecoder().decode(
            RunSummary.self, from: Data(contentsOf: out.appendingPathComponent("metrics.json")))
        #expect(try client.history(run: id, key: "test_auc").map(\.value) == [metrics.test["auc"]!])
        let listed = String(
            decoding: try client.request("GET", "api/2.0/mlflow/artifacts/list?run_id=\(id)"), as: UTF8.self)
        #expect(listed.contains("history.csv") && listed.contains("history.json"))
        // Everything was sent: the spool is gone, and a second sync has nothing to do.
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("mlflow-unsent").path))
        let again = try runTune(["mlflow-sync", out.path])
        #expect(again.status == 0 && again.output.contains("nothing to send"))
    }

    @Test func aParallelSearchKeptOnDiskIsSentWithItsTrialsNested() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("study").path
        #expect(try runTune(["generate", "moons", "--rows", "300", "--seed", "4", "--out", data]).status == 0)
        let port = try MLflowServer.freePort()  // nothing listens there
        // Two processes: the worker nests its trial under the leader's parent run, which is not on any server yet.
        let run = try runTune([
            "search", "--data", data, "--target", "label", "--strategy", "random", "--pruner", "none", "--trials", "6",
            "--epochs", "60", "--jobs", "2", "--mlflow", "http://127.0.0.1:\(port)", "--mlflow-experiment", "parallel",
            "--out", out
        ])
        #expect(run.status == 0, "\(run.error)")
        let spool = try #require(MLflowSpool.find(in: URL(fileURLWithPath: out)))
        let files = try FileManager.default.contentsOfDirectory(atPath: spool.path).filter { $0.hasSuffix(".jsonl") }
        #expect(files.count == 2, "one file per process")
        // Sent to another server than the one the search was given.
        let server = try MLflowServer.shared.get()
        let sync = try runTune(["mlflow-sync", out, "--mlflow", server.url.absoluteString])
        #expect(sync.status == 0 && sync.output.contains("sent 7 runs"), "\(sync.output) \(sync.error)")
        try checkSearch(server.url, out: out, experiment: "parallel", trials: 6)
    }

    @Test func whatFailsMidwayIsKeptAndSendingItTwiceChangesNothing() throws {
        let server = try MLflowServer()
        let client = MLflowClient(url: server.url)
        let (sender, spoolURL) = spoolingSender(client)
        let run = UUID().uuidString
        sender.enqueue(
            MLflowOperation(kind: .createRun, run: run, experiment: "midway", name: "r", parameters: ["lr": "0.01"]))
        sender.enqueue(
            MLflowOperation(
                kind: .log, run: run, metrics: [.init(key: "val_loss", value: 0.5, step: 1, timestamp: 1000)]))
        #expect(sender.drain())
        let id = sender.reference(run, timeout: 1)
        #expect(id.count == 32 && !MLflowOperation.isLocal(id))
        server.stop()
        // The server is gone: the rest is kept, with the run it belongs to.
        sender.enqueue(
            MLflowOperation(
                kind: .log, run: run, metrics: [.init(key: "val_loss", value: .nan, step: 2, timestamp: 2000)]))
        sender.enqueue(MLflowOperation(kind: .upload, run: run, name: "notes.txt", data: Data("kept".utf8)))
        sender.enqueue(MLflowOperation(kind: .finish, run: run, status: "FINISHED"))
        #expect(sender.finish() == 3)
        #expect(sender.takeNotes().contains { $0.contains("kept in \(spoolURL.path)") })
        // A second spool holds a run not yet on the server; both are copied, to be sent twice.
        let other = UUID().uuidString
        let second = MLflowSpool(directory: spoolURL, server: server.url.absoluteString)
        try second.append(
            MLflowOperation(kind: .createRun, run: other, experiment: "midway", name: "child", parent: run))
        try second.append(MLflowOperation(kind: .finish, run: other, status: "KILLED"))
        second.close()
        let copy = spoolURL.deletingLastPathComponent().appendingPathComponent("copy")
        try FileManager.default.copyItem(at: spoolURL, to: copy)

        let restarted = try MLflowServer(port: server.port, directory: server.directory)
        defer { restarted.stop() }
        let first = try MLflowSpool.send(spoolURL, client: client)
        #expect(first.runs == 1 && first.operations == 4 && first.refused.isEmpty, "\(first)")
        #expect(!FileManager.default.fileExists(atPath: spoolURL.path))
        let twice = try MLflowSpool.send(copy, client: client)
        #expect(twice.refused.isEmpty)
        let all = try runs(client, experiment: "midway")
        #expect(all.count == 2, "one run each, though the second was sent twice")
        let history = try client.history(run: id, key: "val_loss").sorted { $0.step < $1.step }
        #expect(history.count == 2 && history[0].value == 0.5 && history[1].value.isNaN && history[1].timestamp == 2000)
        let child = try #require(all.first { pairs($0, "tags")[MLflowOperation.localIDTag] == other })
        #expect(pairs(child, "tags")["mlflow.parentRunId"] == id)
        #expect((child["info"] as? [String: Any])?["status"] as? String == "KILLED")
        let listed = String(
            decoding: try client.request("GET", "api/2.0/mlflow/artifacts/list?run_id=\(id)"), as: UTF8.self)
        #expect(listed.contains("notes.txt"))
    }

    @Test func aServerThatNeverAnswersDelaysTheEndOnlyUpToTheLimit() throws {
        // A socket that takes connections and never answers.
        let silent = Process(), pipe = Pipe()
        silent.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        silent.arguments = [
            "python3", "-c",
            "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(16); "
                + "print(s.getsockname()[1], flush=True); time.sleep(120)"
        ]
        silent.standardOutput = pipe
        try silent.run()
        defer { kill(silent.processIdentifier, SIGKILL); silent.waitUntilExit() }
        let port = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let url = try #require(URL(string: "http://127.0.0.1:\(port)"))
        let (sender, spoolURL) = spoolingSender(MLflowClient(url: url))
        let run = UUID().uuidString
        let started = Date()
        sender.enqueue(MLflowOperation(kind: .createRun, run: run, experiment: "e", name: "r"))
        sender.enqueue(MLflowOperation(kind: .finish, run: run, status: "FINISHED"))
        #expect(Date().timeIntervalSince(started) < 1, "queueing does not wait for the server")
        #expect(sender.finish(stall: 1, limit: 3) == 2, "both kept, the one in flight too")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(sender.takeNotes().contains { $0.contains("within 3 s") && $0.contains("kept in \(spoolURL.path)") })
        let kept = try MLflowSpool.read(spoolURL)
        #expect(kept.files.flatMap(\.ops).map(\.op.kind) == [.createRun, .finish])
        // Later operations go straight to disk, after the run they name.
        sender.enqueue(MLflowOperation(kind: .finish, run: run, status: "FAILED"))
        sender.spool.close()
        #expect(try MLflowSpool.read(spoolURL).files.flatMap(\.ops).count == 3)
    }

    @Test func aWrongTokenLosesNothing() throws {
        let fake = try FakeMLflowServer(["--status", "401"])
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("run")
        #expect(try runTune(["generate", "moons", "--rows", "200", "--out", data]).status == 0)
        let r = try runTune([
            "train", "--data", data, "--target", "label", "--epochs", "3", "--mlflow", fake.url.absoluteString, "--out",
            out.path
        ])
        #expect(r.status == 0 && r.output.contains("401") && r.output.contains("kept in"), "\(r.output)")
        let spool = try #require(MLflowSpool.find(in: out))
        let kept = try MLflowSpool.read(spool).files.flatMap(\.ops).map(\.op.kind)
        #expect(
            kept.first == .createRun && kept.filter { $0 == .log }.count >= 4 && kept.last == .finish,
            "everything kept: \(kept)")
        // Sent again with the wrong token: the sync stops and keeps everything, to be sent with the right one.
        let sync = try runTune(["mlflow-sync", out.path])
        #expect(
            sync.status == 2 && sync.error.contains("401") && sync.error.contains("run tune mlflow-sync again"),
            "\(sync.error)")
        #expect(try MLflowSpool.read(spool).files.flatMap(\.ops).count == kept.count)
    }

    @Test func aFailureInsideAnOperationIsKeptWholeAndTheRunIsNotCreatedTwice() throws {
        let server = try MLflowServer.shared.get()
        let flag = scratchDirectory().appendingPathComponent("failing")
        try Data().write(to: flag)
        // Runs are created, but their parameters and metrics fail (500) while the flag file exists.
        let proxy = try FakeMLflowServer([
            "--proxy", server.url.absoluteString, "--fail", "log-batch", "--while", flag.path
        ])
        let client = MLflowClient(url: proxy.url)
        let (sender, spoolURL) = spoolingSender(client)
        let run = UUID().uuidString
        sender.enqueue(
            MLflowOperation(kind: .createRun, run: run, experiment: "inside", name: "r", parameters: ["lr": "0.1"]))
        sender.enqueue(
            MLflowOperation(
                kind: .log, run: run, metrics: [.init(key: "val_loss", value: 0.25, step: 1, timestamp: 3000)]))
        #expect(sender.finish() == 2, "the create whose parameters failed, and the metric")
        try FileManager.default.removeItem(at: flag)
        let outcome = try MLflowSpool.send(spoolURL, client: client)
        #expect(outcome.runs == 1 && outcome.operations == 1 && outcome.refused.isEmpty, "\(outcome)")
        let all = try runs(MLflowClient(url: server.url), experiment: "inside")
        #expect(all.count == 1, "found by its tag, not created again")
        #expect(pairs(try #require(all.first), "params") == ["lr": "0.1"])
        let id = try #require((all.first?["info"] as? [String: Any])?["run_id"] as? String)
        #expect(try MLflowClient(url: server.url).history(run: id, key: "val_loss").map(\.value) == [0.25])
    }

    @Test func aSlowServerDelaysTheEndOnlyUpToTheLimit() throws {
        let fake = try FakeMLflowServer(["--delay", "0.5"])
        let (sender, _) = spoolingSender(MLflowClient(url: fake.url))
        let run = UUID().uuidString
        sender.enqueue(MLflowOperation(kind: .createRun, run: run, experiment: "e", name: "r"))
        for _ in 0..<10 { sender.enqueue(MLflowOperation(kind: .finish, run: run, status: "RUNNING")) }
        let started = Date()
        // Answers come every 0.5 s (no stall of 5 s), but 11 of them take longer than the 2 s allowed.
        let kept = sender.finish(stall: 5, limit: 2)
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 1.9 && waited < 3.5, "\(waited) s")
        #expect(kept >= 5 && kept <= 9, "\(kept) kept")
        #expect(sender.takeNotes().contains { $0.contains("within 2 s") })
    }

    @Test func processesCreatingOneExperimentAtOnceAllGetIt() throws {
        let server = try MLflowServer.shared.get()
        final class Box: @unchecked Sendable { let lock = NSLock(); var ids: [String] = []; var errors: [String] = [] }
        let box = Box()
        // Four at once: each looks the name up, finds nothing, creates it; all but one are told it exists.
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let result = Result { try MLflowClient(url: server.url).experiment(named: "at once") }
            box.lock.lock()
            switch result {
            case .success(let id): box.ids.append(id)
            case .failure(let error): box.errors.append("\(error)")
            }
            box.lock.unlock()
        }
        #expect(box.errors.isEmpty, "\(box.errors)")
        #expect(box.ids.count == 4 && Set(box.ids).count == 1)
    }

    @Test func aSyncTakesOnlySpoolFilesThatNoProcessIsWriting() throws {
        // A directory that is not a spool is never taken for one.
        let plain = scratchDirectory()
        try Data("{\"a\": 1}\n".utf8).write(to: plain.appendingPathComponent("data.jsonl"))
        let r = try runTune(["mlflow-sync", plain.path, "--mlflow", "http://127.0.0.1:9"])
        #expect(r.status == 0 && r.output.contains("nothing to send"))
        #expect(FileManager.default.fileExists(atPath: plain.appendingPathComponent("data.jsonl").path))
        let named = plain.appendingPathComponent("mlflow-unsent")
        try FileManager.default.createDirectory(at: named, withIntermediateDirectories: true)
        try Data("{\"a\": 1}\n".utf8).write(to: named.appendingPathComponent("x.jsonl"))
        let odd = try runTune(["mlflow-sync", plain.path, "--mlflow", "http://127.0.0.1:9"])
        #expect(
            odd.status == 2 && odd.error.contains("x.jsonl:1") && odd.error.contains("names no server"), "\(odd.error)")
        #expect(FileManager.default.fileExists(atPath: named.appendingPathComponent("x.jsonl").path))

        // A file a process still writes (and holds locked) is left; a finished one is sent and goes.
        let spoolURL = scratchDirectory().appendingPathComponent("mlflow-unsent")
        let writing = MLflowSpool(directory: spoolURL, server: "http://127.0.0.1:9")
        try writing.append(MLflowOperation(kind: .finish, run: UUID().uuidString, status: "FINISHED"))
        let done = MLflowSpool(directory: spoolURL, server: "http://127.0.0.1:9")
        try done.append(MLflowOperation(kind: .finish, run: UUID().uuidString, status: "FINISHED"))
        done.close()
        // Its run is on no server: refused without asking one, and kept in refused.json.
        let outcome = try MLflowSpool.send(spoolURL, client: MLflowClient(url: URL(string: "http://127.0.0.1:9")!))
        #expect(outcome.left == 1 && outcome.operations == 1 && outcome.refused.count == 1, "\(outcome)")
        let files = try FileManager.default.contentsOfDirectory(atPath: spoolURL.path).filter { $0.hasSuffix(".jsonl") }
        #expect(
            files.count == 1
                && FileManager.default.fileExists(atPath: spoolURL.appendingPathComponent("refused.json").path))
        writing.close()
        let rest = try MLflowSpool.send(spoolURL, client: MLflowClient(url: URL(string: "http://127.0.0.1:9")!))
        #expect(rest.left == 0 && rest.operations == 1)
    }

    @Test func aSpoolIsReadBackAndABrokenOneNamesItsLine() throws {
        let dir = scratchDirectory().appendingPathComponent("mlflow-unsent")
        let spool = MLflowSpool(directory: dir, server: "http://user:pw@127.0.0.1:9")
        let run = UUID().uuidString
        let ops = [
            MLflowOperation(
                kind: .createRun, run: run, time: 5, experiment: "e", name: "n", tags: ["a": "b"],
                parameters: ["p": "1"]),
            MLflowOperation(
                kind: .log, run: run, time: 6, metrics: [.init(key: "m", value: -.infinity, step: 3, timestamp: 7)]),
            MLflowOperation(kind: .upload, run: run, time: 8, name: "a/b.txt", data: Data("x".utf8))
        ]
        for op in ops { try spool.append(op) }
        spool.close()
        let read = try MLflowSpool.read(dir)
        #expect(read.servers == ["http://127.0.0.1:9"], "credentials are not kept")
        let back = try #require(read.files.first?.ops)
        #expect(back.count == 3 && back[0].op == ops[0] && back[1].op == ops[1] && back.map(\.line) == [2, 3, 4])
        #expect(back[2].op.data == nil && back[2].op.name == "a/b.txt")
        let blob = try #require(back[2].op.blob)
        #expect(try Data(contentsOf: dir.appendingPathComponent("blobs/\(blob)")) == Data("x".utf8))
        // A last line cut short (the process was killed while writing it) is left out with a note.
        let file = dir.appendingPathComponent(try #require(read.files.first?.name))
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"op\":{\"kind\":\"lo".utf8))
        try handle.close()
        let cut = try MLflowSpool.read(dir)
        #expect(cut.files.first?.ops.count == 3 && cut.notes.count == 1 && cut.notes[0].contains(":5:"))
        // A broken line elsewhere is an error that names the file and the line.
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(
            of: "\"kind\":\"log\"", with: "\"kind\":\"nope\"")
        try Data(text.utf8).write(to: file)
        #expect(throws: DataError.self) { try MLflowSpool.read(dir) }
        let r = try runTune(["mlflow-sync", dir.deletingLastPathComponent().path, "--mlflow", "http://127.0.0.1:9"])
        #expect(r.status == 2 && r.error.contains("\(file.path):3"), "\(r.error)")
        let missing = try runTune(["mlflow-sync", dir.path + "-not-there"])
        #expect(missing.status == 2 && missing.error.contains("no such directory"))
    }

    /// The runs of a classic search of `trials` trials in `experiment`, read back through the REST API: a parent run
    /// with the trials nested, their parameters, status and curves as the study recorded them, and the summary.
    func checkSearch(_ url: URL, out: String, experiment name: String = "moons", trials count: Int = 2) throws {
        let client = MLflowClient(url: url)
        let runs = try self.runs(client, experiment: name)
        func tags(_ r: [String: Any]) -> [String: String] { pairs(r, "tags") }
        func params(_ r: [String: Any]) -> [String: String] { pairs(r, "params") }
        func info(_ r: [String: Any]) -> [String: Any] { r["info"] as? [String: Any] ?? [:] }
        let parent = try #require(runs.first { tags($0)["mlflow.parentRunId"] == nil })
        let parentID = info(parent)["run_id"] as! String
        let children = runs.filter { tags($0)["mlflow.parentRunId"] == parentID }
        #expect(children.count == count && runs.count == count + 1)
        #expect(params(parent)["strategy"] == "random" && info(parent)["status"] as? String == "FINISHED")
        let trials = try SQLiteStorage(path: out + "/study.sqlite", direction: .maximize).allTrials()
        for t in trials {
            let child = try #require(children.first { info($0)["run_name"] as? String == "trial \(t.number)" })
            #expect(params(child) == t.parameters.mapValues(\.description))
            #expect(info(child)["status"] as? String == "FINISHED")
            let history = try client.history(run: info(child)["run_id"] as! String, key: "val_auc").sorted {
                $0.step < $1.step
            }
            #expect(history.map(\.step) == t.intermediate.keys.sorted().map(Int64.init))
            #expect(zip(history, t.intermediate.keys.sorted()).allSatisfy { close($0.value, t.intermediate[$1]!) })
        }
        // The study's summary, through the artifact proxy.
        let listed = try client.request("GET", "api/2.0/mlflow/artifacts/list?run_id=\(parentID)")
        #expect(String(decoding: listed, as: UTF8.self).contains("summary.json"))
    }
}
