import Foundation
import TestSupport
import Testing
import TuneData
import TuneDiagnosis
@testable import TuneExport

func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
}

@Suite("Reading training logs")
struct ReaderTests {
    @Test func lightningCSVLoggerWithInterleavedRows() throws {
        let c = try CSVLogReader.read(path: fixture("lightning_metrics.csv"))
        #expect(c.epochCount == 8)
        // Values read off the file (epoch 0 and 7 rows of train_loss_epoch, val_loss, val_acc).
        #expect(abs((c.trainLoss[0] ?? 0) - 0.7306057214736938) < 1e-6)
        #expect(abs((c.validationLoss[7] ?? 0) - 0.9239811897277832) < 1e-6)
        #expect(c.metricName == "acc" && c.metricHigherIsBetter)
        #expect(abs((c.metric[7] ?? 0) - 0.375) < 1e-6)
        #expect(c.stepLoss.count == 64, "train_loss_step rows are the step-level series")
        let ids = Doctor().diagnose(c).map(\.id.rawValue)
        #expect(ids.first == "overfitting", "a network memorising random labels: \(ids)")
    }

    @Test func kerasCSVLogger() throws {
        let c = try CSVLogReader.read(path: fixture("keras_log.csv"))
        #expect(c.epochCount == 8)
        #expect(abs((c.trainLoss[3] ?? 0) - 0.5058181881904602) < 1e-6, "epoch 3 (0-based) is the fourth")
        #expect(abs((c.validationLoss[3] ?? 0) - 0.7520460486412048) < 1e-6)
        #expect(c.metricName == "accuracy")
        #expect(Doctor().diagnose(c).first?.id == .overfitting)
    }

    @Test func anyTableWithNamedColumnsAndDirections() throws {
        let dir = scratchDirectory("doctor")
        let path = dir.appendingPathComponent("log.csv").path
        try "epoch,fit,check,err\n1,1.0,1.1,0.5\n2,0.8,0.9,0.4\n3,nan,0.8,0.3\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let c = try CSVLogReader.read(
            path: path, columns: CurveColumns(trainLoss: "fit", validationLoss: "check", metric: "err"))
        #expect(c.epochCount == 3)
        #expect(c.metricHigherIsBetter == false, "an error is better when lower")
        #expect(c.trainLoss[2].map { $0.isNaN } == true, "a logged NaN stays NaN: it means divergence")
        #expect(Doctor().diagnose(c).first?.id == .lrTooHigh)
        do {
            _ = try CSVLogReader.read(path: path)
            Issue.record("no error")
        } catch let e as DataError {
            #expect(
                e.message.contains("no loss column found")
                    && e.message.contains("the columns are: epoch, fit, check, err"))
        }
        do {
            _ = try CSVLogReader.read(path: path, columns: CurveColumns(trainLoss: "nope"))
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message.contains("no column 'nope'"))
        }
    }
}

/// Expected values below were read from the fixtures with TensorBoard's own EventAccumulator.
@Suite("Reading TensorBoard event files")
struct TensorBoardReaderTests {
    @Test func crc32cKnownAnswerAndRecordFraming() throws {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        let framed = TFRecord.encode([Data("hello".utf8), Data()])
        #expect(try TFRecord.records(framed, path: "x") == [Data("hello".utf8), Data()])
        // A record cut short (a writer still at work) ends the list; a flipped data byte is an error.
        #expect(try TFRecord.records(framed.prefix(framed.count - 3), path: "x") == [Data("hello".utf8)])
        var corrupt = framed
        corrupt[13] ^= 0xFF
        #expect(throws: TFRecord.Problem.self) { try TFRecord.records(corrupt, path: "x") }
    }

