import Foundation
import TestSupport
import Testing
import TuneSearch

/// Runs tools/tensorboard/check.py, which reads a log directory back through a real TensorBoard server on 127.0.0.1
/// (or, if it cannot start, TensorBoard's own EventAccumulator), with the Python that has tensorboard (TUNE_PYTHON).
func readThroughTensorBoard(_ logdir: String, tag: String) throws -> [String: Any] {
    let r = try runPythonTool("tensorboard/check.py", [logdir, tag])
    #expect(r.status == 0, "\(r.error)")
    return try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any] ?? [:]
}

func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(1, abs(b)) }

@Suite("TensorBoard reads what tune writes", .serialized)
struct TensorBoardTests {
    @Test func aStudysTrialsShowInTheScalarsAndHParamsTabs() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("study").path
        let logs = dir.appendingPathComponent("tb").path
        #expect(try runTune(["generate", "moons", "--rows", "300", "--seed", "8", "--out", data]).status == 0)
        let run = try runTune([
            "search", "--data", data, "--target", "label", "--strategy", "random", "--pruner", "none", "--trials", "3",
            "--epochs", "4", "--tensorboard", logs, "--out", out
        ])
        #expect(run.status == 0, "\(run.error)")
        let trials = try SQLiteStorage(path: out + "/study.sqlite", direction: .maximize).allTrials()
        let read = try readThroughTensorBoard(logs, tag: "validation/auc")
        let runs = Set(read["runs"] as? [String] ?? [])
        #expect(
            runs.isSuperset(of: ["trial-0000", "trial-0001", "trial-0002"]), "\(runs) (via \(read["source"] ?? "?"))")
        let scalars = read["scalars"] as? [String: [[Double]]] ?? [:]
        let groups = read["groups"] as? [[String: Any]] ?? []
        #expect(Set(read["hparam_names"] as? [String] ?? []) == ["activation", "depth", "dropout", "lr", "width"])
        for t in trials {
            let name = String(format: "trial-%04d", t.number)
            // Each epoch's validation AUC, as the study recorded it, stored by TensorBoard as a 32-bit float.
            // (Foundation's JSON parser may miss the last bit of a double: compared to 1e-12.)
            let expected = t.intermediate.keys.sorted().map { [Double($0), Double(Float(t.intermediate[$0]!))] }
            let got = scalars[name] ?? []
            #expect(
                got.count == expected.count && zip(got, expected).allSatisfy { $0[0] == $1[0] && close($0[1], $1[1]) },
                "\(name): \(got) against \(expected)")
            let group = try #require(groups.first { $0["name"] as? String == name })
            #expect(group["status"] as? String == "STATUS_SUCCESS")
            let hparams = group["hparams"] as? [String: Any] ?? [:]
            #expect(close(hparams["lr"] as? Double ?? .nan, t.parameters["lr"]?.double ?? 0))
            #expect(hparams["width"] as? Double == t.parameters["width"]?.double)
            #expect(hparams["activation"] as? String == t.parameters["activation"]?.string)
        }
    }

    @Test func aTrainRunShowsItsLossesAndSettingsAndTheDoctorReadsThemBack() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("run").path
        let logs = dir.appendingPathComponent("tb").path
        #expect(try runTune(["generate", "moons", "--rows", "200", "--seed", "2", "--out", data]).status == 0)
        #expect(
            try runTune([
                "train", "--data", data, "--target", "label", "--epochs", "5", "--lr", "0.01", "--quiet",
                "--tensorboard", logs, "--out", out
            ]).status == 0)
        let history =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/history.json")))
            as! [String: Any]
        let epochs = history["epochs"] as! [[String: Any]]
        let read = try readThroughTensorBoard(logs, tag: "validation/loss")
        let got = (read["scalars"] as? [String: [[Double]]] ?? [:])["."] ?? []
        let expected = epochs.map { [Double($0["epoch"] as! Int), Double(Float($0["validationLoss"] as! Double))] }
        #expect(
            got.count == 5 && zip(got, expected).allSatisfy { $0[0] == $1[0] && close($0[1], $1[1]) },
            "\(got) against \(expected)")
        let group = try #require((read["groups"] as? [[String: Any]])?.first)
        #expect(close((group["hparams"] as? [String: Any])?["lr"] as? Double ?? .nan, 0.01))
        #expect(group["status"] as? String == "STATUS_SUCCESS")
        // The doctor reads the event files back.
        let doctor = try runTune(["doctor", logs, "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(doctor.output.utf8)) as? [String: Any]
        #expect(doctor.status == 0 && report?["epochs"] as? Int == 5, "\(doctor.output.prefix(300))")
    }
}
