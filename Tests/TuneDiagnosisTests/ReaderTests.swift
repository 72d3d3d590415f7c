import Foundation
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
        let ids = Doctor().diagnose(c).map(\.id)
        #expect(ids.first == "overfitting", "a network memorising random labels: \(ids)")
    }

    @Test func kerasCSVLogger() throws {
        let c = try CSVLogReader.read(path: fixture("keras_log.csv"))
        #expect(c.epochCount == 8)
        #expect(abs((c.trainLoss[3] ?? 0) - 0.5058181881904602) < 1e-6, "epoch 3 (0-based) is the fourth")
        #expect(abs((c.validationLoss[3] ?? 0) - 0.7520460486412048) < 1e-6)
        #expect(c.metricName == "accuracy")
        #expect(Doctor().diagnose(c).first?.id == "overfitting")
    }

    @Test func anyTableWithNamedColumnsAndDirections() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("doctor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("log.csv").path
        try "epoch,fit,check,err\n1,1.0,1.1,0.5\n2,0.8,0.9,0.4\n3,nan,0.8,0.3\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try CSVLogReader.read(path: path, columns: CurveColumns(trainLoss: "fit", validationLoss: "check", metric: "err"))
        #expect(c.epochCount == 3)
        #expect(c.metricHigherIsBetter == false, "an error is better when lower")
        #expect(c.trainLoss[2].map { $0.isNaN } == true, "a logged NaN stays NaN: it means divergence")
        #expect(Doctor().diagnose(c).first?.id == "lr_too_high")
        do {
            _ = try CSVLogReader.read(path: path)
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message.contains("no loss column found") && e.message.contains("the columns are: epoch, fit, check, err"))
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
        #expect(Doctor().diagnose(c).first?.id == "overfitting")
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
        let c = try TensorBoardReader.curves(at: fixture("keras_tb"), columns: CurveColumns(trainLoss: "train:epoch_accuracy", validationLoss: "validation:epoch_loss"))
        #expect(abs((c.trainLoss[7] ?? 0) - 0.875) < 1e-6)
        do {
            _ = try TensorBoardReader.curves(at: fixture("keras_tb"), columns: CurveColumns(trainLoss: "nope"))
            Issue.record("no error")
        } catch let e as DataError {
            #expect(e.message.contains("no scalar series 'nope'") && e.message.contains("validation:epoch_loss"))
        }
    }
}
