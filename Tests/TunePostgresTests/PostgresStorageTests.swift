import Foundation
import TestSupport
import Testing
import TuneSearch

@testable import TunePostgres

/// What a study on PostgreSQL promises beyond the conformance suite (which every storage passes): many writers over
/// connections of their own, the server's clock, late results refused, a server that restarts or is full.
@Suite("Studies on PostgreSQL")
struct PostgresStorageTests {
    /// The shared scratch server's address, with its password.
    static func address(_ server: ScratchPostgres? = nil, database: String = "postgres") throws -> PostgresAddress {
        let server = try server ?? ScratchPostgres.shared.get()
        var address = try PostgresAddress(server.address(database))
        address.password = server.password
        return address
    }

    static func fresh(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString)" }

    final class Notes: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    @Test func aLateResultOfATrialTakenForDeadIsRefusedWithANote() throws {
        final class Clock: @unchecked Sendable { var now = 1000.0 }
        let clock = Clock(), name = Self.fresh("late"), notes = Notes()
        let address = try Self.address()
        let slow = try PostgresStorage(address: address, study: name, direction: .minimize, clock: { clock.now })
        slow.onNote = notes.add
        let reaper = try PostgresStorage(address: address, study: name, direction: .minimize, clock: { clock.now })
        let study = Study(direction: .minimize, storage: slow)
        let trial = try study.ask()
        _ = try trial.suggestFloat("lr", 1e-4, 1, log: true)
        try trial.report(0.7, step: 1)
        clock.now = 1200
        #expect(try reaper.failStaleTrials(olderThan: 60, requeue: true) == [trial.number])
        // The worker comes back: its report and its outcome are refused, with a note, and it carries on.
        try trial.report(0.5, step: 2)
        try study.tell(trial, value: 0.5)
        let kept = try reaper.trial(trial.number)
        #expect(
            kept.state == .failed && kept.value == nil && kept.intermediate == [1: 0.7], "its values kept, as reaped")
        #expect(notes.all.count == 2 && notes.all.allSatisfy { $0.contains("taken for dead") }, "\(notes.all)")
        let retry = try #require(try reaper.allTrials().last)
        #expect(retry.state == .waiting && retry.attributes["retry_of"] == String(trial.number))
        // Another process's token cannot finish or report a trial either.
        let other = try reaper.createTrial(state: .running)
        try slow.finish(other, state: .complete, value: 1, failure: nil)
        #expect(try reaper.trial(other).state == .running)
    }

    @Test func heartbeatsAndStalenessAreOnTheServersClock() throws {
        let name = Self.fresh("clock"), server = try ScratchPostgres.shared.get()
        let storage = try PostgresStorage(address: try Self.address(), study: name, direction: .minimize)
        let t = try storage.createTrial(state: .running)
        let skew = try server.psql(
            """
            SELECT abs(t.heartbeat - extract(epoch FROM now()))::int FROM tune_trials t JOIN tune_studies s
            ON s.id = t.study WHERE s.name = '\(name)' AND t.number = \(t)
            """)
        #expect(skew == "0", "the heartbeat is the server's now()")
        #expect(try storage.failStaleTrials(olderThan: 30).isEmpty, "a live trial is not stale")
        try server.psql(
            """
            UPDATE tune_trials SET heartbeat = heartbeat - 100 FROM tune_studies s
            WHERE s.id = study AND s.name = '\(name)'
            """
        )
        #expect(try storage.failStaleTrials(olderThan: 30) == [t])
    }

    @Test func sixteenClaimersTakeTwoHundredQueuedTrialsEachOnce() throws {
        let name = Self.fresh("claimers"), address = try Self.address()
        let study = Study(
            direction: .minimize, storage: try PostgresStorage(address: address, study: name, direction: .minimize))
        for i in 0..<200 { try study.enqueue(["i": .int(i)]) }
        let claimed = try Self.concurrently(16) { _ in
            let storage = try PostgresStorage(address: address, study: name, direction: .minimize)
            var mine: [Int] = []
            while let t = try storage.claimWaitingTrial() {
                mine.append(t.number)
                try storage.finish(t.number, state: .complete, value: 0, failure: nil)
            }
            return mine
        }
        #expect(claimed.flatMap { $0 }.sorted() == Array(0..<200), "each claimed once")
        #expect(claimed.filter { !$0.isEmpty }.count > 1, "the claims spread over the claimers")
    }

    @Test func aClaimerThatDiesBeforeCommittingLeavesItsTrialToAnother() throws {
        let name = Self.fresh("uncommitted"), server = try ScratchPostgres.shared.get()
        let storage = try PostgresStorage(address: try Self.address(), study: name, direction: .minimize)
        let study = Study(direction: .minimize, storage: storage)
        try study.enqueue(["i": .int(0)])
        try study.enqueue(["i": .int(1)])
        // Another client claims trial 0 and dies before committing (the server notices within half a second).
        let dying = try server.psqlInBackground([
            "SET client_connection_check_interval = 500", "BEGIN",
            """
            UPDATE tune_trials SET state = 'running' FROM tune_studies s
            WHERE s.id = study AND s.name = '\(name)' AND number = 0
            """,
            "SELECT pg_sleep(60)"
        ])
        defer { dying.terminate() }
        let deadline = Date().addingTimeInterval(20)
        while try server.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'") != "1",
            Date() < deadline
        {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let started = Date()
        #expect(try storage.claimWaitingTrial()?.number == 1, "the locked trial is skipped, not waited for")
        #expect(try storage.claimWaitingTrial() == nil)
        #expect(Date().timeIntervalSince(started) < 2)
        kill(dying.processIdentifier, SIGKILL)
        dying.waitUntilExit()
        var claimed: FrozenTrial?
        while claimed == nil, Date() < deadline {
            claimed = try storage.claimWaitingTrial()
            if claimed == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(claimed?.number == 0 && claimed?.state == .running, "its claim rolled back: another takes the trial")
    }

    @Test func anIdleWorkerIsWokenWhenATrialIsQueuedInsteadOfPolling() throws {
        let name = Self.fresh("notify"), address = try Self.address()
        let worker = try PostgresStorage(address: address, study: name, direction: .minimize)
        let leader = try PostgresStorage(address: address, study: name, direction: .minimize)
        worker.waitForQueued(upTo: 0.01)  // listening from now on
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.5)
            _ = try? Study(direction: .minimize, storage: leader).enqueue(["i": .int(1)])
        }
        let started = Date()
        worker.waitForQueued(upTo: 20)
        let waited = Date().timeIntervalSince(started)
        #expect(waited > 0.3 && waited < 5, "woken by the queued trial after \(waited) s, not at the 20 s fallback")
        #expect(try worker.claimWaitingTrial()?.number == 0)
        let idle = Date()
        worker.waitForQueued(upTo: 0.5)
        #expect(Date().timeIntervalSince(idle) >= 0.45, "nothing queued: the wait lasts its time")
    }

    @Test func trialsCreatedAtOnceGetGaplessNumbers() throws {
        let name = Self.fresh("numbers"), address = try Self.address()
        let created = try Self.concurrently(8) { _ in
            let storage = try PostgresStorage(address: address, study: name, direction: .maximize)
            return try (0..<25).map { _ in try storage.createTrial(state: .running) }
        }
        #expect(created.flatMap { $0 }.sorted() == Array(0..<200))
    }

    @Test func theStudyKeepsTheBetterTrialsFile() throws {
        let storage = try PostgresStorage(
            address: try Self.address(), study: Self.fresh("artifact"), direction: .maximize)
        try storage.keepArtifact("best", trial: 3, value: 0.8, data: Data("three".utf8))
        try storage.keepArtifact("best", trial: 5, value: 0.7, data: Data("five".utf8))
        #expect(try storage.artifact("best")?.trial == 3, "a worse trial does not replace it")
        try storage.keepArtifact("best", trial: 7, value: 0.9, data: Data("seven".utf8))
        let kept = try #require(try storage.artifact("best"))
        #expect(kept.trial == 7 && kept.data == Data("seven".utf8))
        #expect(try storage.artifact("other") == nil)
    }

    @Test func studiesAreListedWithTheirProgress() throws {
        let name = Self.fresh("listed"), address = try Self.address()
        let study = Study(
            direction: .maximize, storage: try PostgresStorage(address: address, study: name, direction: .maximize))
        try study.tell(try study.ask(), value: 0.5)
        try study.tell(try study.ask(), value: 0.75)
        _ = try study.ask()
        try study.enqueue(["x": .int(1)])
        let listed = try #require(try PostgresStorage.studies(at: address).first { $0.name == name })
        #expect(listed.complete == 2 && listed.running == 1 && listed.waiting == 1 && listed.best == 0.75)
        #expect(listed.direction == .maximize && listed.trials == 4)
        #expect(throws: SearchError.self) {
            try PostgresStorage(address: address, study: name, direction: .minimize)
        }
        #expect(throws: SearchError.self, "a worker joins only an existing study") {
            try PostgresStorage(address: address, study: Self.fresh("missing"), direction: nil)
        }
    }

    @Test func aDatabaseWrittenByANewerSwiftTuneIsRefused() throws {
        let server = try ScratchPostgres.shared.get()
        let database = "newer_\(UUID().uuidString.prefix(8).lowercased())"
        try server.psql("CREATE DATABASE \(database)")
        try server.psql(
            "CREATE TABLE tune_schema (version integer PRIMARY KEY); INSERT INTO tune_schema VALUES (99)",
            database: database)
        let error = #expect(throws: SearchError.self) {
            try PostgresStorage(address: try Self.address(database: database), study: "s", direction: .minimize)
        }
        #expect("\(error!)".contains("newer swift-tune"), "\(error!)")
    }

    @Test func aWrongPasswordFailsAtOnceWithoutShowingIt() throws {
        var address = try Self.address()
        address.password = "not-the-password-\(UUID().uuidString)"
        let started = Date()
        let error = #expect(throws: SearchError.self) {
            try PostgresStorage(address: address, study: "s", direction: .minimize)
        }
        let text = "\(error!)"
        #expect(!text.contains(address.password!) && text.contains("127.0.0.1"), "\(text)")
        #expect(text.contains("28P01"), "the server's code for a failed password: \(text)")
        #expect(Date().timeIntervalSince(started) < 30, "not retried as if the server were away")
    }

    /// Runs `body` on `count` threads at once (threads of their own: a dispatch queue would run only as many as
    /// there are cores); their results in order, or the first error.
    static func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let results = ConcurrentResults<T>(count)
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let value = try body(i)
                    results.lock.withLock { results.values[i] = value }
                } catch {
                    results.lock.withLock { results.errors.append("\(error)") }
                }
            }
        }
        group.wait()
        if let first = results.errors.first { throw ScratchError(first) }
        return results.values.map { $0! }
    }
}

/// What the threads of `concurrently` found.
final class ConcurrentResults<T>: @unchecked Sendable {
    var values: [T?]
    var errors: [String] = []
    let lock = NSLock()
    init(_ count: Int) { values = Array(repeating: nil, count: count) }
}
