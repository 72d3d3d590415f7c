import Testing
import TuneDiagnosis

/// The code of the DocC article "Reading curves with the doctor", run as written.
@Suite("The article: reading curves with the doctor")
struct DoctorArticleTests {
    @Test func theArticlesCurvesShowOverfittingFromEpochFour() throws {
        var curves = Curves()
        curves.trainLoss = [0.69, 0.52, 0.41, 0.33, 0.26, 0.20, 0.15, 0.11, 0.08, 0.06]
        curves.validationLoss = [0.70, 0.55, 0.47, 0.44, 0.45, 0.48, 0.53, 0.58, 0.64, 0.70]
        curves.metricName = "auc"
        curves.metricHigherIsBetter = true
        curves.metric = [0.71, 0.80, 0.84, 0.86, 0.86, 0.85, 0.85, 0.84, 0.84, 0.83]
        let findings = Doctor().diagnose(curves)
        let overfitting = try #require(findings.first { $0.id == .overfitting }, "\(findings.map(\.id))")
        #expect(overfitting.epochs.first == 4)
        #expect(!overfitting.nextStep.isEmpty && !overfitting.explanation.isEmpty)
    }
}
