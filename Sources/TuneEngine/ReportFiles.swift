import Foundation
import TuneData
import TuneReport
import TuneRun
import TuneSearch
import TuneTraining

/// `report.html` from what a directory holds: a run directory of `tune train` (history.json, metrics.json) or the
/// output directory of `tune search` (summary.json, study.sqlite, lr_range_test.csv, best/history.json). The
/// rendering is `TuneReport`'s; this reads the files it needs.
public enum ReportFiles {
    static func load<T: Decodable>(_ type: T.Type, _ url: URL) throws -> T {
        do {
            return try jsonDecoder().decode(type, from: Data(contentsOf: url))
        } catch {
            throw DataError(path: url.path, "cannot read it for the report: \(error)")
        }
    }

    /// The report of a `tune train` run directory.
    public static func run(_ directory: URL) throws -> String {
        HTMLReport.run(
            history: try load(History.self, directory.appendingPathComponent("history.json")),
            summary: try? load(RunSummary.self, directory.appendingPathComponent("metrics.json")),
            name: directory.lastPathComponent)
    }

    /// What the report of a `tune search` directory shows, read from its files and its study (`study.sqlite`, or
    /// `storage` when the study is kept elsewhere).
    public static func study(_ directory: URL, storage given: (any StudyStorage)? = nil) throws -> StudyReport {
        let summaryURL = directory.appendingPathComponent("summary.json")
        let recipe = try? load(RecipeSummary.self, summaryURL)
        let classic = recipe == nil ? try load(SearchSummary.self, summaryURL) : nil
        let higher = (recipe?.direction ?? classic?.direction) != Direction.minimize.rawValue
        let storage =
            try given
            ?? SQLiteStorage(path: SearchRun.studyPath(directory.path), direction: higher ? .maximize : .minimize)
        return StudyReport(
            name: directory.lastPathComponent, monitor: recipe?.monitor ?? classic?.monitor ?? "metric",
            higherIsBetter: higher, trials: try storage.allTrials().filter { $0.state.isFinished },
            best: recipe?.best?.number ?? classic?.best?.number,
            rangeTest: (try? String(contentsOf: directory.appendingPathComponent("lr_range_test.csv"), encoding: .utf8))
                .map { LRRangeTest().reportSection(csv: $0, values: recipe?.rangeTest) },
            dataCheck: recipe?.data,
            stages: recipe?.stages.map {
                StudyReport.Stage(
                    number: $0.number, name: $0.name, trials: $0.trials.count, decision: $0.decision,
                    why: ([$0.reason] + $0.notes).joined(separator: " "))
            }, ensemble: recipe?.ensemble,
            bestHistory: try? load(History.self, directory.appendingPathComponent("best/history.json")))
    }

    /// Writes `report.html` in `directory` (a run or a study, whose trials are in `storage` when given), atomically;
    /// returns what it wrote.
    @discardableResult
    public static func write(_ directory: URL, storage: (any StudyStorage)? = nil) throws -> Data {
        let isStudy = storage != nil || FileManager.default.fileExists(atPath: SearchRun.studyPath(directory.path))
        guard isStudy || FileManager.default.fileExists(atPath: directory.appendingPathComponent("history.json").path)
        else {
            throw DataError(
                path: directory.path,
                "neither a run directory of tune train (no history.json) nor a study of tune search (no study.sqlite)")
        }
        let html = isStudy ? HTMLReport.study(try study(directory, storage: storage)) : try run(directory)
        let data = Data(html.utf8)
        try writeAtomically(data, to: directory.appendingPathComponent("report.html"))
        return data
    }
}
