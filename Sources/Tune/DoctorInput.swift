import Foundation
import TuneData
import TuneDiagnosis
import TuneExport
import TuneTraining

extension Curves {
    /// The curves of a swift-tune training history.
    public init(history: History) {
        self.init()
        trainLoss = history.epochs.map { $0.trainLoss }
        validationLoss = history.epochs.map { $0.validationLoss }
        if !history.monitor.isEmpty {
            metricName = history.monitor
            metricHigherIsBetter = history.monitorHigherIsBetter
            metric = history.epochs.map { $0.metrics[history.monitor] }
        }
        stepLoss = history.stepLosses
        learningRate = history.epochs.map { $0.learningRate }
        gradientNormMean = history.epochs.map { $0.gradientNormMean }
        gradientNormMax = history.epochs.map { $0.gradientNormMax }
    }
}

extension Curves {
    /// The curves of a run just trained on `data`, with what the doctor needs to know of the task and the batches.
    init(result: TrainingResult, data: PreparedData) {
        self.init(history: result.history)
        task = Curves.Task(rawValue: data.preprocessor.target.task.rawValue) ?? .unknown
        classes = data.preprocessor.target.classes?.count
        trainingRows = data.train.count
        batchSize = result.batchSize
    }
}

/// Finds and reads the curves at a path for `tune doctor`: a swift-tune run directory or history.json, TensorBoard
/// event files or a log directory of them, a CSV log (swift-tune's history.csv, Lightning's metrics.csv, Keras's
/// CSVLogger, any table with an epoch column), or a directory holding one of those.
public enum DoctorInput {
    public static func load(_ path: String, columns: CurveColumns = CurveColumns(), classes: Int? = nil) throws -> Curves {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(path: path, "no such file or directory")
        }
        var curves: Curves
        if isDirectory.boolValue {
            let url = URL(fileURLWithPath: path)
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("history.json").path) {
                curves = try loadRun(url)
            } else if hasEventFiles(url) {
                curves = try TensorBoardReader.curves(at: path, columns: columns)
            } else if let csv = findCSVLog(url) {
                curves = try CSVLogReader.read(path: csv, columns: columns)
            } else {
                let seen = (try? FileManager.default.contentsOfDirectory(atPath: path).sorted().prefix(20).joined(separator: ", ")) ?? ""
                throw DataError(path: path, "no training log found: expected history.json (swift-tune), TensorBoard event files or metrics.csv / a CSV log; the directory holds: \(seen)")
            }
        } else if (path as NSString).lastPathComponent.contains("tfevents") {
            curves = try TensorBoardReader.curves(at: path, columns: columns)
        } else if path.hasSuffix(".json") {
            curves = try loadHistoryJSON(URL(fileURLWithPath: path))
        } else {
            curves = try CSVLogReader.read(path: path, columns: columns)
        }
        if let classes {
            curves.classes = classes
            curves.task = classes == 2 ? .binary : .multiclass
        }
        return curves
    }

    static func hasEventFiles(_ directory: URL) -> Bool {
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else { return false }
        return enumerator.contains { ($0 as? String).map { ($0 as NSString).lastPathComponent.contains("tfevents") } ?? false }
    }

    static func findCSVLog(_ directory: URL) -> String? {
        let fm = FileManager.default
        for name in ["metrics.csv", "history.csv", "log.csv", "training.csv"] {
            let p = directory.appendingPathComponent(name).path
            if fm.fileExists(atPath: p) { return p }
        }
        // Lightning: lightning_logs/version_N/metrics.csv, the newest version.
        guard let enumerator = fm.enumerator(atPath: directory.path) else { return nil }
        // The newest: version numbers compared as numbers (version_10 after version_9).
        let found = enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix("metrics.csv") }
        func key(_ path: String) -> (Int, String) {
            let version = path.split(separator: "/").compactMap { part -> Int? in
                part.hasPrefix("version_") ? Int(part.dropFirst("version_".count)) : nil
            }.last ?? -1
            return (version, path)
        }
        return found.max { key($0) < key($1) }.map { directory.appendingPathComponent($0).path }
    }

    static func loadHistoryJSON(_ url: URL) throws -> Curves {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DataError(path: url.path, "cannot read: \(error.localizedDescription)")
        }
        do {
            var curves = Curves(history: try jsonDecoder().decode(History.self, from: data))
            curves.source = url.path
            return curves
        } catch {
            throw DataError(path: url.path, "not a swift-tune history.json: \(error)")
        }
    }

    static func loadRun(_ directory: URL) throws -> Curves {
        var curves = try loadHistoryJSON(directory.appendingPathComponent("history.json"))
        curves.source = directory.path
        if let data = try? Data(contentsOf: directory.appendingPathComponent("metrics.json")),
           let summary = try? JSONDecoder().decode(RunSummary.self, from: data) {
            curves.task = Curves.Task(rawValue: summary.task) ?? .unknown
            curves.trainingRows = summary.rows["train"]
            curves.batchSize = summary.batchSize
        }
        if let predictor = try? Predictor.load(directory.path), let classes = predictor.preprocessor.target.classes {
            curves.classes = classes.count
        }
        return curves
    }
}
