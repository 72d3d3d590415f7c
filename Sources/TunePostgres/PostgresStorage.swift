import Foundation
import PostgresNIO
import TuneSearch

/// A study kept in a PostgreSQL database, shared by worker processes on any number of machines.
///
/// The same `StudyStorage` as the SQLite and in-memory ones (the same conformance tests), made for many writers over a
/// network:
/// - Trial numbers are gapless within a study: the next number is a counter in the study's row, taken in the
///   transaction that inserts the trial (the row lock orders concurrent creations; there is no sequence to skip).
/// - A queued trial is claimed by one statement with `FOR UPDATE SKIP LOCKED`: two workers never win the same trial,
///   and none waits on a row another is claiming.
/// - The process that creates or claims a trial writes its token on it; reports, heartbeats and the outcome are
///   accepted only with that token while the trial runs. A worker that was taken for dead and comes back has its late
///   result refused (with a note), and carries on.
/// - Heartbeats and staleness use the server's clock, never a worker's, so a worker whose clock is off cannot make a
///   live trial look dead. A stale trial is failed and requeued in one transaction, which only one reaper can win.
/// - Creating and claiming are recorded with the call's own id, so a call retried after its answer was lost (the
///   connection cut after the commit) returns what the first attempt did instead of doing it twice.
/// - `float8` keeps NaN and the infinities as they were reported.
public final class PostgresStorage: StudyStorage, StudyArtifacts, QueueSignal, @unchecked Sendable {
    public let address: PostgresAddress
    /// The study's name, unique in the database.
    public let name: String
    public let direction: Direction
    let link: PostgresLink
    /// The study's row.
    let id: Int
    /// This process's claim token.
    let token = Int64.random(in: 1...Int64.max)
    /// A clock for tests (seconds); nil: the server's.
    private let clock: (@Sendable () -> Double)?
    private let cacheLock = NSLock()
    /// Finished trials already read, which never change (their attributes aside: `setAttribute` forgets them).
    private var finishedCache: [Int: FrozenTrial] = [:]
    /// Notifications of queued trials seen by `waitForQueued`.
    private var seenNotifications = 0

    /// Where the trials are, without credentials.
    public var location: String { "\(address) study '\(name)'" }

    /// Told when a late result is refused, and when the connection is lost and comes back.
    public var onNote: (String) -> Void {
        get { link.onNote }
        set { link.onNote = newValue }
    }

    /// Opens the study `name` at `address`, creating the tables and the study if needed. A study created to the
    /// other `direction` is refused; with `direction` nil (a worker joining), the study must exist and its direction
    /// is taken. `patience`: seconds of retrying an unreachable server before giving up; `onNote` is told when the
    /// connection is lost and back, and when a late result is refused.
    public init(
        address: PostgresAddress, study name: String, direction: Direction?, patience: Double = 600,
        clock: (@Sendable () -> Double)? = nil, onNote: @escaping (String) -> Void = { _ in }
    ) throws {
        self.address = address
        self.name = name
        self.clock = clock
        let link = PostgresLink(address: address, patience: patience, onNote: onNote)
        self.link = link
        do {
            (id, self.direction) = try link.run { s in
                try PostgresSchema.migrate(s)
                if let direction {
                    try s.query(
                        """
                        INSERT INTO tune_studies (name, direction) VALUES (\(name), \(direction.rawValue))
                        ON CONFLICT (name) DO NOTHING
                        """)
                }
                guard
                    let (id, stored) = try s.query("SELECT id, direction FROM tune_studies WHERE name = \(name)")
                        .first.map({ try $0.decode((Int, String).self) })
                else {
                    throw PostgresFailure(message: "no such study (tune studies --storage ... lists the studies)")
                }
                guard let found = Direction(rawValue: stored), direction == nil || direction == found else {
                    throw PostgresFailure(
                        message: "the study was created to \(stored) its objective, not to \(direction!.rawValue) it")
                }
                return (id, found)
            }
        } catch {
            throw SearchError.storage(path: "\(address) study '\(name)'", "\(PostgresFailure(error))")
        }
    }

    /// Closes the connection now (it is also closed when the storage goes away).
    public func close() { link.close() }

    /// Runs `body` on the connection, its failures said with the study's location.
    @discardableResult
    func run<T>(_ body: (Session) throws -> T) throws -> T {
        do { return try link.run(body) } catch let error as SearchError { throw error } catch {
            throw SearchError.storage(path: location, "\(PostgresFailure(error))")
        }
    }

    /// Now, in seconds since 1970: the test clock's, or nil for the server's (`serverClock`): statements write
    /// `coalesce(now, serverClock)`.
    var now: Double? { clock?() }