    @Test func pytorchSummaryWriterWithStepLevelTrainingLoss() throws {
        let points = try TensorBoardReader.scalars(at: fixture("pytorch_tb"))
        let train = points[""]!["train/loss"]!
        #expect(train.count == 64 && train[0].step == 1 && abs(train[0].value - 0.779865026473999) < 1e-6)
        let c = try TensorBoardReader.curves(at: fixture("pytorch_tb"))
        #expect(c.stepLoss.count == 64)
        #expect(c.epochCount == 8)
        #expect(abs((c.validationLoss[7] ?? 0) - 0.9165684580802917) < 1e-6)
        // Epoch 1's training loss: the mean of steps 1-8.
        let firstEpoch = train.prefix(8).map(\.value).reduce(0, +) / 8
        #expect(abs((c.trainLoss[0] ?? 0) - firstEpoch) < 1e-9)
        #expect(c.metricName == "acc" && abs((c.metric[7] ?? 0) - 0.5) < 1e-6)
    }

    @Test func pytorchSummaryWriterPerEpoch() throws {
        let c = try TensorBoardReader.curves(at: fixture("pytorch_tb_epochs"))
        #expect(c.epochCount == 8)
        #expect(abs((c.trainLoss[0] ?? 0) - 0.3050973415374756) < 1e-6)
        #expect(abs((c.validationLoss[7] ?? 0) - 1.3771388530731201) < 1e-6)
        #expect(c.metricName == "accuracy" && abs((c.metric[7] ?? 0) - 0.4375) < 1e-6)
        #expect(Doctor().diagnose(c).first?.id == .overfitting)
    }

    @Test func kerasTensorBoardWithTensorScalarsInRunDirectories() throws {
        let c = try TensorBoardReader.curves(at: fixture("keras_tb"))
        #expect(c.epochCount == 8)
        #expect(abs((c.trainLoss[0] ?? 0) - 0.813296914100647) < 1e-6)
        #expect(abs((c.trainLoss[7] ?? 0) - 0.4003711938858032) < 1e-6)
        #expect(abs((c.validationLoss[7] ?? 0) - 0.807243824005127) < 1e-6)
        #expect(c.metricName == "accuracy" && abs((c.metric[7] ?? 0) - 0.46875) < 1e-6)
    }

    @Test func namedSeriesAndClearErrors() throws {
        let c = try TensorBoardReader.curves(
            at: fixture("keras_tb"),
            columns: CurveColumns(trainLoss: "train:epoch_accuracy", validationLoss: "validation:epoch_loss"))
        #expect(abs((c.trainLoss[7] ?? 0) - 0.875) < 1e-6)
        do {
            _ = try TensorBoardReader.curves(at: fixture("keras_tb"), columns: CurveColumns(trainLoss: "nope"))
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message.contains("no scalar series 'nope'") && e.message.contains("validation:epoch_loss"))
        }
    }
}

@Suite("Odd logs")
struct OddLogTests {
    func tempFile(_ name: String, _ text: String) throws -> String {
        let dir = scratchDirectory("odd")
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// An event file with scalar `values` of `tag` at `steps`.
    func eventFile(_ dir: URL, _ series: [(tag: String, steps: [Int64], values: [Float])]) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var records: [Data] = []
        var time = 1000.0
        for (tag, steps, values) in series {
            for (s, v) in zip(steps, values) {
                var value = Tensorboard_Summary.Value()
                value.tag = tag
                value.simpleValue = v
                var summary = Tensorboard_Summary()
                summary.value = [value]
                var event = Tensorboard_Event()
                event.step = s
                event.wallTime = time
                time += 1
                event.summary = summary
                records.append(try event.serializedData())
            }
        }
        try TFRecord.encode(records).write(to: dir.appendingPathComponent("events.out.tfevents.1.test"))
    }

