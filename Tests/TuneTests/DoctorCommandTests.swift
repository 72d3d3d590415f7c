import Foundation
import TestSupport
import Testing
@testable import Tune
@testable import TuneEngine
@testable import TuneReport
@testable import TuneRun
import TuneDiagnosis

@Suite("tune doctor", .serialized)
struct DoctorCommandTests {
    @Test func aSwiftTuneRunIsReadWithItsTaskAndBatch() throws {
        let dir = scratchDirectory()
        var s = TrainSettings()
        s.data = try writeMoonsCSV(dir)
        s.target = "y"
        s.epochs = 12
        s.lr = 0.05
        s.out = dir.appendingPathComponent("run").path
        try TrainRun(settings: s).run()
        let curves = try DoctorInput.load(s.out!)
        #expect(curves.task == .binary && curves.classes == 2)
        #expect(curves.epochCount == 12 && curves.metricName == "auc")
        #expect(curves.trainingRows == 180 && curves.batchSize == 16)
        #expect(!curves.stepLoss.isEmpty && curves.gradientNormMean.count == 12)
        let r = try runTune(["doctor", s.out!, "--json"])
        #expect(r.status == 0, "\(r.error)")
        struct Output: Decodable { let epochs: Int; let findings: [Finding] }
        let output = try JSONDecoder().decode(Output.self, from: Data(r.output.utf8))
        #expect(output.epochs == 12 && !output.findings.isEmpty)
        let text = try runTune(["doctor", s.out!])
        #expect(text.output.contains("tune doctor: \(s.out!)") && text.output.contains("next: "))
    }

    @Test func nothingToReadExitsWithStatusTwo() throws {
        let missing = try runTune(["doctor", "/nonexistent/run"])
        #expect(missing.status == 2 && missing.error.contains("no such file or directory"))
        let dir = scratchDirectory()
        let empty = try runTune(["doctor", dir.path])
        #expect(empty.status == 2 && empty.error.contains("no training log found"))
    }
}

/// Lightning-style logs written by hand: `metrics.csv` with one row per epoch (no step rows) and `hparams.yaml`.
enum LightningLog {
    static func write(_ directory: URL, train: [Double], validation: [Double], hparams: String) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lines = ["epoch,step,train_loss_epoch,val_loss"]
        for e in train.indices { lines.append("\(e),\(10 * (e + 1) - 1),\(train[e]),\(validation[e])") }
        try (lines.joined(separator: "\n") + "\n").write(
            to: directory.appendingPathComponent("metrics.csv"), atomically: true, encoding: .utf8)
        try hparams.write(to: directory.appendingPathComponent("hparams.yaml"), atomically: true, encoding: .utf8)
    }

    static func wiggle(_ e: Int) -> Double { sin(Double(e) * 2.399) }
}