    /// The server's clock in seconds since 1970, as SQL.
    static let serverClock = "extract(epoch FROM now())::float8"

    /// The next trial number, counted in the study's row (inside a transaction).
    func nextNumber(_ s: Session) throws -> Int {
        for row in try s.query(
            "UPDATE tune_studies SET next_number = next_number + 1 WHERE id = \(id) RETURNING next_number - 1")
        {
            return try row.decode(Int.self)
        }
        throw PostgresFailure(message: "the study's row is gone (was the study deleted?)")
    }

    /// The trial an earlier attempt of call `op` created or claimed, when its answer was lost.
    private func done(_ s: Session, op: UUID) throws -> Int? {
        guard s.retrying else { return nil }
        for row in try s.query("SELECT number FROM tune_trials WHERE study = \(id) AND op = \(op)") {
            return try row.decode(Int.self)
        }
        return nil
    }

    /// One statement: the study's counter taken and the trial inserted together, so that the counter row is locked
    /// only for the statement (not across a transaction's round trips).
    public func createTrial(state: TrialState) throws -> Int {
        let op = UUID()
        let claim: Int64? = state == .running ? token : nil
        return try run { s in
            if let number = try done(s, op: op) { return number }
            let created = try s.query(
                """
                WITH next AS (
                    UPDATE tune_studies SET next_number = next_number + 1 WHERE id = \(id)
                    RETURNING next_number - 1 AS number)
                INSERT INTO tune_trials (study, number, state, heartbeat, claim, op)
                SELECT \(id), number, \(state.rawValue), coalesce(\(now), \(unescaped: Self.serverClock)),
                    \(claim), \(op)
                FROM next
                RETURNING number
                """)
            guard let number = try created.first?.decode(Int.self) else {
                throw PostgresFailure(message: "the study's row is gone (was the study deleted?)")
            }
            return number
        }
    }

    public func claimWaitingTrial() throws -> FrozenTrial? {
        let op = UUID()
        let number: Int? = try run { s in
            if let number = try done(s, op: op) { return number }
            let claimed = try s.query(
                """
                UPDATE tune_trials SET state = 'running', claim = \(token), op = \(op),
                    heartbeat = coalesce(\(now), \(unescaped: Self.serverClock))
                WHERE study = \(id) AND number = (
                    SELECT w.number FROM tune_trials w
                    WHERE w.study = \(id) AND w.state = 'waiting' AND EXISTS (
                        SELECT 1 FROM tune_attributes a
                        WHERE a.study = w.study AND a.trial = w.number AND a.key = \(Study.fixedParametersKey))
                    ORDER BY w.number LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING number
                """)
            for row in claimed { return try row.decode(Int.self) }
            return nil
        }
        return try number.map { try trial($0) }
    }

    public func setParameter(_ number: Int, name: String, value: ParameterValue, distribution: Distribution) throws {
        let v = try sortedJSON(value), d = try sortedJSON(distribution)
        try run { s in
            try s.query(
                """
                INSERT INTO tune_parameters (study, trial, name, value, distribution)
                VALUES (\(id), \(number), \(name), \(v), \(d))
                ON CONFLICT (study, trial, name) DO UPDATE SET value = EXCLUDED.value,
                    distribution = EXCLUDED.distribution
                """)
        }
        try heartbeat(number)
    }

    public func report(_ number: Int, value: Double, step: Int) throws {
        let written = try run { s in
            try s.query(
                """
                WITH mine AS (
                    UPDATE tune_trials SET heartbeat = coalesce(\(now), \(unescaped: Self.serverClock))
                    WHERE study = \(id) AND number = \(number) AND state = 'running' AND claim = \(token)
                    RETURNING number)
                INSERT INTO tune_intermediate (study, trial, step, value)
                SELECT \(id), number, \(step), \(value) FROM mine
                ON CONFLICT (study, trial, step) DO UPDATE SET value = EXCLUDED.value
                """
            ).metadata.rows ?? 0
        }
        if written == 0 { try refused(number, what: "its value at step \(step)") }
    }

    /// Writing a waiting trial's configuration makes it claimable: the study's channel is notified in the same
    /// statement, which wakes the workers waiting in `waitForQueued`.
    public func setAttribute(_ number: Int, key: String, value: String) throws {
        let queues = key == Study.fixedParametersKey
        try run { s in
            try s.query(
                """
                WITH written AS (
                    INSERT INTO tune_attributes (study, trial, key, value) VALUES (\(id), \(number), \(key), \(value))
                    ON CONFLICT (study, trial, key) DO UPDATE SET value = EXCLUDED.value RETURNING trial)
                SELECT pg_notify(\(channel), '') FROM written WHERE \(queues)
                """)
        }
        forget(number)
    }

