import Foundation
import TuneData
import TuneNN
import TuneReport
import TuneRun
import TuneSearch
import TuneTraining
import Yams

/// What the classic strategies search: a distribution for each of some training settings, the others taken from the
/// `tune train` flags. From a YAML file (`--space`) and `--param` flags, or the standard space.
///
/// YAML: one key per setting, by its flag's name; a list is a set of choices, a mapping a range:
/// ```yaml
/// lr: {low: 1e-4, high: 1e-1, log: true}
/// width: {low: 16, high: 256, log: true}
/// depth: [1, 2, 3]
/// dropout: [0, 0.1, 0.3, 0.5]
/// weight-decay: {low: 1e-6, high: 1e-2, log: true}
/// ```
/// A flag is `--param NAME=LOW..HIGH`, `--param NAME=LOW..HIGH:log`, `--param NAME=LOW..HIGH:step=S` or
/// `--param NAME=A|B|C`. Integer settings (width, depth, batch-size, warmup) take integer ranges.
public struct SearchSpace: Sendable, Equatable {
    /// The settings a space may search: the searchable hyperparameters.
    public typealias Setting = Hyperparameter

    /// The searched settings, in a fixed order (the order they are suggested in).
    public private(set) var entries: [(setting: Setting, distribution: Distribution)] = []

    public init() {}

    public static func == (a: SearchSpace, b: SearchSpace) -> Bool {
        a.entries.map(\.setting) == b.entries.map(\.setting)
            && a.entries.map(\.distribution) == b.entries.map(\.distribution)
    }

    /// The standard space: learning rate (log 1e-4...1e-1), width (log 16...256), depth 1...3, dropout
    /// {0, 0.1, 0.3, 0.5}, ReLU or Swish.
    public static let standard: SearchSpace = {
        var s = SearchSpace()
        s.set(.lr, .float(low: 1e-4, high: 1e-1, log: true, step: nil))
        s.set(.width, .int(low: 16, high: 256, step: 1, log: true))
        s.set(.depth, .int(low: 1, high: 3, step: 1, log: false))
        s.set(.dropout, .categorical([.double(0), .double(0.1), .double(0.3), .double(0.5)]))
        s.set(.activation, .categorical([.string("relu"), .string("swish")]))
        return s
    }()

    /// Sets (or replaces) one setting's distribution.
    public mutating func set(_ setting: Setting, _ distribution: Distribution) {
        if let i = entries.firstIndex(where: { $0.setting == setting }) {
            entries[i].distribution = distribution
        } else {
            entries.append((setting, distribution))
        }
        let order = Setting.allCases
        entries.sort { order.firstIndex(of: $0.setting)! < order.firstIndex(of: $1.setting)! }
    }

    /// The distribution of `text` (a flag's value: `low..high[:log|:step=S]` or `a|b|c`) for `setting`, or what is
    /// wrong with it.
    static func distribution(_ setting: Setting, _ text: String) -> Result<Distribution, SpaceProblem> {
        if text.contains("|") || !text.contains("..") {
            return choices(setting, text.split(separator: "|").map { setting.value(String($0)) })
        }
        var parts = text.split(separator: ":").map { String($0).trimmingCharacters(in: .whitespaces) }
        let range = parts.removeFirst().components(separatedBy: "..")
        guard range.count == 2 else { return .failure("expected LOW..HIGH, got '\(text)'") }
        var log = false, step: String?
        for option in parts {
            if option == "log" {
                log = true
            } else if option.hasPrefix("step=") {
                step = String(option.dropFirst(5))
            } else {
                return .failure("unknown range option '\(option)' (log or step=S)")
            }
        }
        return self.range(setting, low: range[0], high: range[1], log: log, step: step)
    }

    static func choices(_ setting: Setting, _ values: [ParameterValue]) -> Result<Distribution, SpaceProblem> {
        guard !values.isEmpty else { return .failure("no choices") }
        if let bad = values.first(where: { setting.problem($0) != nil }) {
            return .failure("choice '\(bad)': \(setting.problem(bad)!)")
        }
        return .success(.categorical(values))
    }

    static func range(_ setting: Setting, low: String, high: String, log: Bool, step: String?) -> Result<
        Distribution, SpaceProblem
    > {
        if setting.takesChoices {
            return .failure("\(setting.rawValue) takes a list of choices, not a range")
        }
        let lo = setting.value(low), hi = setting.value(high)
        for v in [lo, hi] { if let p = setting.problem(v) { return .failure("'\(v)': \(p)") } }
        let distribution: Distribution
        if setting.isInteger {
            let s = step.map { Int($0) } ?? 1
            guard let s else { return .failure("step must be a whole number, got '\(step!)'") }
            distribution = .int(low: lo.int!, high: hi.int!, step: s, log: log)
        } else {
            let s = step.map { Double($0) } ?? nil
            if step != nil && s == nil { return .failure("step must be a number, got '\(step!)'") }
            distribution = .float(low: lo.double!, high: hi.double!, log: log, step: s)
        }
        if let p = distribution.problem { return .failure(SpaceProblem(stringLiteral: p)) }
        return .success(distribution)
    }

    /// Adds `--param NAME=SPEC` flags.
    public mutating func apply(flags: [String]) throws {
        for flag in flags {
            let pieces = flag.split(separator: "=", maxSplits: 1).map(String.init)
            guard pieces.count == 2, let setting = Setting(rawValue: pieces[0].trimmingCharacters(in: .whitespaces)),
                setting.isSearchable
            else {
                throw DataError(
                    path: "--param",
                    "expected NAME=LOW..HIGH[:log] or NAME=A|B|C with NAME one of \(Setting.searchable.map(\.rawValue).joined(separator: ", ")), got '\(flag)'"
                )
            }
            switch Self.distribution(setting, pieces[1]) {
            case .success(let d): set(setting, d)
            case .failure(let problem): throw DataError(path: "--param", "\(setting.rawValue): \(problem.text)")
            }
        }
    }

