import Foundation
import TestSupport
import Testing

/// `tune search --storage postgresql://...` with `tune worker` processes, as on several machines (the processes
/// reach the server over TCP), against the test run's scratch server.
@Suite("A study on PostgreSQL with workers", .serialized)
struct DistributedSearchTests {
    let server: ScratchPostgres
    let directory = scratchDirectory("distributed")
    let data: String

    init() throws {
        server = try ScratchPostgres.shared.get()
        data = directory.appendingPathComponent("moons.csv").path
        #expect(try runTune(["generate", "moons", "--rows", "2000", "--seed", "3", "--out", data]).status == 0)
    }

    var environment: [String: String?] { ["PGPASSWORD": server.password] }

    /// A `tune` process in the background, its output in a file.
    func start(_ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = tuneExecutable()
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["PGPASSWORD"] = server.password
        process.environment = env
        let url = directory.appendingPathComponent(log)
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    func log(_ name: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    func summary(_ out: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as! [String: Any]
    }

    /// Every trial's number, configuration and value, as text, in order.
    func trials(_ s: [String: Any]) throws -> [String] {
        try (s["trials"] as! [[String: Any]]).map { t in
            let kept = t.filter { ["number", "value", "candidate", "parameters", "bestEpoch"].contains($0.key) }
            return String(
                decoding: try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]), as: UTF8.self)
        }.sorted()
    }

