import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import Tune
import TuneData
import TuneDiagnosis
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
                             "--backend-store-uri", "sqlite:///\(directory.path)/mlflow.db", "--default-artifact-root", directory.path + "/artifacts",
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
}
