import Foundation
import GRDB

/// A study kept in an SQLite file (through GRDB), so that it outlives its process and can be shared by several.
///
/// Every call is its own committed transaction in write-ahead-log mode: a process killed at any moment loses at most
/// the call it was making, never a finished trial, and readers see the file while another process writes. Writers
/// wait for each other up to `busyTimeout`. The file records its schema version (`PRAGMA user_version`) and the
/// study's direction; a file from a newer swift-tune, or a study with the other direction, is refused.
///
/// A running trial's heartbeat is refreshed at each of its writes (and by `heartbeat(_:)`); a trial left running by a
/// dead process is found by `failStaleTrials(olderThan:)`.
public final class SQLiteStorage: StudyStorage, @unchecked Sendable {
    /// The schema this version of swift-tune writes.
    public static let schemaVersion = 1

    public let path: String
    private let pool: DatabasePool
    private let clock: @Sendable () -> Double
    /// Finished trials already read (see `allTrials`).
    private var finishedCache: [Int: FrozenTrial] = [:]
    private let cacheLock = NSLock()

    /// Opens the study at `path`, creating it if needed.
    public var location: String { path }

    public init(
        path: String, direction: Direction, busyTimeout: TimeInterval = 30,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) throws {
        self.path = path
        self.clock = clock
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                if version > Self.schemaVersion {
                    throw SearchError.storage(
                        path: path,
                        "the study was written by a newer swift-tune (schema \(version), this one reads \(Self.schemaVersion))"
                    )
                }
                if version == 0 {
                    try db.execute(
                        sql: """
                            CREATE TABLE study (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                            CREATE TABLE trials (number INTEGER PRIMARY KEY, state TEXT NOT NULL, value REAL, failure TEXT,
                                                 heartbeat REAL NOT NULL);
                            CREATE TABLE parameters (trial INTEGER NOT NULL REFERENCES trials(number), name TEXT NOT NULL,
                                                     value TEXT NOT NULL, distribution TEXT NOT NULL, PRIMARY KEY (trial, name));
                            CREATE TABLE intermediate (trial INTEGER NOT NULL REFERENCES trials(number), step INTEGER NOT NULL,
                                                       value REAL, PRIMARY KEY (trial, step));
                            CREATE TABLE attributes (trial INTEGER NOT NULL REFERENCES trials(number), key TEXT NOT NULL,
                                                     value TEXT NOT NULL, PRIMARY KEY (trial, key));
                            """)
                    try db.execute(
                        sql: "INSERT INTO study (key, value) VALUES ('direction', ?)", arguments: [direction.rawValue])
                    try db.execute(sql: "PRAGMA user_version = \(Self.schemaVersion)")
                }
                let stored = try String.fetchOne(db, sql: "SELECT value FROM study WHERE key = 'direction'")
                guard stored == direction.rawValue else {
                    throw SearchError.storage(
                        path: path,
                        "the study was created to \(stored ?? "?") its objective, not to \(direction.rawValue) it")
                }
            }
        } catch let error as SearchError {
            throw error
        } catch {
            throw SearchError.storage(path: path, Self.describe(error))
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let e = error as? DatabaseError { return "SQLite: \(e.message ?? "error \(e.resultCode)")" }
        return "\(error)"
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let e as SearchError { throw e } catch {
            throw SearchError.storage(path: path, Self.describe(error))
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch let e as SearchError { throw e } catch {
            throw SearchError.storage(path: path, Self.describe(error))
        }
    }

    private func beat(_ db: Database, _ number: Int) throws {
        try db.execute(
            sql: "UPDATE trials SET heartbeat = ? WHERE number = ? AND state = 'running'", arguments: [clock(), number])
    }

    /// The number the next trial gets (inside a write transaction).
    private static func nextNumber(_ db: Database) throws -> Int {
        (try Int.fetchOne(db, sql: "SELECT MAX(number) FROM trials") ?? -1) + 1
    }

    public func createTrial(state: TrialState) throws -> Int {
        try write { db in
            let number = try Self.nextNumber(db)
            try db.execute(
                sql: "INSERT INTO trials (number, state, heartbeat) VALUES (?, ?, ?)",
                arguments: [number, state.rawValue, clock()])
            return number
        }
    }

    public func trial(_ number: Int) throws -> FrozenTrial {
        if let t = cached(number) { return t }
        guard
            let t = try read({ db in try Self.load(db, path: path, rows: Self.trialRows(db, path: path, only: number)) }
            ).first
        else {
            throw SearchError.unknownTrial(number)
        }
        remember([t])
        return t
    }

    /// All trials. A finished trial never changes, so its parameters, intermediate values and attributes are read
    /// from the file once and kept: samplers and pruners ask for the whole study at every suggestion and report, and
    /// rereading every finished trial's rows each time would grow as trials squared times epochs.
    public func allTrials() throws -> [FrozenTrial] {
        let all: [FrozenTrial] = try read { db in
            let rows = try Self.trialRows(db, path: path, only: nil)
            var known: [Int: FrozenTrial] = [:]
            let missing = rows.filter { row in
                guard let t = cached(row.number) else { return true }
                known[t.number] = t
                return false
            }
            for t in try Self.load(db, path: path, rows: missing) { known[t.number] = t }
            return rows.compactMap { known[$0.number] }
        }
        remember(all)
        return all
    }

    private func cached(_ number: Int) -> FrozenTrial? {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        return finishedCache[number]
    }

    private func remember(_ trials: [FrozenTrial]) {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        for t in trials where t.state.isFinished { finishedCache[t.number] = t }
    }

    private func forget(_ number: Int) {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        finishedCache[number] = nil
    }

    /// The trials table's rows: every trial, or only `only`.
    private static func trialRows(_ db: Database, path: String, only: Int?) throws -> [FrozenTrial] {
        let sql =
            "SELECT number, state, value, failure FROM trials" + (only == nil ? "" : " WHERE number = ?")
            + " ORDER BY number"
        return try Row.fetchAll(db, sql: sql, arguments: only.map { [$0] } ?? []).map { row in
            let number: Int = row["number"]
            let raw: String = row["state"]
            guard let state = TrialState(rawValue: raw) else {
                throw SearchError.storage(path: path, "trial \(number) has an unknown state '\(raw)'")
            }
            var t = FrozenTrial(number: number, state: state)
            t.value = row["value"]
            t.failure = row["failure"]
            return t
        }
    }

    /// `rows` completed with their parameters, intermediate values and attributes (read in chunks, keeping each
    /// statement's bound arguments well under SQLite's limit).
    private static func load(_ db: Database, path: String, rows: [FrozenTrial]) throws -> [FrozenTrial] {
        var trials = Dictionary(uniqueKeysWithValues: rows.map { ($0.number, $0) })
        let decoder = JSONDecoder()
        for start in stride(from: 0, to: rows.count, by: 500) {
            let numbers = rows[start..<min(start + 500, rows.count)].map(\.number)
            let filter = " WHERE trial IN (" + Array(repeating: "?", count: numbers.count).joined(separator: ",") + ")"
            let arguments = StatementArguments(numbers)
            for row in try Row.fetchAll(
                db, sql: "SELECT trial, name, value, distribution FROM parameters" + filter, arguments: arguments)
            {
                let number: Int = row["trial"], name: String = row["name"]
                let value: String = row["value"], distribution: String = row["distribution"]
                do {
                    trials[number]?.parameters[name] = try decoder.decode(ParameterValue.self, from: Data(value.utf8))
                    trials[number]?.distributions[name] = try decoder.decode(
                        Distribution.self, from: Data(distribution.utf8))
                } catch {
                    throw SearchError.storage(
                        path: path, "trial \(number), parameter '\(name)': unreadable value or distribution")
                }
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT trial, step, value FROM intermediate" + filter, arguments: arguments)
            {
                let value: Double? = row["value"]
                // SQLite stores NaN as NULL.
                trials[row["trial"] as Int]?.intermediate[row["step"] as Int] = value ?? .nan
            }
            for row in try Row.fetchAll(
                db, sql: "SELECT trial, key, value FROM attributes" + filter, arguments: arguments)
            {
                trials[row["trial"] as Int]?.attributes[row["key"] as String] = row["value"] as String
            }
        }
        return rows.compactMap { trials[$0.number] }
    }

    public func setParameter(_ number: Int, name: String, value: ParameterValue, distribution: Distribution) throws {
        let v = try sortedJSON(value), d = try sortedJSON(distribution)
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO parameters (trial, name, value, distribution) VALUES (?, ?, ?, ?)",
                arguments: [number, name, v, d])
            try beat(db, number)
        }
    }

    public func report(_ number: Int, value: Double, step: Int) throws {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO intermediate (trial, step, value) VALUES (?, ?, ?)",
                arguments: [number, step, value.isNaN ? nil : value])
            try beat(db, number)
        }
    }

    public func setAttribute(_ number: Int, key: String, value: String) throws {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO attributes (trial, key, value) VALUES (?, ?, ?)",
                arguments: [number, key, value])
        }
        forget(number)
    }

    public func finish(_ number: Int, state: TrialState, value: Double?, failure: String?) throws {
        try write { db in
            // Only a running trial finishes: one taken for dead (and queued again) keeps its record, so that a
            // finished trial never changes.
            try db.execute(
                sql: "UPDATE trials SET state = ?, value = ?, failure = ? WHERE number = ? AND state = 'running'",
                arguments: [state.rawValue, value.flatMap { $0.isNaN ? nil : $0 }, failure, number])
            if db.changesCount == 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM trials WHERE number = ?", arguments: [number]) == 0
            {
                throw SearchError.unknownTrial(number)
            }
        }
    }

    public func claimWaitingTrial() throws -> FrozenTrial? {
        let number: Int? = try write { db in
            // Only once its configuration is written (enqueueing takes two calls).
            guard
                let n = try Int.fetchOne(
                    db,
                    sql: """
                        SELECT MIN(number) FROM trials WHERE state = 'waiting'
                        AND number IN (SELECT trial FROM attributes WHERE key = ?)
                        """, arguments: [Study.fixedParametersKey])
            else { return nil }
            try db.execute(
                sql: "UPDATE trials SET state = 'running', heartbeat = ? WHERE number = ?", arguments: [clock(), n])
            return n
        }
        return try number.map { try trial($0) }
    }

    /// Study attributes share the study table with the direction, under a prefix of their own.
    public func studyAttribute(_ key: String) throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT value FROM study WHERE key = ?", arguments: ["attribute:" + key])
        }
    }

    public func setStudyAttribute(_ key: String, value: String) throws {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO study (key, value) VALUES (?, ?)", arguments: ["attribute:" + key, value])
        }
    }

    /// Refreshes a running trial's heartbeat (a long epoch with nothing to report).
    public func heartbeat(_ number: Int) throws {
        try write { db in try beat(db, number) }
    }

    @discardableResult
    public func failStaleTrials(olderThan seconds: Double, requeue: Bool) throws -> [Int] {
        let now = clock()
        return try write { db in
            let stale = try Int.fetchAll(
                db, sql: "SELECT number FROM trials WHERE state = 'running' AND heartbeat < ? ORDER BY number",
                arguments: [now - seconds])
            for number in stale {
                try db.execute(
                    sql: "UPDATE trials SET state = 'failed', failure = ? WHERE number = ?",
                    arguments: [Self.staleFailure(seconds), number])
                guard requeue else { continue }
                let retry = try Self.nextNumber(db)
                try db.execute(
                    sql: "INSERT INTO trials (number, state, heartbeat) VALUES (?, 'waiting', ?)",
                    arguments: [retry, now])
                var fixed: [String: ParameterValue] = [:]
                for row in try Row.fetchAll(
                    db, sql: "SELECT name, value FROM parameters WHERE trial = ?", arguments: [number])
                {
                    let value: String = row["value"], name: String = row["name"]
                    fixed[name] = try? JSONDecoder().decode(ParameterValue.self, from: Data(value.utf8))
                }
                try db.execute(
                    sql: "INSERT INTO attributes (trial, key, value) VALUES (?, ?, ?), (?, 'retry_of', ?)",
                    arguments: [retry, Study.fixedParametersKey, try sortedJSON(fixed), retry, String(number)])
            }
            return stale
        }
    }
}
