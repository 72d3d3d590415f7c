import Foundation
import TestSupport
import Testing
import TuneSearch

/// The code of the DocC article "Tuning your own training loop", run as written, with a training loop whose loss is
/// known: lowest at a learning rate of 1e-2 and one layer.
@Suite("The article: tuning your own training loop")
struct SearchArticleTests {
    func trainOneEpoch(lr: Double, layers: Int, epoch: Int) -> Double {
        let distance = log10(lr) + 2
        return distance * distance + 0.05 * Double(layers - 1) + 1 / Double(epoch)
    }

    @Test func theArticlesStudyFindsTheBestRateAndResumes() throws {
        let path = scratchDirectory().appendingPathComponent("study.sqlite").path
        func run() throws -> Study {
            let storage = try SQLiteStorage(path: path, direction: .minimize)
            let study = Study(
                direction: .minimize, sampler: TPESampler(seed: 1),
                pruner: MedianPruner(startupTrials: 5, warmupSteps: 2), storage: storage)
            try study.optimize(trials: 30) { trial in
                let lr = try trial.suggestFloat("lr", 1e-4, 1e-1, log: true)
                let layers = try trial.suggestInt("layers", 1, 3)
                var loss = Double.infinity
                for epoch in 1...20 {
                    loss = trainOneEpoch(lr: lr, layers: layers, epoch: epoch)
                    try trial.report(loss, step: epoch)
                    if try trial.shouldPrune() { throw SearchError.pruned }
                }
                return loss
            }
            return study
        }
        let study = try run()
        let trials = try study.trials
        #expect(trials.count == 30)
        #expect(trials.contains { $0.state == .pruned }, "the median pruner stops some trials")
        let best = try #require(try study.bestTrial)
        // The loss is 0.05 at lr 1e-2 and one layer; anything within half a decade of it scores under 0.3.
        #expect(abs(log10(try #require(best.parameters["lr"]?.double)) + 2) < 0.5, "\(best.parameters)")
        // Run again on the same file: the study resumes with 30 more trials.
        #expect(try run().trials.count == 60)
    }
}
