import Foundation
import TestSupport
import Testing
import TunePostgres
@testable import TuneSearch

/// What every `StudyStorage` must do, run against each backend: a new backend (PostgreSQL) joins `Backend` and must
/// pass the same tests.
@Suite("Every study storage behaves the same")
struct StorageConformanceTests {
    final class Clock: @unchecked Sendable { var now = 1000.0 }

    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case memory, sqlite, postgres
        var testDescription: String { rawValue }

        /// A fresh storage with a clock the test sets, and a second handle on the same trials (another process's
        /// connection, for a database; the same object in memory).
        func make(_ clock: Clock) throws -> (any StudyStorage, () throws -> any StudyStorage) {
            switch self {
            case .memory:
                let storage = InMemoryStorage(clock: { clock.now })
                return (storage, { storage })
            case .sqlite:
                let path = scratchDirectory("conformance").appendingPathComponent("study.sqlite").path
                let storage = try SQLiteStorage(path: path, direction: .minimize, clock: { clock.now })
                return (storage, { try SQLiteStorage(path: path, direction: .minimize, clock: { clock.now }) })
            case .postgres:
                // A study of its own on the test run's scratch server; the second handle is a second connection.
                var address = try PostgresAddress(try ScratchPostgres.shared.get().address())
                address.password = try ScratchPostgres.shared.get().password
                let name = "conformance-\(UUID().uuidString)"
                let open = {
                    try PostgresStorage(address: address, study: name, direction: .minimize, clock: { clock.now })
                }
                return (try open(), open)
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func trialsAreNumberedInOrderAndReadBackWithEverythingWritten(_ backend: Backend) throws {
        let (storage, other) = try backend.make(Clock())
        let a = try storage.createTrial(state: .running), b = try storage.createTrial(state: .running)
        let numbers: [Int] = [a, b]
        #expect(numbers == [0, 1])
        try storage.setParameter(
            a, name: "lr", value: .double(0.01), distribution: .float(low: 1e-4, high: 1, log: true, step: nil))
        try storage.setParameter(
            a, name: "act", value: .string("swish"), distribution: .categorical([.string("relu"), .string("swish")]))
        try storage.report(a, value: 0.5, step: 1)
        try storage.report(a, value: .nan, step: 2)
        try storage.setAttribute(a, key: "stage", value: "1")
        try storage.finish(a, state: .complete, value: 0.25, failure: nil)
        try storage.finish(b, state: .failed, value: nil, failure: "out of memory")
        let read = try other().trial(a)
        #expect(read.parameters == ["lr": .double(0.01), "act": .string("swish")])
        #expect(read.intermediate[1] == 0.5 && read.intermediate[2]?.isNaN == true)
        #expect(read.attributes["stage"] == "1" && read.state == .complete && read.value == 0.25)
        let all = try other().allTrials()
        #expect(all.map(\.number) == [0, 1] && all[1].state == .failed && all[1].failure == "out of memory")
    }

    @Test(arguments: Backend.allCases)
    func aFinishedTrialNeverChanges(_ backend: Backend) throws {
        let (storage, _) = try backend.make(Clock())
        let t = try storage.createTrial(state: .running)
        try storage.finish(t, state: .complete, value: 1, failure: nil)
        try storage.finish(t, state: .failed, value: nil, failure: "late")
        let read = try storage.trial(t)
        #expect(read.state == .complete && read.value == 1 && read.failure == nil)
    }

    @Test(arguments: Backend.allCases)
    func waitingTrialsAreClaimedOldestFirstOnceEachAndOnlyWhenWritten(_ backend: Backend) throws {
        let (storage, other) = try backend.make(Clock())
        let study = Study(direction: .minimize, storage: storage)
        try study.enqueue(["lr": .double(0.01)])
        try study.enqueue(["lr": .double(0.1)])
        let half = try storage.createTrial(state: .waiting)  // an enqueue half done: no configuration yet
        let second = try other()
        #expect(try second.claimWaitingTrial()?.number == 0)
        #expect(try storage.claimWaitingTrial()?.number == 1)
        #expect(try second.claimWaitingTrial() == nil)
        try storage.setAttribute(half, key: Study.fixedParametersKey, value: #"{"lr":{"double":0.5}}"#)
        let claimed = try #require(try second.claimWaitingTrial())
        #expect(claimed.number == half && claimed.state == .running)
        #expect(try storage.allTrials().allSatisfy { $0.state == .running })
    }

    @Test(arguments: Backend.allCases)
    func twoClaimersAtOnceNeverTakeTheSameTrial(_ backend: Backend) throws {
        let (storage, other) = try backend.make(Clock())
        let study = Study(direction: .minimize, storage: storage)
        for i in 0..<40 { try study.enqueue(["i": .int(i)]) }
        final class Box: @unchecked Sendable {
            var claimed: [[Int]] = [[], []], errors: [String] = []
            var handles: [any StudyStorage] = []
        }
        let box = Box(), lock = NSLock()
        box.handles = [storage, try other()]
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            var mine: [Int] = []
            do {
                while let t = try box.handles[worker].claimWaitingTrial() { mine.append(t.number) }
            } catch {
                lock.lock(); box.errors.append("\(error)"); lock.unlock()
            }
            lock.lock(); box.claimed[worker] = mine; lock.unlock()
        }
        #expect(box.errors.isEmpty, "\(box.errors)")
        #expect((box.claimed[0] + box.claimed[1]).sorted() == Array(0..<40), "every trial claimed once: \(box.claimed)")
    }

    @Test(arguments: Backend.allCases)
    func trialsLeftRunningByADeadProcessAreFoundByTheirHeartbeat(_ backend: Backend) throws {
        let clock = Clock()
        let (storage, _) = try backend.make(clock)
        let study = Study(direction: .minimize, storage: storage)
        let done = try study.ask()
        try study.tell(done, value: 1)
        let abandoned = try study.ask()  // its process dies: no more heartbeats
        try abandoned.report(0.5, step: 1)  // heartbeat at 1000
        clock.now = 1100
        let alive = try study.ask()  // heartbeat at 1100
        clock.now = 1130
        #expect(try storage.failStaleTrials(olderThan: 60) == [abandoned.number])
        let trials = try study.trials
        #expect(
            trials[done.number].state == .complete && trials[done.number].value == 1, "finished trials are untouched")
        #expect(
            trials[abandoned.number].state == .failed && trials[abandoned.number].failure?.contains("heartbeat") == true
        )
        #expect(trials[alive.number].state == .running)
        // A heartbeat keeps a trial alive without a report.
        clock.now = 1150
        try storage.heartbeat(alive.number)
        clock.now = 1200
        #expect(try storage.failStaleTrials(olderThan: 60).isEmpty)

        // Requeued: the dead trial's configuration comes back as a waiting trial, which the next ask takes.
        let dying = try study.ask()
        let lr = try dying.suggestFloat("lr", 1e-4, 1, log: true)
        clock.now = 2000
        #expect(try storage.failStaleTrials(olderThan: 60, requeue: true) == [alive.number, dying.number])
        let retry = try study.ask()
        #expect(try retry.frozen.attributes["retry_of"] == String(alive.number), "the oldest waiting trial first")
        let second = try study.ask()
        #expect(try second.frozen.attributes["retry_of"] == String(dying.number))
        #expect(try second.suggestFloat("lr", 1e-4, 1, log: true) == lr, "the same configuration, measured again")
    }
}
