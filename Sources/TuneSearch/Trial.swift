import Foundation

/// Where a trial stands.
public enum TrialState: String, Codable, Sendable {
    case running, complete, pruned, failed, waiting
    public var isFinished: Bool { self == .complete || self == .pruned || self == .failed }
}

/// A trial's record: its parameters, reported values and outcome.
public struct FrozenTrial: Codable, Sendable, Equatable {
    public var number: Int
    public var state: TrialState
    public var parameters: [String: ParameterValue] = [:]
    public var distributions: [String: Distribution] = [:]
    /// The objective's value, for a complete trial.
    public var value: Double?
    /// Values reported while running, by step.
    public var intermediate: [Int: Double] = [:]
    /// Why a trial failed.
    public var failure: String?
    /// Free-form attributes (the successive-halving rungs a trial passed, ...).
    public var attributes: [String: String] = [:]

    public init(number: Int, state: TrialState) {
        self.number = number
        self.state = state
    }

    /// The last reported step, if any.
    public var lastStep: Int? { intermediate.keys.max() }
}

/// A running trial: suggests parameters (define-by-run) and reports intermediate values.
public final class Trial {
    public let study: Study
    public let number: Int
    /// Parameters fixed in advance (an enqueued configuration), used instead of sampling.
    let fixed: [String: ParameterValue]

    init(study: Study, number: Int, fixed: [String: ParameterValue]) {
        self.study = study
        self.number = number
        self.fixed = fixed
    }

    /// The record as stored now.
    public var frozen: FrozenTrial { get throws { try study.storage.trial(number) } }

    /// A parameter drawn from `distribution` (or the value already chosen for `name` in this trial).
    public func suggest(_ name: String, _ distribution: Distribution) throws -> ParameterValue {
        if let problem = distribution.problem { throw SearchError.invalidDistribution(name: name, problem) }
        let current = try frozen
        if let existing = current.parameters[name] {
            guard current.distributions[name] == distribution else {
                throw SearchError.invalidDistribution(name: name, "asked again with another range in the same trial")
            }
            return existing
        }
        let value: ParameterValue
        if let f = fixed[name], distribution.contains(f) {
            value = f
        } else {
            value = try study.sampler.sample(study: study, trial: current, name: name, distribution: distribution)
        }
        try study.storage.setParameter(number, name: name, value: value, distribution: distribution)
        return value
    }

    /// A float in [low, high]: on a log scale when `log` (for learning rates), on multiples of `step` when given.
    public func suggestFloat(_ name: String, _ low: Double, _ high: Double, log: Bool = false, step: Double? = nil)
        throws -> Double
    {
        try suggest(name, .float(low: low, high: high, log: log, step: step)).double!
    }

    /// An integer in [low, high], on multiples of `step`, on a log scale when `log`.
    public func suggestInt(_ name: String, _ low: Int, _ high: Int, step: Int = 1, log: Bool = false) throws -> Int {
        try suggest(name, .int(low: low, high: high, step: step, log: log)).int!
    }

    /// One of `choices`.
    public func suggestCategorical(_ name: String, _ choices: [ParameterValue]) throws -> ParameterValue {
        try suggest(name, .categorical(choices))
    }

    /// Reports the objective's value after `step` (an epoch), for pruning.
    public func report(_ value: Double, step: Int) throws {
        try study.storage.report(number, value: value, step: step)
        lastBeat = clock()
    }

    /// When this process last wrote the trial's heartbeat (seconds, by `clock`).
    private var lastBeat = -Double.infinity
    var clock: () -> Double = { Date().timeIntervalSince1970 }

    /// Keeps the trial alive in a study that takes a trial for dead after `staleAfter` seconds without a heartbeat:
    /// beats every quarter of that.
    public func keepAlive(staleAfter: Double) { keepAlive(every: staleAfter / 4) }

    /// Refreshes the trial's heartbeat when `interval` seconds have passed since this process last did (or reported),
    /// so that an epoch longer than the study's stale limit does not make the trial look dead. Cheap enough to call at
    /// every step; a write that fails (a busy database) is left for the next call.
    public func keepAlive(every interval: Double) {
        let now = clock()
        guard now - lastBeat >= interval else { return }
        lastBeat = now
        try? study.storage.heartbeat(number)
    }

    /// Whether the study's pruner says to stop this trial now.
    public func shouldPrune() throws -> Bool {
        try study.pruner.shouldPrune(study: study, reading: { try frozen })
    }
}

/// Errors of the search engine.
public enum SearchError: Error, CustomStringConvertible, Equatable {
    case invalidDistribution(name: String, String)
    /// Raised inside an objective to stop a trial that the pruner has pruned.
    case pruned
    case unknownTrial(Int)
    /// A study file that cannot be used: its path and what is wrong.
    case storage(path: String, String)

    public var description: String {
        switch self {
        case let .invalidDistribution(name, problem): return "parameter '\(name)': \(problem)"
        case .pruned: return "the trial was pruned"
        case .unknownTrial(let n): return "no trial \(n) in the study"
        case let .storage(path, problem): return "\(path): \(problem)"
        }
    }
}
