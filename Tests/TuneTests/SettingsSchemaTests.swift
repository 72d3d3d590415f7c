import Foundation
import Testing
import TuneData
@testable import TuneEngine
@testable import TuneRun
import TuneNN
import TuneSearch
import TuneTraining

/// One spelling per setting, and a resume key that follows the settings' "shapes training" flag.
@Suite("The settings schema")
struct SettingsSchemaTests {
    /// Settings with every optional set and every field away from its default.
    static var everything: TrainSettings {
        var s = TrainSettings()
        s.data = "d.csv"
        s.target = "y"
        s.task = .binary
        s.hidden = [8, 4]
        s.activation = .swish
        s.dropout = 0.3
        s.batchnorm = true
        s.optimizer = .adamw
        s.lr = 0.02
        s.weightDecay = 1e-4
        s.momentum = 0.8
        s.batchSize = .fixed(16)
        s.epochs = 7
        s.warmup = 1
        s.schedule = .cosine
        s.metric = .auc
        s.earlyStop = 3
        s.reduceOnPlateau = 2
        s.clip = 1
        s.labelSmoothing = 0.1
        s.seed = 9
        s.split = "0.5,0.25,0.25"
        s.ignore = ["id"]
        s.keep = ["code"]
        s.allowLeak = ["leak"]
        s.targetTransform = .log
        s.missing = .drop
        s.categoryLimit = 5
        s.delimiter = ";"
        s.out = "out"
        s.tensorboard = "tb"
        s.mlflow = "http://127.0.0.1:5000"
        s.mlflowExperiment = "e"
        return s
    }

    static func keys(_ data: Data) throws -> Set<String> {
        Set(try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]).keys)
    }

    @Test func everySettingIsWrittenAndReadBack() throws {
        let s = Self.everything
        let json = try jsonData(s)
        #expect(try Self.keys(json) == Set(TrainSettings.CodingKeys.allCases.map(\.stringValue)))
        #expect(try jsonDecoder().decode(TrainSettings.self, from: json) == s)
    }

    @Test func theResumeKeyTakesInWhatShapesTrainingAndNothingElse() throws {
        let s = Self.everything
        let shaping = try Self.keys(try s.shapingJSON())
        #expect(shaping == Set(TrainSettings.CodingKeys.allCases.filter(\.shapesTraining).map(\.stringValue)))
        #expect(shaping.isDisjoint(with: ["out", "tensorboard", "mlflow", "mlflow-experiment"]))
        // The digest earlier versions computed (the settings with the output and tracker options cleared), so that
        // their studies resume.
        var cleared = s
        cleared.out = nil
        cleared.tensorboard = nil
        cleared.mlflow = nil
        cleared.mlflowExperiment = nil
        #expect(try s.shapingJSON() == jsonData(cleared))
        // Another output directory or tracker: the same key; another seed: another key.
        var elsewhere = s
        elsewhere.out = "other"
        elsewhere.mlflow = nil
        #expect(try elsewhere.shapingJSON() == s.shapingJSON())
        var reseeded = s
        reseeded.seed = 10
        #expect(try reseeded.shapingJSON() != s.shapingJSON())
    }

    @Test func eachSettingHasOneNameEverywhere() throws {
        let names = Set(Hyperparameter.allCases.map(\.rawValue))
        // The recipe's candidates, a run's recorded settings and the search space use the schema's names.
        #expect(Set(RecipeCandidate.parameterNames).isSubset(of: names))
        #expect(RecipeCandidate.parameterNames == RecipeCandidate.parameterNames.sorted())
        let candidate = RecipeCandidate(
            lr: 0.01, batchSize: 32, schedule: .constant, warmup: 0, dropout: 0.1, batchnorm: false,
            activation: .relu, width: 64, depth: 2, weightDecay: 0, optimizer: .adam)
        #expect(Set(candidate.parameters.keys) == Set(RecipeCandidate.parameterNames))
        #expect(Set(TrainRun.hyperparameters(TrainSettings()).keys).isSubset(of: names))
        #expect(candidate.parameters["batch-size"] == .int(32) && candidate.parameters["batch_size"] == nil)
        // A setting's name in a settings file is its name in the schema.
        let settingKeys = Set(TrainSettings.CodingKeys.allCases.map(\.stringValue))
        for h in Hyperparameter.allCases where h != .width && h != .depth {
            #expect(settingKeys.contains(h.rawValue), "\(h.rawValue) is not a settings-file key")
        }
        // What a search space accepts.
        var space = SearchSpace()
        try space.apply(flags: ["batch-size=8|16", "weight-decay=0..0.1"])
        #expect(space.entries.map(\.setting.rawValue) == ["batch-size", "weight-decay"])
        #expect(throws: DataError.self) { try space.apply(flags: ["seed=1..3"]) }
    }

    @Test func aRecordedValueAppliesBack() throws {
        let s = Self.everything
        var specification = MLPSpecification(inputSize: 2, hiddenSizes: [1], outputSize: 1)
        var configuration = TrainingConfiguration()
        for h in Hyperparameter.allCases where ![.width, .depth, .batchSize].contains(h) {
            h.apply(h.value(in: s), to: &specification, &configuration)
        }
        Hyperparameter.batchSize.apply(.int(16), to: &specification, &configuration)
        let back = TrainSettings().applying(specification, configuration)
        for h in Hyperparameter.allCases {
            #expect(h.value(in: back) == h.value(in: s), "\(h.rawValue)")
        }
    }
}