    /// Reads a YAML space file; every problem names the file, the line and the setting.
    public static func load(path: String) throws -> SearchSpace {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DataError(path: path, "cannot read the search space: \(error.localizedDescription)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw DataError(path: path, "not valid YAML: \(error)") }
        guard let mapping = root?.mapping, !mapping.isEmpty else {
            throw DataError(path: path, "expected a mapping of settings to ranges or lists of choices")
        }
        var space = SearchSpace()
        for (key, node) in mapping {
            let line = key.mark.map { $0.line }
            guard let name = key.string, let setting = Setting(rawValue: name), setting.isSearchable else {
                throw DataError(
                    path: path, line: line,
                    "unknown setting '\(key.string ?? "?")'; the searchable settings are: \(Setting.searchable.map(\.rawValue).joined(separator: ", "))"
                )
            }
            let result: Result<Distribution, SpaceProblem>
            if let list = node.sequence {
                result = choices(setting, list.map { setting.value($0.string ?? "") })
            } else if let range = node.mapping {
                let keys = Set(range.keys.compactMap(\.string))
                if let unknown = keys.subtracting(["low", "high", "log", "step"]).first {
                    throw DataError(
                        path: path, line: line, column: name,
                        "unknown key '\(unknown)' (a range has low, high, log, step)")
                }
                guard let low = range["low"]?.string, let high = range["high"]?.string else {
                    throw DataError(path: path, line: line, column: name, "a range needs low and high")
                }
                let log = range["log"].flatMap { $0.bool } ?? false
                result = Self.range(setting, low: low, high: high, log: log, step: range["step"]?.string)
            } else {
                result = .failure("expected a list of choices or a range {low, high, log, step}")
            }
            switch result {
            case .success(let d): space.set(setting, d)
            case .failure(let problem): throw DataError(path: path, line: line, column: name, problem.text)
            }
        }
        return space
    }

    /// The grid strategy's values: the choices of a list; for a range, its multiples of step when given, else a 10x
    /// log grid from its low end (log ranges; its high end added when the grid stops short of it) or five evenly
    /// spaced values (integers rounded, duplicates dropped).
    public var gridValues: [String: [ParameterValue]] {
        var grid: [String: [ParameterValue]] = [:]
        for (setting, distribution) in entries {
            switch distribution {
            case .categorical(let c):
                grid[setting.rawValue] = c
            case let .float(low, high, log, step):
                if let step, (high - low) / step <= 1000 {
                    grid[setting.rawValue] = stride(from: low, through: high + step * 1e-9, by: step).map {
                        .double($0)
                    }
                } else if log {
                    grid[setting.rawValue] = GridSampler.logGrid(low, high).map { .double($0) }
                } else {
                    grid[setting.rawValue] = (0..<5).map { .double(low + (high - low) * Double($0) / 4) }
                }
            case let .int(low, high, step, log):
                var values: [Int]
                if step > 1 || high - low < 5 {
                    values = Array(stride(from: low, through: high, by: step))
                } else if log {
                    values = (0..<5).map {
                        Int(
                            (Foundation.exp(
                                Foundation.log(Double(low))
                                    + (Foundation.log(Double(high)) - Foundation.log(Double(low))) * Double($0) / 4))
                                .rounded())
                    }
                } else {
                    values = (0..<5).map { low + Int((Double(high - low) * Double($0) / 4).rounded()) }
                }
                var seen = Set<Int>()
                values = values.filter { seen.insert($0).inserted }
                grid[setting.rawValue] = values.map { .int($0) }
            }
        }
        return grid
    }

    /// Draws every setting for `trial` and applies them to the network and the training configuration.
    func suggest(_ trial: Trial, specification: inout MLPSpecification, configuration: inout TrainingConfiguration)
        throws
    {
        var width: Int?, depth: Int?
        for (setting, distribution) in entries {
            let v = try trial.suggest(setting.rawValue, distribution)
            switch setting {
            case .width: width = v.int
            case .depth: depth = v.int
            default: setting.apply(v, to: &specification, &configuration)
            }
        }
        if width != nil || depth != nil {
            let w = width ?? specification.hiddenSizes.max() ?? 64
            specification.hiddenSizes = Array(repeating: w, count: depth ?? specification.hiddenSizes.count)
        }
    }

    /// The space as text, for the summary: `lr: float 0.0001...0.1 log, ...`.
    public var description: String {
        entries.map { e -> String in
            switch e.distribution {
            case let .float(l, h, log, step):
                return "\(e.setting.rawValue): \(l)...\(h)\(log ? " log" : "")\(step.map { " step \($0)" } ?? "")"
            case let .int(l, h, step, log):
                return "\(e.setting.rawValue): \(l)...\(h)\(log ? " log" : "")\(step > 1 ? " step \(step)" : "")"
            case .categorical(let c): return "\(e.setting.rawValue): \(c.map(\.description).joined(separator: "|"))"
            }
        }.joined(separator: ", ")
    }
}

/// What is wrong with one setting's range or choices.
struct SpaceProblem: Error, ExpressibleByStringInterpolation {
    let text: String
    init(stringLiteral value: String) { text = value }
}
