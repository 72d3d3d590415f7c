import Foundation
import TestSupport
import Testing
@testable import Tune
@testable import TuneEngine
@testable import TuneReport
@testable import TuneRun
import TuneData
import TuneTensor
import TuneTraining
import TuneRandom

/// A small binary CSV (moons) with an id column and a categorical column.
func writeMoonsCSV(_ dir: URL, rows: Int = 300) throws -> String {
    var rng = PhiloxRandom(seed: 9)
    let (x, y) = Synthetic.twoMoons(count: rows, noise: 0.15, using: &rng)
    var lines = ["id,a,b,shade,y"]
    for r in 0..<rows {
        lines.append("\(r),\(x[r, 0]),\(x[r, 1]),\(["light", "dark"][r % 2]),\(y[r] == 1 ? "yes" : "no")")
    }
    let path = dir.appendingPathComponent("moons.csv").path
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("tune train, predict and evaluate", .serialized)
struct TrainCommandTests {
    @Test func badInputExitsWithStatusTwoAndWritesNothing() throws {
        let dir = scratchDirectory()
        let ragged = dir.appendingPathComponent("ragged.csv").path
        try "a,b,y\n1,2,0\n3,4\n".write(toFile: ragged, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("run").path
        let moons = try writeMoonsCSV(dir)
        let cases: [([String], String)] = [
            (["--data", ragged, "--target", "y"], "ragged.csv:3: expected 3 columns (as in the header), found 2"),
            (
                ["--data", moons, "--target", "label"],
                "unknown target column 'label'; the columns are: id, a, b, shade, y"
            ),
            (["--data", dir.appendingPathComponent("none.csv").path, "--target", "y"], "cannot read the file"),
            (["--data", moons, "--target", "y", "--metric", "rmse"], "'rmse' does not apply to binary tasks"),
            (["--data", moons, "--target", "y", "--hidden", "64,x"], "--hidden")
        ]
        for (arguments, message) in cases {
            let r = try runTune(["train"] + arguments + ["--out", out, "--epochs", "2"])
            #expect(r.status == 2, "\(arguments): \(r.error)")
            #expect(r.error.contains(message), "\(r.error)")
            #expect(!FileManager.default.fileExists(atPath: out), "nothing is written for \(arguments)")
        }
    }

    @Test func aTrainedModelPredictsWhatItComputedInMemory() throws {
        let dir = scratchDirectory()
        var s = TrainSettings()
        s.data = try writeMoonsCSV(dir)
        s.target = "y"
        s.ignore = ["id"]
        s.epochs = 8
        s.out = dir.appendingPathComponent("run").path
        let outcome = try TrainRun(settings: s).run()
        #expect(outcome.preprocessor.target.classes == ["no", "yes"])
        let table = try CSVReader.read(path: s.data!)
        let predictor = try Predictor.load(s.out!)
        let expected = outcome.model(try outcome.preprocessor.transform(table))
        #expect(
            try predictor.outputs(table).scalars == expected.scalars,
            "the saved model computes bit for bit what the trained one did")
        // Through the command line: labels and probabilities, one row per input row.
        let predictions = dir.appendingPathComponent("predictions.csv").path
        let r = try runTune(["predict", "--model", s.out!, "--data", s.data!, "--out", predictions])
        #expect(r.status == 0, "\(r.error)")
        let lines = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n")
        #expect(lines[0] == "prediction,probability_no,probability_yes")
        #expect(lines.count == 301)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("yes,") || $0.hasPrefix("no,") })
        // Evaluation on the training file itself: metrics as JSON.
        let e = try runTune(["evaluate", "--model", s.out!, "--data", s.data!])
        #expect(e.status == 0, "\(e.error)")
        let metrics = try JSONDecoder().decode([String: Double].self, from: Data(e.output.utf8))
        #expect((metrics["accuracy"] ?? 0) > 0.8)
        // A file without a column the model needs.
        let partial = dir.appendingPathComponent("partial.csv").path
        try "id,a,y\n1,0.5,yes\n".write(toFile: partial, atomically: true, encoding: .utf8)
        let missing = try runTune(["predict", "--model", s.out!, "--data", partial])
        #expect(missing.status == 2)
        #expect(missing.error.contains("the model needs the columns 'b', 'shade'"), "\(missing.error)")
    }

    @Test func twoRunsWithOneSeedGiveTheSameHistory() throws {
        let dir = scratchDirectory()
        let data = try writeMoonsCSV(dir)
        func history(_ name: String) throws -> String {
            let out = dir.appendingPathComponent(name).path
            let r = try runTune([
                "train", "--data", data, "--target", "y", "--epochs", "4", "--seed", "7", "--out", out, "--quiet"
            ])
            #expect(r.status == 0, "\(r.error)")
            // Drop the wall-clock columns (the last two).
            return try String(contentsOfFile: out + "/history.csv", encoding: .utf8).split(separator: "\n")
                .map { $0.split(separator: ",", omittingEmptySubsequences: false).dropLast(2).joined(separator: ",") }
                .joined(separator: "\n")
        }
        #expect(try history("a") == history("b"))
    }

    @Test func settingsComeFromAFileAndFlagsOverrideThem() throws {
        let dir = scratchDirectory()
        let config = dir.appendingPathComponent("run.yaml").path
        try """
        target: y
        hidden: [16, 8]
        activation: swish
        lr: 0.005
        batch-size: 64
        epochs: 3
        early-stop: 2
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let s = try TrainSettings.load(path: config)
        #expect(
            s.hidden == [16, 8] && s.activation == .swish && s.lr == 0.005 && s.batchSize == .fixed(64)
                && s.earlyStop == 2)
        let out = dir.appendingPathComponent("run").path
        let r = try runTune([
            "train", "--config", config, "--data", try writeMoonsCSV(dir), "--epochs", "2", "--out", out, "--json"
        ])
        #expect(r.status == 0, "\(r.error)")
        let epochs = r.output.split(separator: "\n").filter { $0.contains("\"epoch\"") }
        #expect(epochs.count == 2, "the flag's 2 epochs override the file's 3")
        let command = try String(contentsOfFile: out + "/command.txt", encoding: .utf8)
        #expect(command.contains("--config") && command.contains("--epochs 2"))

        try "target: y\nhiden: [3]\n".write(toFile: config, atomically: true, encoding: .utf8)
        do {
            _ = try TrainSettings.load(path: config)
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message.contains("unknown setting 'hiden'"))
            #expect(e.line == 2)
        }
    }
}

@Suite("Refusing bad models and flags", .serialized)
struct RefusalTests {
    @Test func aTamperedModelDescriptionIsAnErrorNotACrash() throws {
        let dir = scratchDirectory()
        var s = TrainSettings()
        s.data = try writeMoonsCSV(dir)
        s.target = "y"
        s.epochs = 1
        s.out = dir.appendingPathComponent("run").path
        try TrainRun(settings: s).run()
        let json = dir.appendingPathComponent("run/model/model.json")
        let original = try String(contentsOf: json, encoding: .utf8)
        for (from, to) in [("\"no\"", "\"yes\""), ("\"binary\"", "\"multiclass\"")] {
            try original.replacingOccurrences(of: from, with: to).write(to: json, atomically: true, encoding: .utf8)
            let r = try runTune(["predict", "--model", s.out!, "--data", s.data!])
            #expect(r.status == 2, "\(from) -> \(to): \(r.error)")
            #expect(r.error.contains("model.json"))
        }
    }

    @Test func flagsOutOfRangeAreRefused() throws {
        let dir = scratchDirectory()
        let g = try runTune([
            "generate", "classification", "--rows", "2", "--classes", "3", "--out",
            dir.appendingPathComponent("g.csv").path
        ])
        #expect(g.status != 0 && g.error.contains("--rows (2) must be at least --classes (3)"))
        let data = try writeMoonsCSV(dir)
        let e = try runTune([
            "train", "--data", data, "--target", "y", "--epochs", "9223372036854775807", "--out",
            dir.appendingPathComponent("o").path
        ])
        #expect(e.status == 2 && e.error.contains("epochs must be in 1...1000000"))
        let w = try runTune([
            "train", "--data", data, "--target", "y", "--weight-decay", "inf", "--out",
            dir.appendingPathComponent("o").path
        ])
        #expect(w.status == 2 && w.error.contains("weight decay"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("o").path))
    }
}
