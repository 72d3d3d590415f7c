import Foundation
import PostgresNIO
import TuneSearch

extension PostgresStorage {
    public func trial(_ number: Int) throws -> FrozenTrial {
        if let t = cached(number) { return t }
        let read = try run { s in try load(s, rows: try trialRows(s, only: number)) }
        guard let t = read.first else { throw SearchError.unknownTrial(number) }
        remember([t])
        return t
    }

    /// All trials, in one snapshot (a repeatable-read transaction). A finished trial's parameters, values and
    /// attributes are read once and kept (samplers ask for the whole study at every suggestion).
    public func allTrials() throws -> [FrozenTrial] {
        let all: [FrozenTrial] = try run { s in
            try s.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { _ = try? s.query("COMMIT") }
            let rows = try trialRows(s, only: nil)
            var known: [Int: FrozenTrial] = [:]
            let missing = rows.filter { row in
                guard let t = cached(row.number) else { return true }
                known[t.number] = t
                return false
            }
            for t in try load(s, rows: missing) { known[t.number] = t }
            return rows.compactMap { known[$0.number] }
        }
        remember(all)
        return all
    }

    /// The trials table's rows: every trial, or only `only`.
    private func trialRows(_ s: Session, only: Int?) throws -> [FrozenTrial] {
        let result =
            if let only {
                try s.query(
                    "SELECT number, state, value, failure FROM tune_trials WHERE study = \(id) AND number = \(only)")
            } else {
                try s.query(
                    "SELECT number, state, value, failure FROM tune_trials WHERE study = \(id) ORDER BY number")
            }
        return try result.map { row in
            let (number, raw, value, failure) = try row.decode((Int, String, Double?, String?).self)
            guard let state = TrialState(rawValue: raw) else {
                throw PostgresFailure(message: "trial \(number) has an unknown state '\(raw)'")
            }
            var t = FrozenTrial(number: number, state: state)
            t.value = value
            t.failure = failure
            return t
        }
    }

    /// `rows` completed with their parameters, intermediate values and attributes.
    private func load(_ s: Session, rows: [FrozenTrial]) throws -> [FrozenTrial] {
        guard !rows.isEmpty else { return [] }
        var trials = Dictionary(uniqueKeysWithValues: rows.map { ($0.number, $0) })
        let numbers = rows.map(\.number)
        let decoder = JSONDecoder()
        for row in try s.query(
            """
            SELECT trial, name, value, distribution FROM tune_parameters
            WHERE study = \(id) AND trial = ANY(\(numbers))
            """)
        {
            let (number, name, value, distribution) = try row.decode((Int, String, String, String).self)
            do {
                trials[number]?.parameters[name] = try decoder.decode(ParameterValue.self, from: Data(value.utf8))
                trials[number]?.distributions[name] = try decoder.decode(
                    Distribution.self, from: Data(distribution.utf8))
            } catch {
                throw PostgresFailure(message: "trial \(number), parameter '\(name)': unreadable value or distribution")
            }
        }
        for row in try s.query(
            "SELECT trial, step, value FROM tune_intermediate WHERE study = \(id) AND trial = ANY(\(numbers))")
        {
            let (number, step, value) = try row.decode((Int, Int, Double).self)
            trials[number]?.intermediate[step] = value
        }
        for row in try s.query(
            "SELECT trial, key, value FROM tune_attributes WHERE study = \(id) AND trial = ANY(\(numbers))")
        {
            let (number, key, value) = try row.decode((Int, String, String).self)
            trials[number]?.attributes[key] = value
        }
        return rows.compactMap { trials[$0.number] }
    }
}