    @Test func validationEveryOtherEpochLandsOnItsEpochs() throws {
        let dir = scratchDirectory("tb")
        try eventFile(
            dir,
            [
                ("Loss/train", Array(0...9), (0...9).map { 1 / Float($0 + 1) }),
                ("Loss/val", [1, 3, 5, 7, 9], [0.8, 0.5, 0.4, 0.45, 0.6])
            ])
        let c = try TensorBoardReader.curves(at: dir.path)
        #expect(c.epochCount == 10)
        #expect(
            c.validationLoss[1] == Double(Float(0.8)) && c.validationLoss[0] == nil
                && c.validationLoss[5] == Double(Float(0.4)))
        #expect(abs((c.trainLoss[9] ?? 0) - 0.1) < 1e-6)
    }

    @Test func theMostRecentOfSeveralRunsIsRead() throws {
        let root = scratchDirectory("tb")
        try eventFile(root.appendingPathComponent("version_0"), [("loss", [0, 1, 2], [1, 0.9, 0.8])])
        Thread.sleep(forTimeInterval: 0.01)
        var later: [(tag: String, steps: [Int64], values: [Float])] = [
            ("loss", Array(0...5), [1, 0.8, 0.6, 0.5, 0.45, 0.42])
        ]
        later[0].steps = Array(0...5)
        try eventFile(root.appendingPathComponent("version_1"), later)
        // Both files have the same wall times; version_1 has more points and later times (1000 + index).
        let c = try TensorBoardReader.curves(at: root.path)
        #expect(c.epochCount == 6)
        #expect(c.source.contains("version_1"))
    }

    @Test func csvEdgeCases() throws {
        let nan = try CSVLogReader.read(
            path: tempFile("nan.csv", "epoch,loss,val_loss\n0,nan,nan\n1,nan,nan\n2,nan,nan\n"))
        #expect(Doctor().diagnose(nan).first?.id == .lrTooHigh)
        #expect(throws: DataError.self) {
            try CSVLogReader.read(path: tempFile("huge.csv", "epoch,loss,val_loss\n0,1.0,1.1\n1e30,0.9,1.0\n"))
        }
        let restarted = try CSVLogReader.read(
            path: tempFile("r.csv", "epoch,loss,val_loss\n0,1,1\n1,0.9,0.95\n2,0.8,0.9\n0,0.7,0.7\n1,0.6,0.65\n"))
        #expect(
            restarted.epochCount == 2 && restarted.trainLoss == [Double(Float(0.7)), Double(Float(0.6))],
            "the last run after a restart")
        // A restart after a run that diverged: the kept run's own divergence is still found.
        let bothDiverged = try CSVLogReader.read(
            path: tempFile("rn.csv", "epoch,loss,val_loss\n0,1,1\n1,nan,nan\n0,0.7,0.7\n1,0.6,0.65\n2,nan,0.6\n"))
        #expect(
            bothDiverged.epochCount == 3 && bothDiverged.trainLoss[2]?.isNaN == true
                && bothDiverged.validationLoss[2] == Double(Float(0.6)))
        let negative = try CSVLogReader.read(
            path: tempFile(
                "neg.csv",
                "epoch,loss,val_loss\n"
                    + (0..<10).map { "\($0),\(-1 - 0.2 * Double($0)),\(-0.9 - 0.2 * Double($0))" }.joined(
                        separator: "\n")))
        #expect(
            !Doctor().diagnose(negative).contains { $0.id == .lrTooHigh }, "a falling negative loss is not an explosion"
        )
        let short = try CSVLogReader.read(path: tempFile("short.csv", "epoch,loss,val_loss\n0,1.0,1.1\n"))
        #expect(Doctor().diagnose(short).map(\.id.rawValue) == ["too_few_epochs"])
    }
}

@Suite("The MLflow tracking server")
struct TrackingServerTests {
    @Test func theFlagThenAnHTTPEnvironmentThenTheRecordedServer() {
        let env = ["MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"]
        #expect(
            MLflowClient.trackingServer(flag: "http://host:1", recorded: "http://old:2", environment: env)?
                .absoluteString == "http://host:1")
        #expect(
            MLflowClient.trackingServer(flag: nil, recorded: "http://old:2", environment: env)?.absoluteString
                == "http://127.0.0.1:5000")
        // MLFLOW_TRACKING_URI may name a local store (file:, databricks): not a server to send to.
        let local = ["MLFLOW_TRACKING_URI": "file:///tmp/mlruns"]
        #expect(
            MLflowClient.trackingServer(flag: nil, recorded: "http://old:2", environment: local)?.absoluteString
                == "http://old:2")
        #expect(MLflowClient.trackingServer(flag: nil, environment: local) == nil)
        #expect(MLflowClient.trackingServer(flag: "ftp://host", environment: env) == nil, "a flag that is not http(s)")
        #expect(MLflowClient.trackingServer(flag: nil, environment: [:]) == nil)
    }
}
