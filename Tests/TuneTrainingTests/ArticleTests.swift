import Foundation
import Testing
import TuneData
import TuneNN
import TuneRandom
import TuneTensor
import TuneTraining

/// The code of the DocC article "Training a network in code", run as written.
@Suite("The article: training a network in code")
struct TrainingArticleTests {
    @Test func theArticlesCodeTrainsAndScoresANetwork() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("article-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var rng = PhiloxRandom(seed: 3)
        let (x, y) = Synthetic.twoMoons(count: 600, noise: 0.2, using: &rng)
        let path = directory.appendingPathComponent("moons.csv").path
        try Synthetic.csv(x: x, targets: y.map(String.init)).write(toFile: path, atomically: true, encoding: .utf8)

        // As in the article.
        let table = try CSVReader.read(path: path)
        let data = try DataPreparation.prepare(table, target: "label", seed: 0)
        let model = MLP(
            MLPSpecification(
                inputSize: data.preprocessor.inputSize, hiddenSizes: [32, 32],
                outputSize: data.preprocessor.outputSize, activation: .swish),
            seed: 0)
        var configuration = TrainingConfiguration()
        configuration.epochs = 40
        configuration.learningRate = 0.01
        configuration.earlyStoppingPatience = 8
        let result = Trainer(configuration: configuration).fit(
            model, train: data.train, validation: data.validation, target: data.preprocessor.target)
        let test = Evaluation.metrics(
            outputs: withoutGradient { model(data.test.x) }, data: data.test, target: data.preprocessor.target)

        // Two moons with little noise: a small network separates them.
        #expect(result.monitor == .auc && result.history.bestEpoch != nil)
        #expect((test["auc"] ?? 0) > 0.95, "\(test)")
    }
}