@Suite("tune doctor on several runs, with settings and levels", .serialized)
struct DoctorLevelTests {
    @Test func aBatchOfTwoNamedInHparamsYamlIsNoiseEvenWithEpochRowsOnly() throws {
        // Lightning's metrics.csv with epoch rows only (the step losses not logged), hparams.yaml naming a batch of 2:
        // the epoch curves jitter by a few percent around their trend.
        let dir = scratchDirectory("lightning").appendingPathComponent("version_0")
        try LightningLog.write(
            dir, train: (1...20).map { 0.3 + 0.4 * exp(-Double($0) / 4) + 0.01 * LightningLog.wiggle($0) },
            validation: (1...20).map { 0.35 + 0.4 * exp(-Double($0) / 4) + 0.03 * LightningLog.wiggle($0 + 7) },
            hparams:
                "model:\n  hidden: [64, 64]\noptim:\n  name: Adam\n  lr: 0.001\ndata:\n  batch_size: 2\n  train_size: 1000\n"
        )
        let runs = try DoctorInput.runs(dir.path)
        #expect(runs.count == 1)
        let h = runs[0].curves.hyperparameters
        #expect(h.batchSize == 2 && h.optimizer == "adam" && h.learningRate == 0.001 && h.trainingRows == 1000)
        #expect(h.source?.hasSuffix("hparams.yaml") == true)
        #expect(runs[0].curves.stepsPerEpoch == 10, "the global step at the epoch rows")
        let noisy = Doctor().diagnose(runs[0].curves).first { $0.id == .noisy }
        #expect(noisy != nil)
        #expect(noisy?.evidence["batch_size"] == 2)
        // sqrt(1000) = 31.6: the next step names the batch to try, 4x the 2 (toward 32).
        #expect(
            noisy?.nextStep.contains("now 2; sqrt of the 1000 training rows is 32, try 8") == true,
            "\(noisy?.nextStep ?? "")")
    }

    @Test func aDirectoryOfLightningVersionsIsComparedRunByRun() throws {
        let root = scratchDirectory("lightning_logs")
        let n = 30
        // version_0: a 64-64 network converging to 0.20; version_1: one hidden unit, flat at 0.50 (2.5x);
        // version_2: memorising, the validation loss turning up from 0.35 while the training loss falls to 0.02.
        try LightningLog.write(
            root.appendingPathComponent("version_0"), train: (1...n).map { 0.17 + 0.5 * exp(-Double($0) / 4) },
            validation: (1...n).map { 0.20 + 0.5 * exp(-Double($0) / 4) }, hparams: "lr: 0.001\nbatch_size: 32\n")
        try LightningLog.write(
            root.appendingPathComponent("version_1"), train: (1...n).map { 0.49 + 0.2 * exp(-Double($0) / 3) },
            validation: (1...n).map { 0.50 + 0.2 * exp(-Double($0) / 3) },
            hparams: "lr: 0.001\nbatch_size: 32\nhidden: [1]\n")
        let memorising: [Double] = (1...n).map { (e: Int) -> Double in
            let d = Double(e - 8)
            return 0.35 + 0.002 * d * d
        }
        try LightningLog.write(
            root.appendingPathComponent("version_2"), train: (1...n).map { 0.02 + 0.6 * exp(-Double($0) / 5) },
            validation: memorising, hparams: "lr: 0.003\nbatch_size: 16\n")
        let text = try runTune(["doctor", root.path, "--baseline-loss", "0.69"])
        #expect(text.status == 0, "\(text.error)")
        #expect(
            text.output.contains("(3 runs)")
                && text.output.contains("reference: version_0's lowest validation loss 0.2"))
        #expect(text.output.contains("== version_1") && text.output.contains("Comparison"))
        #expect(
            text.output.contains("Underfitting (training close to validation, both flat): version_1"), "\(text.output)")
        #expect(text.output.contains("Overfitting (the gap between the curves): version_2"))
        let json = try runTune(["doctor", root.path, "--baseline-loss", "0.69", "--json"])
        struct Output: Decodable {
            struct Reference: Decodable { let run: String?; let loss: Double }
            struct Run: Decodable { let name: String; let verdict: String; let findings: [Finding] }
            struct Row: Decodable {
                let name: String; let ratioToReference: Double?; let farAboveReference: Bool; let kind: String?
            }
            let reference: Reference?
            let runs: [Run]
            let comparison: [Row]
        }
        let output = try JSONDecoder().decode(Output.self, from: Data(json.output.utf8))
        #expect(
            output.reference?.run == "version_0"
                && abs((output.reference?.loss ?? 0) - (0.20 + 0.5 * exp(-30.0 / 4))) < 1e-6, "read as a 32-bit float")
        #expect(output.runs.map(\.name) == ["version_0", "version_1", "version_2"])
        #expect(output.runs[0].verdict == "healthy")
        #expect(output.comparison[1].farAboveReference && output.comparison[1].kind == "underfitting")
        #expect(output.comparison[2].farAboveReference && output.comparison[2].kind == "overfitting")
        #expect(output.runs[2].findings.contains { $0.id == .overfitting })
        #expect(output.runs.allSatisfy { $0.findings.allSatisfy { (0.5...1).contains($0.confidence) } })
    }

    @Test func theConstantPredictorFromTheDataAndThresholdsFromAFile() throws {
        let dir = scratchDirectory("doctor")
        // 300 rows, 75 of them positive: the constant predictor's cross-entropy is -(0.25 ln 0.25 + 0.75 ln 0.75).
        let data = dir.appendingPathComponent("data.csv")
        try ("x,y\n" + (0..<300).map { "\($0),\($0 % 4 == 0 ? 1 : 0)" }.joined(separator: "\n") + "\n").write(
            to: data, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run")
        try LightningLog.write(
            run, train: (1...20).map { 0.3 + 0.3 * exp(-Double($0) / 4) },
            validation: (1...20).map { 0.32 + 0.3 * exp(-Double($0) / 4) }, hparams: "lr: 0.001\n")
        let r = try runTune(["doctor", run.path, "--data", data.path, "--target", "y", "--json"])
        #expect(r.status == 0, "\(r.error)")
        struct Output: Decodable {
            struct Level: Decodable { let baselineLoss: Double? }; let level: Level; let verdict: String
        }
        let output = try JSONDecoder().decode(Output.self, from: Data(r.output.utf8))
        #expect(abs((output.level.baselineLoss ?? 0) - -(0.25 * log(0.25) + 0.75 * log(0.75))) < 1e-9)
        #expect(output.verdict == "no_problem_visible", "no reference: no verdict of health")
        // Thresholds from a file: a name that is not one, a fraction where a whole number goes.
        let bad = dir.appendingPathComponent("t.json")
        try #"{"overfitRise": 0.3, "noSuchThing": 1}"#.write(to: bad, atomically: true, encoding: .utf8)
        let refused = try runTune(["doctor", run.path, "--thresholds", bad.path])
        #expect(
            refused.status == 2 && refused.error.contains(bad.path)
                && refused.error.contains("unknown threshold 'noSuchThing'"))
        try #"{"minimumEpochs": 2.5}"#.write(to: bad, atomically: true, encoding: .utf8)
        let fraction = try runTune(["doctor", run.path, "--thresholds", bad.path])
        #expect(fraction.status == 2 && fraction.error.contains("'minimumEpochs': expected a whole number"))
        // A reference given by hand: near it, healthy.
        let near = try runTune(["doctor", run.path, "--data", data.path, "--target", "y", "--reference-loss", "0.32"])
        #expect(near.output.contains("healthy"), "\(near.output)")
    }

    @Test func theSettingsOfASwiftTuneRunAndOfItsTensorBoardLog() throws {
        let dir = scratchDirectory()
        var s = TrainSettings()
        s.data = try writeMoonsCSV(dir)
        s.target = "y"
        s.epochs = 6
        s.lr = 0.02
        s.optimizer = .sgd
        s.batchSize = .fixed(8)
        s.out = dir.appendingPathComponent("run").path
        s.tensorboard = dir.appendingPathComponent("tb").path
        try TrainRun(settings: s).run()
        // model.json keeps the settings, metrics.json the constant predictor's loss on the validation rows.
        let run = try DoctorInput.load(s.out!)
        #expect(
            run.hyperparameters.optimizer == "sgd" && run.hyperparameters.learningRate == 0.02 && run.batchSize == 8)
        #expect(run.hyperparameters.momentum == 0.9)
        #expect(
            run.baselineLoss.map { $0 > 0.6 && $0 < 0.75 } == true,
            "about ln 2 for balanced moons: \(String(describing: run.baselineLoss))")
        #expect(run.firstStepLogged)
        // The event files' HParams records give the same settings.
        let board = try DoctorInput.runs(s.tensorboard!)
        #expect(board.count == 1)
        #expect(
            board[0].curves.hyperparameters.optimizer == "sgd" && board[0].curves.hyperparameters.learningRate == 0.02)
        #expect(board[0].curves.batchSize == 8)
    }
}
