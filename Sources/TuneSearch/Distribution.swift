import Foundation

/// A parameter's value: a number, an integer, a string or a boolean.
public enum ParameterValue: Codable, Hashable, Sendable, CustomStringConvertible {
    case double(Double), int(Int), string(String), bool(Bool)

    public var double: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
    public var int: Int? { if case .int(let i) = self { return i }; return nil }
    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }

    public var description: String {
        switch self {
        case .double(let d): return "\(d)"
        case .int(let i): return "\(i)"
        case .string(let s): return s
        case .bool(let b): return "\(b)"
        }
    }
}

/// The range a parameter is drawn from.
public enum Distribution: Codable, Hashable, Sendable {
    /// A float in [low, high], on a log scale when `log`, on multiples of `step` from `low` when given.
    case float(low: Double, high: Double, log: Bool, step: Double?)
    /// An integer in [low, high], on multiples of `step` from `low`, on a log scale when `log`.
    case int(low: Int, high: Int, step: Int, log: Bool)
    /// One of `choices`.
    case categorical([ParameterValue])

    /// What is wrong with this distribution, if anything.
    public var problem: String? {
        switch self {
        case let .float(low, high, log, step):
            if !(low <= high) || !low.isFinite || !high.isFinite {
                return "float range [\(low), \(high)] is empty or not finite"
            }
            if log && low <= 0 { return "a log-scale float needs low > 0, got \(low)" }
            if let step, !(step > 0) || log {
                return log ? "a float cannot have both log and step" : "step must be positive, got \(step)"
            }
        case let .int(low, high, step, log):
            if low > high { return "int range [\(low), \(high)] is empty" }
            if step < 1 { return "step must be at least 1, got \(step)" }
            if log && (low < 1 || step != 1) { return "a log-scale int needs low >= 1 and step 1" }
        case .categorical(let choices):
            if choices.isEmpty { return "a categorical parameter needs at least one choice" }
        }
        return nil
    }

    /// Whether `value` lies in this distribution.
    public func contains(_ value: ParameterValue) -> Bool {
        switch self {
        case let .float(low, high, _, step):
            guard let v = value.double, v >= low - 1e-12 * abs(low), v <= high + 1e-12 * abs(high) else { return false }
            guard let step else { return true }
            let k = (v - low) / step
            return abs(k - k.rounded()) < 1e-8
        case let .int(low, high, step, _):
            guard let v = value.int else { return false }
            return v >= low && v <= high && (v - low) % step == 0
        case .categorical(let choices):
            return choices.contains(value)
        }
    }

    /// The value's position in [0, 1] along the distribution's scale (log or linear), for numeric distributions.
    func unit(_ value: ParameterValue) -> Double? {
        switch self {
        case let .float(low, high, log, _):
            guard let v = value.double else { return nil }
            if high == low { return 0.5 }
            return log
                ? (Foundation.log(v) - Foundation.log(low)) / (Foundation.log(high) - Foundation.log(low))
                : (v - low) / (high - low)
        case let .int(low, high, _, log):
            guard let v = value.int.map(Double.init) else { return nil }
            if high == low { return 0.5 }
            return log
                ? (Foundation.log(v) - Foundation.log(Double(low)))
                    / (Foundation.log(Double(high)) - Foundation.log(Double(low)))
                : (v - Double(low)) / Double(high - low)
        case .categorical:
            return nil
        }
    }

    /// The value at position `u` in [0, 1] along the scale, snapped to the step (or choice).
    func value(atUnit u: Double) -> ParameterValue {
        let u = min(max(u, 0), 1)
        switch self {
        case let .float(low, high, log, step):
            var v =
                log
                ? Foundation.exp(Foundation.log(low) + u * (Foundation.log(high) - Foundation.log(low)))
                : low + u * (high - low)
            if let step { v = low + ((v - low) / step).rounded() * step }
            return .double(min(max(v, low), high))
        case let .int(low, high, step, log):
            let v =
                log
                ? Foundation.exp(
                    Foundation.log(Double(low)) + u * (Foundation.log(Double(high)) - Foundation.log(Double(low))))
                : Double(low) + u * Double(high - low)
            let snapped = low + Int(((v - Double(low)) / Double(step)).rounded()) * step
            return .int(min(max(snapped, low), high - (high - low) % step))
        case .categorical(let choices):
            return choices[min(Int(u * Double(choices.count)), choices.count - 1)]
        }
    }
}
