import Foundation
import PostgresNIO
import TuneSearch

extension PostgresStorage {
    public func studyAttribute(_ key: String) throws -> String? {
        try run { s in
            try s.query("SELECT value FROM tune_study_attributes WHERE study = \(id) AND key = \(key)")
                .first.map { try $0.decode(String.self) }
        }
    }

    public func setStudyAttribute(_ key: String, value: String) throws {
        try run { s in
            try s.query(
                """
                INSERT INTO tune_study_attributes (study, key, value) VALUES (\(id), \(key), \(value))
                ON CONFLICT (study, key) DO UPDATE SET value = EXCLUDED.value
                """)
        }
    }

    public func keepArtifact(_ name: String, trial: Int, value: Double, data: Data) throws {
        let better = direction == .maximize ? ">" : "<"
        try run { s in
            try s.query(
                """
                INSERT INTO tune_artifacts (study, name, trial, value, data)
                VALUES (\(id), \(name), \(trial), \(value), \(data))
                ON CONFLICT (study, name) DO UPDATE
                SET trial = EXCLUDED.trial, value = EXCLUDED.value, data = EXCLUDED.data
                WHERE tune_artifacts.value IS NULL OR tune_artifacts.value = 'NaN'
                    OR EXCLUDED.value \(unescaped: better) tune_artifacts.value
                    OR (EXCLUDED.value = tune_artifacts.value AND EXCLUDED.trial <= tune_artifacts.trial)
                """)
        }
    }

    public func artifact(_ name: String) throws -> (trial: Int, data: Data)? {
        try run { s in
            try s.query("SELECT trial, data FROM tune_artifacts WHERE study = \(id) AND name = \(name)")
                .first.map { row in
                    try row.decode((Int, Data).self)
                }
        }
    }

    /// The studies in the database at `address` and how far each has got, read without taking any lock a writer
    /// waits for. Empty when swift-tune has not created its tables there yet.
    public static func studies(at address: PostgresAddress, patience: Double = 30) throws -> [StudyProgress] {
        let link = PostgresLink(address: address, patience: patience)
        defer { link.close() }
        do {
            return try link.run { s in
                let exists = try s.query("SELECT to_regclass('tune_studies') IS NOT NULL").first?.decode(Bool.self)
                guard exists == true else { return [] }
                let rows = try s.query(
                    """
                    SELECT s.name, s.direction, s.created_at,
                        count(*) FILTER (WHERE t.state = 'waiting'), count(*) FILTER (WHERE t.state = 'running'),
                        count(*) FILTER (WHERE t.state = 'complete'), count(*) FILTER (WHERE t.state = 'pruned'),
                        count(*) FILTER (WHERE t.state = 'failed'),
                        CASE WHEN s.direction = 'maximize' THEN max(t.value) FILTER (WHERE t.state = 'complete')
                             ELSE min(t.value) FILTER (WHERE t.state = 'complete') END
                    FROM tune_studies s LEFT JOIN tune_trials t ON t.study = s.id
                    GROUP BY s.id ORDER BY s.created_at, s.name
                    """)
                return try rows.map { row in
                    let (name, direction, created, waiting, running, complete, pruned, failed, best) = try row.decode(
                        (String, String, Date, Int, Int, Int, Int, Int, Double?).self)
                    return StudyProgress(
                        name: name, direction: Direction(rawValue: direction) ?? .minimize, created: created,
                        waiting: waiting, running: running, complete: complete, pruned: pruned, failed: failed,
                        best: best)
                }
            }
        } catch {
            throw SearchError.storage(path: address.description, "\(PostgresFailure(error))")
        }
    }
}

/// One study's progress, as `tune studies` lists it.
public struct StudyProgress: Sendable, Equatable {
    public var name: String
    public var direction: Direction
    public var created: Date
    public var waiting: Int, running: Int, complete: Int, pruned: Int, failed: Int
    /// The best complete trial's value.
    public var best: Double?

    public var trials: Int { waiting + running + complete + pruned + failed }
}
