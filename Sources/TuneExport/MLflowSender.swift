import Foundation

/// Sends MLflow operations from a background thread, in the order they were queued, so that training never waits for
/// the server. When the server is down or failing (a request still fails after its retries), this operation and every
/// later one go to the spool on disk instead, for `tune mlflow-sync`; an operation the server refuses (an answer in
/// 400-499 other than about access, time or size: see `MLflowAnswer.refuses`) is dropped with a note, and the rest
/// goes on.
///
/// Notes are not printed from the background thread: `takeNotes()` hands them to the caller's thread.
public final class MLflowSender: @unchecked Sendable {
    let client: MLflowClient
    public let spool: MLflowSpool
    private let condition = NSCondition()
    private var queue: [MLflowOperation] = []
    private var ids: [String: MLflowRunID] = [:]
    private var experiments: [String: String] = [:]
    /// Runs whose creation the server refused: their later operations are dropped.
    private var refused: Set<String> = []
    private var spooling = false
    private var closed = false
    private var completed = 0
    private var notes: [String] = []
    private var started = false

    public init(client: MLflowClient, spool: MLflowSpool) {
        self.client = client
        self.spool = spool
    }

    /// Queues `op` (an artifact's bytes travel in `op.data`).
    public func enqueue(_ op: MLflowOperation) {
        condition.lock()
        defer { condition.unlock() }
        if closed {
            startSpooling(because: "operations came after the end", trainingGoesOn: false)
            keep(op)
            return
        }
        queue.append(op)
        if !started {
            started = true
            let thread = Thread { [self] in work() }
            thread.name = "swift-tune MLflow"
            thread.start()
        }
        condition.broadcast()
    }

    /// The notes made since the last call.
    public func takeNotes() -> [String] {
        condition.lock()
        defer { condition.unlock() }
        let taken = notes
        notes = []
        return taken
    }