    /// The study's notification channel.
    var channel: String { "tune_queue_\(id)" }

    /// Waits on the study's channel (LISTEN on this process's connection) for a trial to be queued.
    public func waitForQueued(upTo seconds: Double) {
        do { try link.listen(channel) } catch {
            Thread.sleep(forTimeInterval: seconds)
            return
        }
        seenNotifications = link.waitForNotification(after: seenNotifications, upTo: seconds)
    }

    public func finish(_ number: Int, state: TrialState, value: Double?, failure: String?) throws {
        let written = try run { s in
            try s.query(
                """
                UPDATE tune_trials SET state = \(state.rawValue), value = \(value), failure = \(failure)
                WHERE study = \(id) AND number = \(number) AND state = 'running' AND claim = \(token)
                """
            ).metadata.rows ?? 0
        }
        if written == 0 { try refused(number, what: "its outcome (\(state.rawValue))") }
    }

    public func heartbeat(_ number: Int) throws {
        try run { s in
            try s.query(
                """
                UPDATE tune_trials SET heartbeat = coalesce(\(now), \(unescaped: Self.serverClock))
                WHERE study = \(id) AND number = \(number) AND state = 'running' AND claim = \(token)
                """)
        }
    }

    /// A write of this process's that the trial did not take: said in a note when the trial was taken for dead
    /// (failed by another process for want of a heartbeat); a trial that does not exist is an error; a trial this
    /// process already finished stays as it is, silently.
    private func refused(_ number: Int, what: String) throws {
        let row = try run { s in
            try s.query("SELECT state, failure FROM tune_trials WHERE study = \(id) AND number = \(number)")
                .first.map { try $0.decode((String, String?).self) }
        }
        guard let (state, failure) = row else { throw SearchError.unknownTrial(number) }
        if state == TrialState.failed.rawValue, failure?.hasPrefix("no heartbeat") == true {
            onNote("trial \(number) was taken for dead by another process (\(failure ?? "")): \(what) is not recorded")
        }
    }

    @discardableResult
    public func failStaleTrials(olderThan seconds: Double, requeue: Bool) throws -> [Int] {
        let failure = Self.staleFailure(seconds)
        let stale = try run { s in
            try s.transaction {
                // The study's row first (as trial creation takes it), so that reapers and creators never deadlock.
                if requeue { try s.query("SELECT next_number FROM tune_studies WHERE id = \(id) FOR UPDATE") }
                let failed = try s.query(
                    """
                    UPDATE tune_trials SET state = 'failed', failure = \(failure), claim = NULL
                    WHERE study = \(id) AND state = 'running'
                        AND heartbeat < coalesce(\(now), \(unescaped: Self.serverClock)) - \(seconds)
                    RETURNING number
                    """
                ).map { try $0.decode(Int.self) }.sorted()
                if requeue {
                    for number in failed { try requeueTrial(s, number) }
                    if !failed.isEmpty { try s.query("SELECT pg_notify(\(channel), '')") }
                }
                return failed
            }
        }
        stale.forEach(forget)
        return stale
    }

    /// Queues `number`'s parameters again as a new waiting trial (attribute `retry_of`).
    private func requeueTrial(_ s: Session, _ number: Int) throws {
        let retry = try nextNumber(s)
        try s.query(
            """
            INSERT INTO tune_trials (study, number, state, heartbeat)
            VALUES (\(id), \(retry), 'waiting', coalesce(\(now), \(unescaped: Self.serverClock)))
            """)
        var fixed: [String: ParameterValue] = [:]
        for row in try s.query("SELECT name, value FROM tune_parameters WHERE study = \(id) AND trial = \(number)") {
            let (name, value) = try row.decode((String, String).self)
            fixed[name] = try? JSONDecoder().decode(ParameterValue.self, from: Data(value.utf8))
        }
        let json = try sortedJSON(fixed)
        try s.query(
            """
            INSERT INTO tune_attributes (study, trial, key, value)
            VALUES (\(id), \(retry), \(Study.fixedParametersKey), \(json)),
                (\(id), \(retry), 'retry_of', \(String(number)))
            """)
    }

    func forget(_ number: Int) { cacheLock.withLock { finishedCache[number] = nil } }

    func cached(_ number: Int) -> FrozenTrial? { cacheLock.withLock { finishedCache[number] } }

    func remember(_ trials: [FrozenTrial]) {
        cacheLock.withLock { for t in trials where t.state.isFinished { finishedCache[t.number] = t } }
    }
}
