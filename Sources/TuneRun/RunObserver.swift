import TuneTraining

/// How a training run ended, as its trackers record it (MLflow's run statuses).
public enum RunEnd: String, Sendable {
    case finished = "FINISHED"
    /// Diverged, or no epoch had a finite value of the monitored metric, or its study failed it.
    case failed = "FAILED"
    /// Stopped early by a pruner.
    case killed = "KILLED"
}

/// Follows a training run as it goes: a tracker (a TensorBoard log, an MLflow run). `tune train`, every trial of a
/// study and each member of an ensemble hand their epochs and their end to one list of these.
public protocol RunObserver: AnyObject {
    func epoch(_ record: EpochRecord, history: History)
    func ended(_ end: RunEnd)
}

extension TensorBoardLog: RunObserver {
    /// Closes the HParams session: success only for a run that finished.
    public func ended(_ end: RunEnd) { sessionEnd(success: end == .finished) }
}

extension MLflowLog: RunObserver {
    public func epoch(_ record: EpochRecord, history: History) { epoch(record) }
    public func ended(_ end: RunEnd) { finish(end.rawValue) }
}
