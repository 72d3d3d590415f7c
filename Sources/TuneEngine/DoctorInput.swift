import Foundation
import TuneData
import TuneDiagnosis
import TuneExport
import TuneNN
import TuneReport
import TuneRun
import TuneTraining
import Yams

/// One run that `tune doctor` read: a name (its path below the directory given, or the path itself) and its curves.
public struct DoctorRun: Sendable {
    public var name: String
    public var curves: Curves
    public init(name: String, curves: Curves) {
        self.name = name
        self.curves = curves
    }
}

/// Finds and reads the curves at a path for `tune doctor`: a swift-tune run directory or history.json, TensorBoard
/// event files or a log directory of them, a CSV log (swift-tune's history.csv, Lightning's metrics.csv, Keras's
/// CSVLogger, any table with an epoch column), or a directory holding several of those (Lightning's `version_*`
/// folders, TensorBoard run folders, swift-tune run directories, the trials of a swift-tune study), each read as a
/// run of its own. The settings come
/// with them where the logs keep them: `hparams.yaml` beside a CSV log or event files, TensorBoard's HParams records,
/// a swift-tune run's `model/model.json`.
public enum DoctorInput {
    /// The one run at `path`; of several, the last in name order (the highest Lightning version).
    public static func load(_ path: String, columns: CurveColumns = CurveColumns(), classes: Int? = nil) throws
        -> Curves
    {
        try runs(path, columns: columns, classes: classes).last!.curves
    }

