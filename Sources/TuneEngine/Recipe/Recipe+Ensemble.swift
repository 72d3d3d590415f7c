import Foundation
import TuneData
import TuneDiagnosis
import TuneNN
import TuneReport
import TuneRun
import TuneSearch
import TuneTensor
import TuneTraining

/// Stage 5: the seed ensemble of the best configuration.
extension RecipeStudy {
    func ensembleStage(_ c: RecipeCandidate, epochLimit: Int, out: URL) throws -> (
        EnsembleReport?, [String: Double], RecipeStage
    ) {
        var stage = RecipeStage(number: 5, name: "seed ensemble")
        let seeds = (0..<UInt64(max(members, 1))).map { settings.seed &+ $0 }
        let ensemble = SeedEnsemble(
            data: data, specification: specification(c),
            configuration: trainingConfiguration(c, epochLimit: epochLimit, seed: settings.seed), seeds: seeds)
        let runSettings = settings(for: c, epochLimit: epochLimit)
        let result = try ensemble.run(
            settings: runSettings, out: out, bestDirectory: "best", membersDirectory: members > 1 ? "ensemble" : nil)
        ensembleEpochs = result.epochs
        // With no test rows the members are scored on the validation rows: not reported as test metrics.
        let test = data.test.count > 0 ? result.memberTestMetrics.first ?? [:] : [:]
        let report = members > 1 ? result.report : nil
        (stage.decision, stage.reason) = RecipeDecisions.ensembleOutcome(
            report, members: members, seeds: seeds.count, bestDirectory: out.appendingPathComponent("best").path)
        return (report, test, stage)
    }
}
