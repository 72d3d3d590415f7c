import Foundation

/// Where a study keeps its trials. Every call can fail (a disk, a lock), and the failure reaches the caller. The
/// in-memory storage is one; the SQLite storage (for studies that outlive a process or run in several) is another.
public protocol StudyStorage: AnyObject {
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
    /// Refreshes a running trial's heartbeat, so that other processes do not take it for dead.
    func heartbeat(_ number: Int) throws
}

extension StudyStorage {
    /// A storage that only this process uses needs no heartbeat.
    public func heartbeat(_ number: Int) throws {}
}

/// Trials kept in memory, safe to use from several threads.
public final class InMemoryStorage: StudyStorage, @unchecked Sendable {
    private var trials: [FrozenTrial] = []
    private let lock = NSLock()

    public init() {}

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    public func createTrial(state: TrialState) -> Int {
        locked {
            trials.append(FrozenTrial(number: trials.count, state: state))
            return trials.count - 1
        }
    }

    public func trial(_ number: Int) -> FrozenTrial { locked { trials[number] } }

    public func allTrials() -> [FrozenTrial] { locked { trials } }

    public func setParameter(_ number: Int, name: String, value: ParameterValue, distribution: Distribution) {
        locked {
            trials[number].parameters[name] = value
            trials[number].distributions[name] = distribution
        }
    }

    public func report(_ number: Int, value: Double, step: Int) { locked { trials[number].intermediate[step] = value } }

    public func setAttribute(_ number: Int, key: String, value: String) { locked { trials[number].attributes[key] = value } }

    public func claimWaitingTrial() -> FrozenTrial? {
        locked {
            // Only once its configuration is written (enqueueing takes two calls).
            guard let i = trials.firstIndex(where: { $0.state == .waiting && $0.attributes[Study.fixedParametersKey] != nil }) else {
                return nil
            }
            trials[i].state = .running
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
