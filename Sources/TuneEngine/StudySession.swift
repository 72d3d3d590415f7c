import Foundation
import TuneData
import TuneReport
import TuneRun
import TuneSearch
import TuneTraining

/// A study in an output directory as every strategy runs it (the recipe and the classic searches alike): the
/// directory and its `study.sqlite`, the trials a stopped process left running, the MLflow parent run (started by the
/// leading process, its id left in the directory for the workers), the one `--jobs` protocol, and the end:
/// `summary.json`, `report.html` and the parent run's record.
///
/// The `--jobs` protocol: the leading process queues trials in the study (waiting trials, with their configuration
/// or, for a classic search, with none: the process that claims one samples it); every process, the leader
/// included, claims the oldest waiting trial and trains it. Workers do nothing else, and stop when the leader
/// closes their input (`Workers`).
package final class StudySession {
    package let settings: TrainSettings
    /// The output directory.
    package let out: String
    package let storage: any StudyStorage
    package let study: Study
    /// A worker trains what the leader queues; it starts no tracker and writes no summary.
    package let isWorker: Bool
    /// Seconds without a heartbeat after which a running trial is taken for dead.
    package let staleAfter: Double
    package let onNote: (String) -> Void
    /// The study's MLflow parent run (the leader's).
    package private(set) var parent: MLflowLog?
    /// The MLflow run the trials nest under: the leader's parent run, read from the output directory by workers.
    package private(set) var parentRun: String?

    /// Where the study is kept when it is not the output directory's file (a study shared with other machines).
    package let location: StudyLocation?
    /// Where the study is, for messages.
    package var studyDescription: String { location?.description ?? Self.studyPath(out) }

    /// The study's file in an output directory.
    package static func studyPath(_ out: String) -> String {
        URL(fileURLWithPath: out).appendingPathComponent("study.sqlite").path
    }

    /// Creates the output directory if needed and opens (or creates) the study: its `study.sqlite`, or the study at
    /// `location`.
    package init(
        settings: TrainSettings, direction: Direction, sampler: any Sampler, pruner: any Pruner, isWorker: Bool,
        staleAfter: Double, location: StudyLocation? = nil, onNote: @escaping (String) -> Void
    ) throws {
        guard let out = settings.out else {
            throw DataError(path: "tune search", "no output directory: pass --out DIR (the study lives there)")
        }
        self.settings = settings
        self.out = out
        self.isWorker = isWorker
        self.staleAfter = staleAfter
        self.onNote = onNote
        self.location = location
        try createOutputDirectory(out)
        storage = try location?.open(direction) ?? SQLiteStorage(path: Self.studyPath(out), direction: direction)
        study = Study(direction: direction, sampler: sampler, pruner: pruner, storage: storage)
        if let location { try prepareShared(location) }
        if isWorker { parentRun = MLflowLog.readParent(out: out) }
    }

    /// The leader's MLflow parent run, named `name` and the output directory's name, when a server is set.
    package func startParent(_ name: String, parameters: [String: String]) throws {
        guard !isWorker, MLflowLog.server(settings) != nil else { return }
        parent = MLflowLog.start(
            settings, name: "\(name) \(URL(fileURLWithPath: out).lastPathComponent)", parameters: parameters,
            tags: ["data": settings.data ?? "", "target": settings.target ?? ""], onNote: onNote)
        try MLflowLog.writeParent(parent, out: out)
        parentRun = parent?.run
    }

    /// Trials left running by a process that stopped (no heartbeat for `staleAfter` seconds): marked failed and, with
    /// `requeue`, their configurations queued again. Says which, ending the note with `then`.
    @discardableResult
    package func failStale(requeue: Bool, then: String) throws -> [Int] {
        let stale = try storage.failStaleTrials(olderThan: staleAfter, requeue: requeue)
        if !stale.isEmpty {
            onNote(
                "trials \(stale.map(String.init).joined(separator: ", ")) were left running by a process that "
                    + "stopped: \(then)")
        }
        return stale
    }

    /// Runs `body` on `trial` and records when it started and how long it took (the `started_at` and `seconds`
    /// attributes, which a resumed study's minutes budget counts).
    package func timed<T>(_ trial: Trial, _ body: () throws -> T) rethrows -> T {
        let began = Date()
        defer {
            try? storage.setAttribute(trial.number, key: "started_at", value: String(began.timeIntervalSince1970))
            try? storage.setAttribute(trial.number, key: "seconds", value: String(Date().timeIntervalSince(began)))
        }
        return try body()
    }

    /// A worker's loop: claims and trains the trials the leader queues until `shouldStop` (the leader closed the
    /// worker's input), which is checked between trials, so that a trial's whole work (its model kept when it is the
    /// best) is done before the worker goes. In a shared study the worker also stops when the leader has finished,
    /// or when no trial came for `idleLimit` seconds.
    /// When nothing waits, the queue is looked at again after 20 ms; in a shared study the pause doubles up to a
    /// second while the queue stays empty (many workers do not poll it fifty times a second), and a storage that
    /// signals queued trials (PostgreSQL's LISTEN/NOTIFY) wakes the worker at once, the poll staying as a fallback.
    package func work(_ train: (Trial) throws -> Void, shouldStop: () -> Bool, idleLimit: Double? = nil) throws {
        var pause = 0.02
        var idleSince = Date()
        while !shouldStop() {
            if let trial = try claim() {
                try train(trial)
                pause = 0.02
                idleSince = Date()
                continue
            }
            if location != nil && leaderFinished { return }
            if let idleLimit, Date().timeIntervalSince(idleSince) >= idleLimit {
                onNote("no trial to train for \(Int(idleLimit)) s: stopping (--exit-when-idle)")
                return
            }
            if let signal = storage as? any QueueSignal {
                signal.waitForQueued(upTo: pause)
            } else {
                Thread.sleep(forTimeInterval: pause)
            }
            // The workers of --jobs on one machine keep to 20 ms: the leader queues one slot at a time.
            if location != nil { pause = min(pause * 2, 1) }
        }
    }

    /// The leader's loop with workers: until `done` says so of the study's trials, claims and trains queued trials
    /// like any worker; when none waits, fails the trials of processes that died (`requeue`: their configurations
    /// queued again) and lets `refill` queue what is missing (it gets the trials, read again when stale ones changed).
    /// In a shared study `refill` is asked first at every turn, so that workers on other machines find trials
    /// queued while this process trains.
    package func serve(
        until done: ([FrozenTrial]) throws -> Bool, requeue: Bool, then: String,
        refill: ([FrozenTrial]) throws -> Void, train: (Trial) throws -> Void
    ) throws {
        while true {
            let trials = try study.trials
            if try done(trials) { return }
            if location != nil { try refill(trials) }
            if let trial = try claim() {
                try train(trial)
                continue
            }
            let stale = try failStale(requeue: requeue, then: then)
            // Read again when this turn's first refill queued trials (a shared study): the queue has changed since.
            try refill(stale.isEmpty && location == nil ? trials : try study.trials)
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// The oldest waiting trial, claimed, with this process's name on it (attribute `process`, host:pid).
    private func claim() throws -> Trial? {
        guard let trial = try study.claimWaiting() else { return nil }
        try storage.setAttribute(trial.number, key: Self.processKey, value: Self.processName)
        return trial
    }

    package static let processKey = "process"
    package static let processName = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"

    /// The processes that claimed the trials running now or started within the last `seconds`.
    package static func recentProcesses(_ trials: [FrozenTrial], within seconds: Double) -> Int {
        let since = Date().timeIntervalSince1970 - seconds
        return Set(
            trials.filter { t in
                t.state == .running || (t.attributes["started_at"].flatMap(Double.init) ?? 0) >= since
            }.compactMap { $0.attributes[processKey] }
        ).count
    }

    /// The leader's end: `summary.json` and `report.html` written; the parent run gets the best value, the test
    /// metrics and the files as artifacts. Returns the report.
    @discardableResult
    package func finish(
        summary: Data, monitor: MetricName, best: Double?, test: [String: Double] = [:],
        artifacts: [(name: String, data: Data)] = []
    ) throws -> Data {
        let directory = URL(fileURLWithPath: out)
        try writeAtomically(summary, to: directory.appendingPathComponent("summary.json"))
        if location != nil { try storage.setStudyAttribute(StudyLocation.Key.finished, value: "true") }
        let report = try ReportFiles.write(directory, storage: storage)
        if let parent {
            parent.artifact("report.html", report)
            if let best { parent.metrics(["best_\(monitor.rawValue)": best]) }
            parent.metrics(Dictionary(uniqueKeysWithValues: test.map { ("test_\($0.key)", $0.value) }))
            parent.artifact("summary.json", summary)
            for (name, data) in artifacts { parent.artifact(name, data) }
        }
        return report
    }
}
