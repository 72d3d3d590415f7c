import Foundation
import TestSupport
import Testing
@testable import Tune
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
