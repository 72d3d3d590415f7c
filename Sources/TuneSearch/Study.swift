import Foundation

/// A value as compact JSON with sorted keys (how the storages keep parameters and distributions).
package func sortedJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Whether the objective is to be made small or large.
public enum Direction: String, Codable, Sendable {
    case minimize, maximize

    /// Whether `a` is better than `b`.
    public func isBetter(_ a: Double, than b: Double) -> Bool { self == .minimize ? a < b : a > b }
}

/// A search over parameters, in Optuna's manner: a sampler proposes, the objective measures, a pruner stops hopeless
/// trials early, a storage keeps everything.
///
/// ```swift
/// let study = Study(direction: .maximize, sampler: TPESampler(seed: 1))
/// try study.optimize(trials: 50) { trial in
///     let lr = try trial.suggestFloat("lr", 1e-5, 1e-1, log: true)
///     return train(lr: lr)
/// }
/// ```
public final class Study {
    public let direction: Direction
    public let sampler: any Sampler
    public let pruner: any Pruner
    public let storage: any StudyStorage

    public init(
        direction: Direction, sampler: any Sampler = RandomSampler(seed: 0), pruner: any Pruner = NoPruner(),
        storage: any StudyStorage = InMemoryStorage()
    ) {
        self.direction = direction
        self.sampler = sampler
        self.pruner = pruner
        self.storage = storage
    }

    /// Every trial so far.
    public var trials: [FrozenTrial] { get throws { try storage.allTrials() } }

    /// The complete trial with the best value.
    public var bestTrial: FrozenTrial? {
        get throws {
            try trials.filter { $0.state == .complete && $0.value != nil }.min { a, b in
                direction.isBetter(a.value!, than: b.value!) || (a.value! == b.value! && a.number < b.number)
            }
        }
    }

    /// The attribute of a waiting trial that holds its enqueued configuration (JSON).
    public static let fixedParametersKey = "fixed_parameters"

    /// Queues a known configuration as a waiting trial in the storage (so that it survives the process and any
    /// process sharing the study can run it): the next trial asked takes these values for the parameters it suggests.
    /// `attributes` are written before the configuration, so that the trial is never claimed without them.
    @discardableResult
    public func enqueue(_ parameters: [String: ParameterValue], attributes: [String: String] = [:]) throws -> Int {
        let json = try sortedJSON(parameters)
        let number = try storage.createTrial(state: .waiting)
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            try storage.setAttribute(number, key: key, value: value)
        }
        try storage.setAttribute(number, key: Self.fixedParametersKey, value: json)
        return number
    }

    /// A new running trial, never a queued one (unlike `ask`).
    public func newTrial() throws -> Trial {
        Trial(study: self, number: try storage.createTrial(state: .running), fixed: [:])
    }

    /// The oldest waiting trial, now running, or nil when none waits (unlike `ask`, never a new trial).
    public func claimWaiting() throws -> Trial? {
        guard let waiting = try storage.claimWaitingTrial() else { return nil }
        return try trial(claimed: waiting)
    }

    private func trial(claimed waiting: FrozenTrial) throws -> Trial {
        let json = waiting.attributes[Self.fixedParametersKey] ?? "{}"
        guard let fixed = try? JSONDecoder().decode([String: ParameterValue].self, from: Data(json.utf8)) else {
            throw SearchError.storage(
                path: "trial \(waiting.number)", "the enqueued configuration is unreadable: \(json)")
        }
        return Trial(study: self, number: waiting.number, fixed: fixed)
    }

    /// A running trial: the oldest waiting one if any, else a new one.
    public func ask() throws -> Trial {
        try claimWaiting() ?? newTrial()
    }

    /// Records a trial's outcome: a value (complete), or pruned or failed (with the reason).
    public func tell(_ trial: Trial, value: Double) throws {
        if value.isFinite {
            try storage.finish(trial.number, state: .complete, value: value, failure: nil)
        } else {
            try storage.finish(trial.number, state: .failed, value: nil, failure: "the objective returned \(value)")
        }
    }

    public func tell(_ trial: Trial, state: TrialState, failure: String? = nil) throws {
        // A pruned trial keeps its last reported value, when it is a number.
        var last: Double?
        if state == .pruned {
            let frozen = try trial.frozen
            last = frozen.lastStep.flatMap { frozen.intermediate[$0] }.flatMap { $0.isNaN ? nil : $0 }
        }
        try storage.finish(
            trial.number, state: state, value: last,
            failure: failure)
    }

    /// Runs `trials` trials one after the other. An objective that throws `SearchError.pruned` marks its trial pruned;
    /// any other error marks it failed with the error's description, and the study goes on. Only the storage's own
    /// errors (any other `SearchError`) stop the study. `onTrial` sees each trial as recorded.
    public func optimize(
        trials count: Int, _ objective: (Trial) throws -> Double,
        onTrial: (FrozenTrial) throws -> Void = { _ in }
    ) throws {
        for _ in 0..<count {
            try onTrial(try run(try ask(), objective))
        }
    }

    /// Runs `objective` on an asked trial and records the outcome as `optimize` does; returns the trial as recorded.
    @discardableResult
    public func run(_ trial: Trial, _ objective: (Trial) throws -> Double) throws -> FrozenTrial {
        let outcome: Result<Double, any Error> = Result { try objective(trial) }
        switch outcome {
        case .success(let value): try tell(trial, value: value)
        case .failure(SearchError.pruned): try tell(trial, state: .pruned)
        case .failure(let error as SearchError): throw error
        case .failure(let error): try tell(trial, state: .failed, failure: "\(error)")
        }
        return try trial.frozen
    }
}
