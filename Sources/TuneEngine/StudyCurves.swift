import Foundation
import TuneData
import TuneDiagnosis
import TuneReport
import TuneRun
import TuneSearch

/// Each trial's curves, kept in the study (the attribute `curves`: the epochs' losses and metric, the task, the settings,
/// the constant predictor's loss; not the step losses, to keep the study small), so that `tune doctor STUDY` can judge
/// every trial against the best and the recipe can judge its best trial.
public enum StudyCurves {
    static let key = "curves"

    static func store(_ curves: Curves, trial: Int, in storage: any StudyStorage) throws {
        var kept = curves
        kept.stepLoss = []
        kept.firstStepLogged = false
        kept.source = ""
        try storage.setAttribute(trial, key: key, value: String(decoding: try jsonData(kept), as: UTF8.self))
    }

    /// The curves of a finished trial, nil when it has none (a study written before they were kept).
    static func curves(of trial: FrozenTrial) -> Curves? {
        guard let text = trial.attributes[key] else { return nil }
        return try? jsonDecoder().decode(Curves.self, from: Data(text.utf8))
    }

    /// Every trial of the study in `directory` that kept its curves, named "trial N", in trial order.
    public static func runs(_ directory: URL) throws -> [DoctorRun] {
        let path = SearchRun.studyPath(directory.path)
        let summary = try? Data(contentsOf: directory.appendingPathComponent("summary.json"))
        let direction =
            summary.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["direction"] as? String
        let storage: SQLiteStorage
        if let direction, let d = Direction(rawValue: direction) {
            storage = try SQLiteStorage(path: path, direction: d)
        } else {
            // A study still running has no summary yet: its direction is the one it was created with.
            storage =
                try (try? SQLiteStorage(path: path, direction: .maximize))
                ?? SQLiteStorage(path: path, direction: .minimize)
        }
        return try storage.allTrials().filter { $0.state.isFinished }.compactMap { trial in
            guard var c = curves(of: trial) else { return nil }
            c.source = "\(path), trial \(trial.number)"
            return DoctorRun(name: "trial \(trial.number)", curves: c)
        }
    }
}