    /// Every run at `path` (at least one; a `DataError` otherwise), in name order (version_2 before version_10).
    public static func runs(_ path: String, columns: CurveColumns = CurveColumns(), classes: Int? = nil) throws
        -> [DoctorRun]
    {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(path: path, "no such file or directory")
        }
        var found: [DoctorRun] = []
        if isDirectory.boolValue {
            let url = URL(fileURLWithPath: path)
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("history.json").path) {
                found = [DoctorRun(name: url.lastPathComponent, curves: try loadRun(url))]
            } else if FileManager.default.fileExists(atPath: SearchRun.studyPath(path)) {
                found = try StudyCurves.runs(url)
                guard !found.isEmpty else {
                    throw DataError(
                        path: SearchRun.studyPath(path),
                        "no finished trial kept its curves (a study of an older swift-tune keeps none): run tune search again, or give tune doctor a run directory such as \(url.appendingPathComponent("best").path)"
                    )
                }
            } else {
                found = try directoryRuns(url, columns: columns)
            }
            guard !found.isEmpty else {
                let seen =
                    (try? FileManager.default.contentsOfDirectory(atPath: path).sorted().prefix(20).joined(
                        separator: ", ")) ?? ""
                throw DataError(
                    path: path,
                    "no training log found: expected history.json (swift-tune), TensorBoard event files or metrics.csv / a CSV log; the directory holds: \(seen)"
                )
            }
        } else {
            let url = URL(fileURLWithPath: path)
            var curves: Curves
            if url.lastPathComponent.contains("tfevents") {
                curves = try TensorBoardReader.curves(at: path, columns: columns)
                curves.hyperparameters = Hyperparameters(
                    settings: try TensorBoardReader.read(at: path).hyperparameters.values.first ?? [:],
                    source: "the HParams records")
            } else if path.hasSuffix(".json") {
                curves = try loadHistoryJSON(url)
            } else {
                curves = try CSVLogReader.read(path: path, columns: columns)
            }
            addSettingsFile(&curves, directory: url.deletingLastPathComponent())
            found = [DoctorRun(name: url.lastPathComponent, curves: curves)]
        }
        if let classes {
            for i in found.indices {
                found[i].curves.classes = classes
                found[i].curves.task = classes == 2 ? .binary : .multiclass
            }
        }
        return found
    }

    /// The runs below a directory: swift-tune run directories, CSV logs (`metrics.csv` anywhere, or a CSV log at the
    /// top), and TensorBoard runs in folders that hold no CSV log.
    static func directoryRuns(_ directory: URL, columns: CurveColumns) throws -> [DoctorRun] {
        let fm = FileManager.default
        var swiftRuns: [String] = [], csvLogs: [String] = [], eventFiles = false
        for name in ["metrics.csv", "history.csv", "log.csv", "training.csv"]
        where fm.fileExists(atPath: directory.appendingPathComponent(name).path) {
            csvLogs.append(name)
            break
        }
        if let enumerator = fm.enumerator(at: directory, includingPropertiesForKeys: nil) {
            while let item = enumerator.nextObject() as? URL {
                let relative = String(item.path.dropFirst(directory.path.count + 1))
                if item.lastPathComponent == "history.json", relative.contains("/") {
                    swiftRuns.append((relative as NSString).deletingLastPathComponent)
                } else if item.lastPathComponent == "metrics.csv", relative.contains("/") {
                    csvLogs.append(relative)
                } else if item.lastPathComponent.contains("tfevents") {
                    eventFiles = true
                }
            }
        }
        // Event files in a folder that a CSV log or a swift-tune run already stands for are that run's copy.
        let claimed = Set(swiftRuns + csvLogs.map { ($0 as NSString).deletingLastPathComponent })
        func inside(_ run: String) -> Bool {
            claimed.contains { $0.isEmpty || $0 == run || run.hasPrefix($0 + "/") }
        }
        var runs: [DoctorRun] = []
        for run in swiftRuns where !swiftRuns.contains(where: { run.hasPrefix($0 + "/") }) {
            runs.append(DoctorRun(name: run, curves: try loadRun(directory.appendingPathComponent(run))))
        }
        for log in csvLogs where !swiftRuns.contains(where: { log.hasPrefix($0 + "/") }) {
            var curves = try CSVLogReader.read(path: directory.appendingPathComponent(log).path, columns: columns)
            let folder = (log as NSString).deletingLastPathComponent
            addSettingsFile(&curves, directory: folder.isEmpty ? directory : directory.appendingPathComponent(folder))
            runs.append(DoctorRun(name: folder.isEmpty ? log : folder, curves: curves))
        }
        if eventFiles {
            let log = try TensorBoardReader.read(at: directory.path)
            var kept = log
            kept.scalars = log.scalars.filter { !inside($0.key) }
            kept.hyperparameters = log.hyperparameters.filter { !inside($0.key) }
            for run in ScalarSeries.runs(kept, columns: columns) {
                let source = run.name.isEmpty ? directory.path : directory.appendingPathComponent(run.name).path
                // A folder without loss series (swift-tune's own trial folders hold them) is not a run.
                guard var curves = try? ScalarSeries.curves(run.scalars, source: source, columns: columns) else {
                    if columns.trainLoss != nil || columns.validationLoss != nil {
                        _ = try ScalarSeries.curves(run.scalars, source: source, columns: columns)
                    }
                    continue
                }
                curves.hyperparameters = Hyperparameters(settings: run.hyperparameters, source: "the HParams records")
                addSettingsFile(&curves, directory: URL(fileURLWithPath: source))
                runs.append(DoctorRun(name: run.name.isEmpty ? directory.lastPathComponent : run.name, curves: curves))
            }
        }
        return runs.sorted { naturalOrder($0.name, $1.name) }
    }

    /// Names compared with their numbers as numbers: version_2 before version_10.
    static func naturalOrder(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: [.numeric]) == .orderedAscending
    }

    /// Fills the settings a run's curves do not have from `hparams.yaml` (Lightning) in `directory`, when there.
    static func addSettingsFile(_ curves: inout Curves, directory: URL) {
        let file = directory.appendingPathComponent("hparams.yaml")
        guard let text = try? String(contentsOf: file, encoding: .utf8),
            let settings = try? flatSettings(Yams.load(yaml: text))
        else { return }
        curves.hyperparameters.fill(from: Hyperparameters(settings: settings, source: file.path))
    }

    /// Nested settings (YAML or JSON objects) flattened to dotted keys with their values as text; lists joined by
    /// commas. Nil when `value` is not an object.
    static func flatSettings(_ value: Any?) -> [String: String]? {
        guard let object = value as? [String: Any] else { return nil }
        var out: [String: String] = [:]
        func walk(_ v: Any, _ key: String) {
            switch v {
            case let o as [String: Any]: for (k, x) in o { walk(x, key.isEmpty ? k : key + "." + k) }
            case let a as [Any]: out[key] = a.map { "\($0)" }.joined(separator: ",")
            case let b as Bool: out[key] = b ? "true" : "false"
            case is NSNull: break
            default: out[key] = "\(v)"
            }
        }
        for (k, v) in object { walk(v, k) }
        return out
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
            let summary = try? jsonDecoder().decode(RunSummary.self, from: data)
        {
            curves.task = Curves.Task(rawValue: summary.task) ?? .unknown
            curves.trainingRows = summary.rows["train"]
            curves.batchSize = summary.batchSize
            if let b = summary.baselineValidationLoss, b.isFinite {
                curves.baselineLoss = b
                curves.baselineSource = "the run's metrics.json (a constant predictor on its validation rows)"
            }
        }
        if let predictor = try? Predictor.load(directory.path), let classes = predictor.preprocessor.target.classes {
            curves.classes = classes.count
        }
        // The settings the run was trained with, as model.json keeps them.
        let description = directory.appendingPathComponent("model").appendingPathComponent(Checkpoint.descriptionFile)
        if let data = try? Data(contentsOf: description),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let settings = flatSettings(object["hyperparameters"])
        {
            curves.hyperparameters.fill(from: Hyperparameters(settings: settings, source: description.path))
        }
        return curves
    }
}
