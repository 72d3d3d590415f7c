import Foundation
import TestSupport
import Testing
import TuneSearch

@testable import TunePostgres

/// Faults of the server itself, each on a server of its own (the shared one serves the other tests meanwhile).
@Suite("Studies on PostgreSQL survive the server's faults", .serialized)
struct PostgresFaultTests {
    @Test func workersReconnectAfterTheServerRestartsAndNoNumberIsLostOrRepeated() throws {
        // Durable, as a real server is (the scratch servers otherwise trade durability for speed).
        let server = try ScratchPostgres(settings: ["fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"]
        )
        defer { try? server.stop(immediate: true) }
        let address = try PostgresStorageTests.address(server), notes = PostgresStorageTests.Notes()
        let name = "restart"
        let first = try PostgresStorage(address: address, study: name, direction: .minimize)
        first.onNote = notes.add
        let study = Study(direction: .minimize, storage: first)
        for i in 0..<5 { try study.tell(try study.ask(), value: Double(i)) }
        let running = try study.ask()
        // Every connection cut at once; the server is back a moment later.
        try server.restartImmediately()
        try running.report(0.5, step: 1)
        try study.tell(running, value: 0.5)
        for i in 0..<5 { try study.tell(try study.ask(), value: Double(i)) }
        #expect(first.link.connectionCount == 2, "one new connection after the restart (notes: \(notes.all))")
        // Down for two seconds: the next write waits for it, saying so, instead of failing.
        try server.stop(immediate: true)
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 2)
            try? server.start()
        }
        try study.tell(try study.ask(), value: 9)
        #expect(
            notes.all.first?.contains("retrying") == true && notes.all.last?.contains("is back") == true, "\(notes.all)"
        )
        let trials = try first.allTrials()
        #expect(trials.map(\.number) == Array(0..<12), "no number lost or repeated")
        #expect(trials.allSatisfy { $0.state == .complete })
    }

    @Test func fortyWorkersUseOneConnectionEachUnderFiftyConnections() throws {
        let server = try ScratchPostgres(settings: ["max_connections": "50"])
        defer { try? server.stop(immediate: true) }
        let address = try PostgresStorageTests.address(server)
        let study = Study(
            direction: .minimize, storage: try PostgresStorage(address: address, study: "forty", direction: .minimize))
        for i in 0..<200 { try study.enqueue(["i": .int(i)]) }
        let peak = Peak()
        let claimed = try PostgresStorageTests.concurrently(40) { _ in
            let storage = try PostgresStorage(address: address, study: "forty", direction: .minimize)
            var mine: [Int] = []
            while let t = try storage.claimWaitingTrial() {
                mine.append(t.number)
                try storage.report(t.number, value: 1, step: 1)
                try storage.finish(t.number, state: .complete, value: 1, failure: nil)
                peak.see(try server.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'swift-tune'"))
            }
            return mine
        }
        #expect(claimed.flatMap { $0 }.sorted() == Array(0..<200))
        #expect(peak.value <= 41, "one connection per worker (and the queueing one): \(peak.value)")
    }

    @Test func workersBeyondTheServersLimitWaitForAConnectionInsteadOfFailing() throws {
        // Five connections in all, two of them kept for superusers: three for the workers, and eight workers.
        let server = try ScratchPostgres(settings: ["max_connections": "5", "superuser_reserved_connections": "0"])
        defer { try? server.stop(immediate: true) }
        let address = try PostgresStorageTests.address(server)
        _ = try PostgresStorage(address: address, study: "full", direction: .minimize)
        let notes = PostgresStorageTests.Notes()
        let created = try PostgresStorageTests.concurrently(8) { _ in
            // Each one connects, holds its connection a moment, writes, and leaves, freeing it for one that waits.
            let storage = try PostgresStorage(
                address: address, study: "full", direction: .minimize, onNote: notes.add)
            defer { storage.close() }
            Thread.sleep(forTimeInterval: 0.5)
            return try (0..<5).map { _ in try storage.createTrial(state: .waiting) }
        }
        #expect(created.flatMap { $0 }.sorted() == Array(0..<40))
        #expect(notes.all.contains { $0.contains("53300") }, "some waited for a connection: \(notes.all)")
    }
}

/// The largest count seen.
final class Peak: @unchecked Sendable {
    private let lock = NSLock()
    private var largest = 0
    var value: Int { lock.withLock { largest } }
    func see(_ text: String) { lock.withLock { largest = max(largest, Int(text) ?? 0) } }
}