    @Test(arguments: ["recipe", "random", "tpe"])
    func aLeaderAndThreeWorkersGiveTheResultsOfFourJobsOnSQLite(_ strategy: String) throws {
        // TPE's first ten trials are its random start-up, the same whoever runs them; after those, what a trial
        // proposes depends on which trials have finished when it is asked, with workers as with --jobs.
        let flags =
            strategy == "recipe"
            ? ["--members", "1"] : ["--strategy", strategy, "--pruner", "none", "--trials", "6"]
        let arguments = ["search", "--data", data, "--target", "label", "--epochs", "6"] + flags
        let local = directory.appendingPathComponent("\(strategy)-sqlite").path
        let shared = directory.appendingPathComponent("\(strategy)-postgres").path
        let sqlite = try runTune(arguments + ["--jobs", "4", "--out", local])
        #expect(sqlite.status == 0, "\(sqlite.error)")
        let storage = ["--storage", server.address(), "--study", "same-\(strategy)-\(UUID().uuidString)"]
        let workers = try (0..<3).map { i in
            try start(["worker"] + storage + ["--exit-when-idle", "120"], log: "\(strategy)-worker-\(i).log")
        }
        let leader = try runTune(arguments + storage + ["--out", shared], environment: environment)
        for w in workers { w.waitUntilExit() }
        #expect(leader.status == 0, "\(leader.error)")
        #expect(
            workers.allSatisfy { $0.terminationStatus == 0 }, "\((0..<3).map { log("\(strategy)-worker-\($0).log") })")
        let a = try summary(local), b = try summary(shared)
        let ta = try trials(a), tb = try trials(b)
        #expect(ta == tb, "every trial: the same number, configuration and value: \(ta) \(tb)")
        if strategy == "recipe" {
            #expect(
                (a["stages"] as! [[String: Any]]).map { $0["decision"] as! String }.dropLast()
                    == (b["stages"] as! [[String: Any]]).map { $0["decision"] as! String }.dropLast(),
                "the same decisions")
        }
        let processes = try server.psql(
            """
            SELECT count(DISTINCT a.value) FROM tune_attributes a JOIN tune_studies s ON s.id = a.study
            WHERE s.name = '\(storage[3])' AND a.key = 'process'
            """)
        #expect((Int(processes) ?? 0) >= 2, "the workers trained trials too: \(processes) processes")
        let ma = try Data(contentsOf: URL(fileURLWithPath: local + "/best/model/model.safetensors"))
        let mb = try Data(contentsOf: URL(fileURLWithPath: shared + "/best/model/model.safetensors"))
        #expect(ma == mb, "the same best model, bit for bit, whichever process trained it")
    }

    @Test func aWorkerKilledInMidTrialHasItsTrialTrainedAgainOnce() throws {
        let big = directory.appendingPathComponent("moons-big.csv").path
        #expect(try runTune(["generate", "moons", "--rows", "6000", "--seed", "4", "--out", big]).status == 0)
        let study = "killed-\(UUID().uuidString)"
        let storage = ["--storage", server.address(), "--study", study]
        let out = directory.appendingPathComponent("killed").path
        let worker = try start(["worker"] + storage + ["--exit-when-idle", "120"], log: "killed-worker.log")
        let leader = try start(
            [
                "search", "--data", big, "--target", "label", "--epochs", "40", "--strategy", "random", "--pruner",
                "none", "--trials", "4", "--stale-after", "3", "--out", out
            ] + storage, log: "killed-leader.log")
        // Killed once it trains a trial (its pid is on the trial it claimed).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, try trialsOf(study, process: worker.processIdentifier, state: "running") != "1" {
            Thread.sleep(forTimeInterval: 0.2)
        }
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        leader.waitUntilExit()
        #expect(leader.terminationStatus == 0, "\(log("killed-leader.log"))")
        let rows = try server.psql(
            """
            SELECT t.number || ' ' || t.state || ' ' || coalesce((SELECT value FROM tune_attributes
                WHERE study = t.study AND trial = t.number AND key = 'retry_of'), '-')
                || ' ' || coalesce(t.failure, '-')
            FROM tune_trials t JOIN tune_studies s ON s.id = t.study WHERE s.name = '\(study)' ORDER BY t.number
            """
        ).split(separator: "\n").map { $0.split(separator: " ", maxSplits: 3).map(String.init) }
        let failed = rows.filter { $0[1] == "failed" }
        #expect(failed.count == 1 && failed[0][3].contains("heartbeat"), "one trial taken for dead: \(rows)")
        let retries = rows.filter { $0[2] == failed.first?[0] }
        #expect(retries.count == 1 && retries[0][1] == "complete", "trained again exactly once: \(rows)")
        #expect(rows.filter { $0[1] == "complete" }.count == 4, "every planned trial ended once: \(rows)")
        #expect(!rows.contains { $0[1] == "running" || $0[1] == "waiting" }, "nothing left: \(rows)")
    }

    @Test func aProcessWhoseClockIsAnHourAheadTakesNoLiveTrialForDead() throws {
        // The leader reaps stale trials; under faketime its clock is an hour ahead of the worker's and the server's.
        // Were heartbeats or staleness on the processes' clocks, every trial the worker runs would look an hour old.
        let faketime = "/usr/bin/faketime"
        try #require(FileManager.default.isExecutableFile(atPath: faketime), "faketime: make test installs it")
        let big = directory.appendingPathComponent("moons-skew.csv").path
        #expect(try runTune(["generate", "moons", "--rows", "6000", "--seed", "5", "--out", big]).status == 0)
        let study = "skewed-\(UUID().uuidString)"
        let storage = ["--storage", server.address(), "--study", study]
        let worker = try start(["worker"] + storage + ["--exit-when-idle", "120"], log: "skew-worker.log")
        let leader = Process()
        leader.executableURL = URL(fileURLWithPath: faketime)
        leader.arguments =
            [
                "+1 hour", tuneExecutable().path, "search", "--data", big, "--target", "label", "--epochs", "40",
                "--strategy", "random", "--pruner", "none", "--trials", "4", "--stale-after", "2",
                "--out", directory.appendingPathComponent("skewed").path
            ] + storage
        leader.environment = ProcessInfo.processInfo.environment.merging(["PGPASSWORD": server.password]) { $1 }
        leader.standardOutput = FileHandle.nullDevice
        leader.standardError = FileHandle.nullDevice
        try leader.run()
        leader.waitUntilExit()
        worker.waitUntilExit()
        #expect(leader.terminationStatus == 0 && worker.terminationStatus == 0, "\(log("skew-worker.log"))")
        let rows = try server.psql(
            """
            SELECT t.state || ' ' || coalesce(p.value, '-') || ' ' || coalesce(st.value, '0')
            FROM tune_trials t JOIN tune_studies s ON s.id = t.study
            LEFT JOIN tune_attributes p ON p.study = t.study AND p.trial = t.number AND p.key = 'process'
            LEFT JOIN tune_attributes st ON st.study = t.study AND st.trial = t.number AND st.key = 'started_at'
            WHERE s.name = '\(study)' ORDER BY t.number
            """
        ).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.count == 4 && rows.allSatisfy { $0[0] == "complete" }, "no trial taken for dead: \(rows)")
        let now = Date().timeIntervalSince1970
        // The leader's trials are the others (faketime may run it as a child, with a pid of its own).
        let workers = rows.filter { $0[1].hasSuffix(":\(worker.processIdentifier)") }
        let leaders = rows.filter { !$0[1].hasSuffix(":\(worker.processIdentifier)") }
        #expect(!workers.isEmpty && !leaders.isEmpty, "both trained some: \(rows)")
        #expect(
            leaders.allSatisfy { (Double($0[2]) ?? 0) > now + 3000 },
            "the leader's clock was ahead: \(rows), now \(now)")
    }

    @Test func aWorkerCutOffLongerThanTheStaleLimitHasItsLateResultRefusedAndCarriesOn() throws {
        let big = directory.appendingPathComponent("moons-cut.csv").path
        #expect(try runTune(["generate", "moons", "--rows", "6000", "--seed", "6", "--out", big]).status == 0)
        let study = "cut-\(UUID().uuidString)"
        // The worker reaches the server through a link the test cuts; the leader directly.
        let proxy = try TCPProxy(to: server.port)
        let far = "postgresql://postgres@127.0.0.1:\(proxy.port)/postgres"
        let worker = try start(
            ["worker", "--storage", far, "--study", study, "--exit-when-idle", "120"], log: "cut-worker.log")
        let leader = try start(
            [
                "search", "--data", big, "--target", "label", "--epochs", "40", "--strategy", "random", "--pruner",
                "none", "--trials", "4", "--stale-after", "2", "--out", directory.appendingPathComponent("cut").path,
                "--storage", server.address(), "--study", study
            ], log: "cut-leader.log")
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, try trialsOf(study, process: worker.processIdentifier, state: "running") != "1" {
            Thread.sleep(forTimeInterval: 0.1)
        }
        proxy.cutOff()
        // Cut for longer than --stale-after: the leader takes the worker's trial for dead and queues it again.
        while Date() < deadline, try trialsOf(study, process: worker.processIdentifier, state: "failed") != "1" {
            Thread.sleep(forTimeInterval: 0.1)
        }
        proxy.mend()
        leader.waitUntilExit()
        worker.waitUntilExit()
        #expect(leader.terminationStatus == 0, "\(log("cut-leader.log"))")
        #expect(
            worker.terminationStatus == 0 && log("cut-worker.log").contains("taken for dead"),
            "\(log("cut-worker.log"))")
        let states = try server.psql(
            """
            SELECT t.state FROM tune_trials t JOIN tune_studies s ON s.id = t.study WHERE s.name = '\(study)'
            ORDER BY t.number
            """
        ).split(separator: "\n")
        #expect(
            states.filter { $0 == "failed" }.count == 1 && states.filter { $0 == "complete" }.count == 4, "\(states)")
    }

    /// How many of `study`'s trials in `state` the process `pid` claimed ("0" before the tables exist).
    func trialsOf(_ study: String, process pid: Int32, state: String) throws -> String {
        (try? server.psql(
            """
            SELECT count(*) FROM tune_attributes a JOIN tune_trials t ON t.study = a.study AND t.number = a.trial
            JOIN tune_studies s ON s.id = a.study WHERE s.name = '\(study)' AND a.key = 'process'
            AND a.value LIKE '%:\(pid)' AND t.state = '\(state)'
            """)) ?? "0"
    }

    @Test func aWorkerWhoseDataDiffersRefusesToStart() throws {
        let study = "other-data-\(UUID().uuidString)"
        let storage = ["--storage", server.address(), "--study", study]
        let leader = try runTune(
            [
                "search", "--data", data, "--target", "label", "--epochs", "2", "--strategy", "random", "--trials", "1",
                "--out", directory.appendingPathComponent("other-data").path
            ] + storage, environment: environment)
        #expect(leader.status == 0, "\(leader.error)")
        let other = directory.appendingPathComponent("other.csv").path
        #expect(try runTune(["generate", "moons", "--rows", "400", "--seed", "4", "--out", other]).status == 0)
        let worker = try runTune(["worker", "--data", other] + storage, environment: environment)
        #expect(worker.status == 2 && worker.error.contains("differs"), "\(worker.error)")
        let same = try runTune(["worker"] + storage, environment: environment)
        #expect(same.status == 0 && same.output.contains("finished"), "\(same.output) \(same.error)")
        let listed = try runTune(["studies", "--storage", server.address()], environment: environment)
        #expect(listed.status == 0 && listed.output.contains(study), "\(listed.output) \(listed.error)")
        #expect(!listed.output.contains(server.password) && !listed.error.contains(server.password))
    }
}
