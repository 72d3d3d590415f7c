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