    /// The server's id of the run `local`, waiting up to `timeout` seconds while its creation is queued; `local`
    /// itself when it is not on the server (then whatever names it as a parent is resolved by `tune mlflow-sync`).
    public func reference(_ local: String, timeout: TimeInterval) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while ids[local] == nil, queue.contains(where: { $0.kind == .createRun && $0.run == local }),
            condition.wait(until: deadline)
        {}
        return ids[local]?.run ?? local
    }

    /// Waits until everything queued is sent or kept, or until no operation has completed for `stall` seconds (a
    /// server that hangs); whether the queue is empty.
    @discardableResult
    public func drain(stall: TimeInterval = 20, limit: TimeInterval = .infinity) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return waitForQueue(stall: stall, limit: limit)
    }

    /// Under the lock: waits at most `limit` seconds in all.
    private func waitForQueue(stall: TimeInterval, limit: TimeInterval) -> Bool {
        let end = Date().addingTimeInterval(limit)
        var seen = completed
        var deadline = min(Date().addingTimeInterval(stall), end)
        while !queue.isEmpty {
            if !condition.wait(until: deadline) && (completed == seen || Date() >= end) { return false }
            if completed != seen {
                seen = completed
                deadline = min(Date().addingTimeInterval(stall), end)
            }
        }
        return true
    }

    /// Drains the queue (see `drain`), for at most `limit` seconds: when the server hangs or is too slow, what is left
    /// is kept on disk, the operation in flight too, since sending an operation twice changes nothing. Operations
    /// queued later are kept on disk. Returns how many operations this process kept.
    @discardableResult
    public func finish(stall: TimeInterval = 20, limit: TimeInterval = 60) -> Int {
        condition.lock()
        defer { condition.unlock() }
        if !waitForQueue(stall: stall, limit: limit) {
            startSpooling(
                because:
                    "the MLflow server did not take everything within \(Int(limit)) s of the end (or answered nothing for \(Int(stall)) s)",
                trainingGoesOn: false)
            for op in queue { keep(op) }
            queue.removeAll()
        }
        closed = true
        condition.broadcast()
        spool.close()
        return spool.count
    }

    /// Closes the sender before it sends anything: everything queued on it is kept on disk (a process on its way
    /// out).
    public func closeNow() {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        condition.broadcast()
    }

    /// Under the lock: from now on operations go to the spool, after the runs already on the server.
    private func startSpooling(because reason: String, trainingGoesOn: Bool = true) {
        guard !spooling else { return }
        spooling = true
        notes.append(
            "MLflow: \(reason); \(trainingGoesOn ? "training goes on, and " : "")what is not sent is kept in \(spool.directory.path)"
        )
        for (local, id) in ids.sorted(by: { $0.key < $1.key }) {
            do { try spool.known(local, id) } catch {
                notes.append("MLflow: cannot keep what is not sent in \(spool.directory.path): \(error)")
            }
        }
    }

    /// Under the lock: writes `op` to the spool.
    private func keep(_ op: MLflowOperation) {
        do { try spool.append(op) } catch {
            notes.append(
                "MLflow: cannot keep \(op.kind.rawValue) for \(op.name ?? "a run") in \(spool.directory.path): \(error)"
            )
        }
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if closed {
                condition.unlock()
                return
            }
            if spooling {
                keep(queue[0])
                queue.removeFirst()
                completed += 1
                condition.broadcast()
                condition.unlock()
                continue
            }
            let (op, taken) = firstBatch()
            var ids = self.ids, experiments = self.experiments
            let refusedRun = refused.contains(op.run)
            condition.unlock()

            let attempt = refusedRun ? Attempt() : send(op, ids: &ids, experiments: &experiments)

            condition.lock()
            if closed {
                // finish() gave up on this operation and kept it.
                condition.unlock()
                return
            }
            self.ids = ids
            self.experiments = experiments
            if let note = attempt.note { notes.append(note) }
            if attempt.refuse { refused.insert(op.run) }
            if let failure = attempt.failure {
                startSpooling(because: failure)
                for kept in queue.prefix(taken) { keep(kept) }
            }
            queue.removeFirst(taken)
            completed += taken
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Under the lock: the first queued operation and how many queued operations it takes. Metrics queued one after
    /// another for the same run go in one request (at most 1000 values), with their parameters and tags.
    private func firstBatch() -> (op: MLflowOperation, taken: Int) {
        var op = queue[0]
        var taken = 1
        while op.kind == .log, taken < queue.count, queue[taken].kind == .log, queue[taken].run == op.run,
            (op.metrics?.count ?? 0) + (queue[taken].metrics?.count ?? 0) <= 1000
        {
            let next = queue[taken]
            op.metrics = (op.metrics ?? []) + (next.metrics ?? [])
            if let p = next.parameters { op.parameters = (op.parameters ?? [:]).merging(p) { _, b in b } }
            if let t = next.tags { op.tags = (op.tags ?? [:]).merging(t) { _, b in b } }
            taken += 1
        }
        return (op, taken)
    }

    /// What sending one operation came to: a failure (the server is down or failing: from then on operations are
    /// kept), a note of a refusal, and whether the refusal was of a run's creation.
    private struct Attempt {
        var failure: String?
        var note: String?
        var refuse = false
    }

    /// Outside the lock: sends `op`, with copies of the runs and experiments known, which it updates.
    private func send(
        _ op: MLflowOperation, ids: inout [String: MLflowRunID], experiments: inout [String: String]
    ) -> Attempt {
        var attempt = Attempt()
        do {
            try client.perform(op, ids: &ids, experiments: &experiments)
        } catch let rejected as MLflowRejected {
            attempt.note =
                "MLflow: the server refused \(op.kind.rawValue) for \(op.name ?? "run \(op.run)") (\(rejected.reason)); the rest is sent"
            attempt.refuse = op.kind == .createRun
        } catch let unresolved as MLflowUnresolved where op.kind == .createRun {
            attempt.failure = "the parent run \(unresolved.run) is not on the server"
        } catch {
            attempt.failure = "\(error)"
        }
        return attempt
    }
}
