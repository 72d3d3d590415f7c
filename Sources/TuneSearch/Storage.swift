import Foundation

/// Where a study keeps its trials. Every call can fail (a disk, a lock), and the failure reaches the caller. The
/// in-memory storage is one; the SQLite storage (for studies that outlive a process or run in several) is another.
public protocol StudyStorage: AnyObject {
    /// Where the trials are kept, for messages (a file's path; never a password).
    var location: String { get }
    /// A new trial, numbered in creation order.
    func createTrial(state: TrialState) throws -> Int
    func trial(_ number: Int) throws -> FrozenTrial
    func allTrials() throws -> [FrozenTrial]
    func setParameter(_ number: Int, name: String, value: ParameterValue, distribution: Distribution) throws
    func report(_ number: Int, value: Double, step: Int) throws
    func setAttribute(_ number: Int, key: String, value: String) throws
    /// Records a running trial's outcome. A trial no longer running (taken for dead and queued again) is left as it
    /// is: a finished trial never changes.
    func finish(_ number: Int, state: TrialState, value: Double?, failure: String?) throws
    /// The oldest waiting (enqueued) trial whose configuration is written, now marked running, or nil when none
    /// waits. Atomic: two processes never claim the same trial.
    func claimWaitingTrial() throws -> FrozenTrial?
    /// Refreshes a running trial's heartbeat, so that other processes do not take it for dead. A trial's heartbeat is
    /// also refreshed when it is created, claimed, or reports a value.
    func heartbeat(_ number: Int) throws
    /// Marks failed every running trial whose heartbeat is older than `seconds` (its process stopped), with the reason,
    /// and returns their numbers. With `requeue`, each one's parameters go back in the queue as a new waiting trial
    /// (attribute `retry_of` names the trial it repeats), so the configuration is still measured.
    @discardableResult
    func failStaleTrials(olderThan seconds: Double, requeue: Bool) throws -> [Int]
    /// A value kept for the whole study (the settings it was started with, a digest of its data), or nil.
    func studyAttribute(_ key: String) throws -> String?
    /// Sets a value kept for the whole study, replacing the one of the same key.
    func setStudyAttribute(_ key: String, value: String) throws
}

/// A storage that keeps files for its study (the best trial's model), so that a study shared by several machines can
/// write them out on any of them.
public protocol StudyArtifacts {
    /// Keeps `data` under `name`, from `trial` whose objective is `value`, unless the file kept under that name comes
    /// from a better trial (by the study's direction; at a tie, the lower number). Atomic: of two processes keeping
    /// their trials' files at once, the better trial's stays.
    func keepArtifact(_ name: String, trial: Int, value: Double, data: Data) throws
    /// The file kept under `name`, and the trial it came from.
    func artifact(_ name: String) throws -> (trial: Int, data: Data)?
}

/// A storage that tells a process waiting for work when a trial is queued, so that idle workers need not poll.
public protocol QueueSignal {
    /// Returns when a trial may have been queued since the last call, or after `seconds` at most.
    func waitForQueued(upTo seconds: Double)
}

extension StudyStorage {
    /// Marks failed the running trials without a heartbeat for `seconds`, without queueing them again.
    @discardableResult
    public func failStaleTrials(olderThan seconds: Double) throws -> [Int] {
        try failStaleTrials(olderThan: seconds, requeue: false)
    }

    /// The failure recorded for a trial taken for dead.
    package static func staleFailure(_ seconds: Double) -> String {
        "no heartbeat for more than \(seconds) s: the process running it stopped"
    }
}

/// Trials kept in memory, safe to use from several threads.
public final class InMemoryStorage: StudyStorage, @unchecked Sendable {
    private var trials: [FrozenTrial] = []
    private var beats: [Double] = []
    private var studyAttributes: [String: String] = [:]
    private let lock = NSLock()
    private let clock: @Sendable () -> Double
    public var location: String { "memory" }

    public init(clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.clock = clock
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    public func createTrial(state: TrialState) -> Int {
        locked {
            trials.append(FrozenTrial(number: trials.count, state: state))
            beats.append(clock())
            return trials.count - 1
        }
    }

    public func heartbeat(_ number: Int) { locked { beat(number) } }

    private func beat(_ number: Int) {
        if trials[number].state == .running { beats[number] = clock() }
    }

    @discardableResult
    public func failStaleTrials(olderThan seconds: Double, requeue: Bool) -> [Int] {
        locked {
            let now = clock()
            let stale = trials.indices.filter { trials[$0].state == .running && beats[$0] < now - seconds }
            for number in stale {
                trials[number].state = .failed
                trials[number].failure = Self.staleFailure(seconds)
                guard requeue else { continue }
                var retry = FrozenTrial(number: trials.count, state: .waiting)
                retry.attributes[Study.fixedParametersKey] = (try? sortedJSON(trials[number].parameters)) ?? "{}"
                retry.attributes["retry_of"] = String(number)
                trials.append(retry)
                beats.append(now)
            }
            return stale
        }
    }

    public func trial(_ number: Int) -> FrozenTrial { locked { trials[number] } }

    public func studyAttribute(_ key: String) -> String? { locked { studyAttributes[key] } }

    public func setStudyAttribute(_ key: String, value: String) { locked { studyAttributes[key] = value } }

    public func allTrials() -> [FrozenTrial] { locked { trials } }

    public func setParameter(_ number: Int, name: String, value: ParameterValue, distribution: Distribution) {
        locked {
            trials[number].parameters[name] = value
            trials[number].distributions[name] = distribution
        }
    }

    public func report(_ number: Int, value: Double, step: Int) {
        locked {
            trials[number].intermediate[step] = value
            beat(number)
        }
    }

    public func setAttribute(_ number: Int, key: String, value: String) {
        locked { trials[number].attributes[key] = value }
    }

    public func claimWaitingTrial() -> FrozenTrial? {
        locked {
            // Only once its configuration is written (enqueueing takes two calls).
            guard
                let i = trials.firstIndex(where: {
                    $0.state == .waiting && $0.attributes[Study.fixedParametersKey] != nil
                })
            else {
                return nil
            }
            trials[i].state = .running
            beats[i] = clock()
            return trials[i]
        }
    }

    public func finish(_ number: Int, state: TrialState, value: Double?, failure: String?) {
        locked {
            guard trials[number].state == .running else { return }
            trials[number].state = state
            trials[number].value = value
            trials[number].failure = failure
        }
    }
}
