import Foundation
import GRDB
import TestSupport
import Testing
@testable import TuneSearch

@Suite("Studies in SQLite")
struct SQLiteStorageTests {
    func temporaryPath() throws -> String {
        let dir = scratchDirectory("sqlite")
        return dir.appendingPathComponent("study.sqlite").path
    }

    /// A study whose trials use every kind of record: parameters, reports (one NaN), rung attributes, a failure.
    func run(_ study: Study, trials: Int) throws {
        try study.optimize(trials: trials) { t in
            let lr = try t.suggestFloat("lr", 1e-5, 1, log: true)
            let act = try t.suggestCategorical("activation", [.string("relu"), .string("swish")])
            let width = try t.suggestInt("width", 8, 128, log: true)
            if t.number == 4 { throw CocoaError(.fileReadCorruptFile) }
            for epoch in 1...3 {
                try t.report(epoch == 2 && t.number == 1 ? .nan : abs(log10(lr) + 3) / Double(epoch), step: epoch)
                if try t.shouldPrune() { throw SearchError.pruned }
            }
            return abs(log10(lr) + 3) + (act == .string("relu") ? 0.1 : 0) + Double(width) / 1000
        }
    }

    @Test func aStudyReadBackEqualsTheSameStudyInMemory() throws {
        let path = try temporaryPath()
        let onDisk = Study(
            direction: .minimize, sampler: TPESampler(seed: 3, startupTrials: 4), pruner: SuccessiveHalvingPruner(),
            storage: try SQLiteStorage(path: path, direction: .minimize))
        let inMemory = Study(
            direction: .minimize, sampler: TPESampler(seed: 3, startupTrials: 4), pruner: SuccessiveHalvingPruner())
        try run(onDisk, trials: 12)
        try run(inMemory, trials: 12)
        let reopened = try SQLiteStorage(path: path, direction: .minimize).allTrials()
        let expected = try inMemory.trials
        #expect(reopened.count == 12)
        // NaN is not equal to itself: compare the NaN report apart.
        #expect(reopened[1].intermediate[2]!.isNaN && expected[1].intermediate[2]!.isNaN)
        func withoutNaN(_ t: [FrozenTrial]) -> [FrozenTrial] {
            t.map {
                var t = $0; t.intermediate = t.intermediate.filter { !$0.value.isNaN }; return t
            }
        }
        #expect(
            withoutNaN(reopened) == withoutNaN(expected), "same seed, same trials, whether kept in memory or on disk")
        #expect(reopened[4].state == .failed && reopened[4].failure?.isEmpty == false)
        #expect(reopened.contains { $0.attributes["rung_0"] != nil })
    }

    @Test func aReaderThatKeepsFinishedTrialsStillSeesWhatAnotherProcessWrites() throws {
        let path = try temporaryPath()
        let reader = try SQLiteStorage(path: path, direction: .minimize)
        let writer = Study(
            direction: .minimize, sampler: RandomSampler(seed: 5),
            storage: try SQLiteStorage(path: path, direction: .minimize))
        try run(writer, trials: 3)
        #expect(try reader.allTrials().count == 3)
        let running = try writer.ask()
        _ = try running.suggestFloat("lr", 1e-5, 1, log: true)
        try running.report(0.5, step: 1)
        #expect(try reader.allTrials()[3].state == .running)
        try running.report(0.25, step: 2)
        try writer.tell(running, value: 0.25)
        try run(writer, trials: 2)
        let fresh = try SQLiteStorage(path: path, direction: .minimize).allTrials()
        let seen = try reader.allTrials()
        #expect(seen.count == 6)
        #expect(seen[3].state == .complete && seen[3].intermediate == [1: 0.5, 2: 0.25])
        func withoutNaN(_ t: [FrozenTrial]) -> [FrozenTrial] {
            t.map {
                var t = $0; t.intermediate = t.intermediate.filter { !$0.value.isNaN }; return t
            }
        }
        #expect(withoutNaN(seen) == withoutNaN(fresh), "the kept trials equal a fresh read of the file")
        #expect(try reader.trial(3) == fresh[3])
    }

    @Test func reopeningResumesTheStudyAndTheSamplerSeesTheOldTrials() throws {
        let path = try temporaryPath()
        let first = Study(
            direction: .minimize, sampler: TPESampler(seed: 8, startupTrials: 4),
            storage: try SQLiteStorage(path: path, direction: .minimize))
        try run(first, trials: 6)
        let resumed = Study(
            direction: .minimize, sampler: TPESampler(seed: 8, startupTrials: 4),
            storage: try SQLiteStorage(path: path, direction: .minimize))
        try run(resumed, trials: 6)
        let straight = Study(direction: .minimize, sampler: TPESampler(seed: 8, startupTrials: 4))
        try run(straight, trials: 12)
        #expect(try resumed.trials.map(\.number) == Array(0..<12))
        #expect(
            try resumed.trials.map(\.parameters) == straight.trials.map(\.parameters),
            "a study stopped after 6 trials and resumed proposes what an uninterrupted one does")
    }

    @Test func badFilesAndAMismatchedDirectionAreRefusedWithThePath() throws {
        let path = try temporaryPath()
        _ = try SQLiteStorage(path: path, direction: .maximize)
        #expect(
            throws: SearchError.storage(
                path: path, "the study was created to maximize its objective, not to minimize it")
        ) {
            try SQLiteStorage(path: path, direction: .minimize)
        }
        let newer = try temporaryPath()
        _ = try SQLiteStorage(path: newer, direction: .minimize)
        // A file from a future schema.
        try DatabaseQueue(path: newer).write { try $0.execute(sql: "PRAGMA user_version = 7") }
        #expect(
            throws: SearchError.storage(
                path: newer, "the study was written by a newer swift-tune (schema 7, this one reads 1)")
        ) {
            try SQLiteStorage(path: newer, direction: .minimize)
        }
        let garbage = try temporaryPath()
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: garbage))
        do {
            _ = try SQLiteStorage(path: garbage, direction: .minimize)
            Issue.record("a file that is not a database was opened")
        } catch let SearchError.storage(p, problem) {
            #expect(p == garbage && problem.contains("SQLite"), "\(problem)")
        }
    }

    @Test func wallTimeCountsTrialsThatRanAtOnceOnce() {
        // (0, 10) and (5, 15) overlap: 15 s; (20, 25): 5 s more; (30, 30) and (40, 35) are empty.
        #expect(wallSeconds([(20, 25), (0, 10), (5, 15), (30, 30), (40, 35)]) == 20)
        #expect(wallSeconds([(0, 10), (2, 3)]) == 10, "one inside another")
        #expect(wallSeconds([(0, 1), (1, 2)]) == 2, "touching")
        #expect(wallSeconds([]) == 0)
    }

    @Test func aLongEpochKeepsItsTrialAliveBetweenReports() throws {
        final class Clock: @unchecked Sendable { var now = 1000.0 }
        let clock = Clock()
        let storage = try SQLiteStorage(path: try temporaryPath(), direction: .minimize, clock: { clock.now })
        let study = Study(direction: .minimize, storage: storage)
        let trial = try study.ask()  // heartbeat at 1000
        trial.clock = { clock.now }
        trial.keepAlive(every: 30)  // the first call writes: 1000
        clock.now = 1020
        trial.keepAlive(every: 30)  // 20 s since the last: nothing written
        clock.now = 1040
        trial.keepAlive(every: 30)  // 40 s: written at 1040
        clock.now = 1100
        #expect(try storage.failStaleTrials(olderThan: 61).isEmpty, "60 s since 1040")
        try trial.report(0.5, step: 1)  // a report is a heartbeat too: 1100
        clock.now = 1120
        trial.keepAlive(every: 30)  // 20 s since the report: nothing written
        clock.now = 1135
        trial.keepAlive(every: 30)  // 35 s: written at 1135
        clock.now = 1190
        #expect(try storage.failStaleTrials(olderThan: 61).isEmpty, "55 s since 1135")
        clock.now = 1200
        #expect(
            try storage.failStaleTrials(olderThan: 61) == [trial.number], "65 s since the last beat: taken for dead")
    }

    @Test func anEnqueuedConfigurationWaitsInTheFileForWhicheverProcessAsksFirst() throws {
        let path = try temporaryPath()
        let producer = Study(direction: .minimize, storage: try SQLiteStorage(path: path, direction: .minimize))
        try producer.enqueue(["lr": .double(0.01), "width": .int(64)])
        try producer.enqueue(["lr": .double(0.1)])
        // Another process (here another connection pool) opens the study and takes both, in order, once each.
        let consumer = Study(
            direction: .minimize, sampler: RandomSampler(seed: 4),
            storage: try SQLiteStorage(path: path, direction: .minimize))
        let first = try consumer.ask(), second = try consumer.ask(), third = try consumer.ask()
        let (lr, width) = (try first.suggestFloat("lr", 1e-4, 1, log: true), try first.suggestInt("width", 8, 256))
        #expect(lr == 0.01 && width == 64)
        #expect(try second.suggestFloat("lr", 1e-4, 1, log: true) == 0.1)
        let numbers: [Int] = [first.number, second.number, third.number]
        #expect(numbers == [0, 1, 2])
        #expect(try producer.storage.claimWaitingTrial() == nil, "nothing is left waiting")
        // A waiting trial whose configuration is not written yet (an enqueue half done) is not taken.
        let half = try producer.storage.createTrial(state: .waiting)
        #expect(try producer.storage.claimWaitingTrial() == nil)
        try producer.storage.setAttribute(half, key: Study.fixedParametersKey, value: #"{"lr":{"double":0.5}}"#)
        #expect(try producer.storage.claimWaitingTrial()?.number == half)
    }

    @Test func twoWritersOnOneFileLoseNothing() throws {
        let path = try temporaryPath()
        _ = try SQLiteStorage(path: path, direction: .minimize)
        // Two connections pools on one file, as two processes would have, each running trials at once.
        let results = [Result<Void, any Error>?](repeating: nil, count: 2)
        final class Box: @unchecked Sendable { var results: [Result<Void, any Error>?] = [] }
        let box = Box()
        box.results = results
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            let outcome = Result {
                let study = Study(
                    direction: .minimize, sampler: RandomSampler(seed: UInt64(worker)),
                    storage: try SQLiteStorage(path: path, direction: .minimize))
                try study.optimize(trials: 25) { t in try t.suggestFloat("x", 0, 1) }
            }
            box.results[worker] = outcome
        }
        for r in box.results { try r!.get() }
        let trials = try SQLiteStorage(path: path, direction: .minimize).allTrials()
        #expect(trials.map(\.number) == Array(0..<50), "every trial numbered once")
        #expect(trials.allSatisfy { $0.state == .complete && $0.value == $0.parameters["x"]?.double })
    }
}
