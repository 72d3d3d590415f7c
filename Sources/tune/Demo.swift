import ArgumentParser
import Foundation
import Tune

extension TuneCommand {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Generate a three-class data set and run the staged recipe (tune search) on it, then chart the best model's losses."
        )

        @Option(help: "Where to write the data and the study.") var out = "tune-demo"
        @Option(help: "Random seed; the same seed gives the same study, bit for bit.") var seed: UInt64 = 42
        @Option(help: "The most epochs a trial may run.") var epochs: Int = 40

        func validate() throws {
            guard (2...10_000).contains(epochs) else {
                throw ValidationError("--epochs must be in 2...10000, got \(epochs)")
            }
        }

        func run() throws {
            let data = URL(fileURLWithPath: out).appendingPathComponent("classes.csv").path
            let studyDirectory = URL(fileURLWithPath: out).appendingPathComponent("search").path
            try createOutputDirectory(out)
            try TuneEngine.Demo.writeData(to: data, seed: seed)
            let settings = TuneEngine.Demo.settings(data: data, out: studyDirectory, seed: seed, epochs: epochs)
            let info = BLAS.info
            print(
                "swift-tune \(SwiftTune.version) demo: \(TuneEngine.Demo.rows) rows of three classes, 12 features, 10% of labels random, written to \(data)"
            )
            print("BLAS: \(info.library)\(info.kernel.map { " kernel \($0)" } ?? ""): \(info.reason)")
            print("$ \(TuneEngine.Demo.command(settings))")
            print("")
            try runAndPrint(RecipeRun(settings: settings))
            // runAndPrint has drawn the best model's loss.
            if FileManager.default.fileExists(
                atPath: URL(fileURLWithPath: studyDirectory).appendingPathComponent("best/history.json").path)
            {
                print(
                    "next: tune doctor \(shellQuoted(studyDirectory + "/best")), or tune predict --model \(shellQuoted(studyDirectory + "/best")) --data FILE"
                )
            }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a generated data set as CSV: moons, spirals, checkerboard, classification or regression.")

        @Argument(help: "moons, spirals, checkerboard, classification or regression.") var kind: String
        @Option(help: "Number of rows (spirals: rounded down to an even number, half per class).") var rows: Int = 1000
        @Option(help: "Random seed.") var seed: UInt64 = 0
        @Option(
            help:
                "Noise: coordinate noise (moons, spirals), label noise fraction (classification), target noise (regression)."
        ) var noise: Double?
        @Option(help: "Classes of 'classification'.") var classes: Int = 2
        @Option(
            help: "Input features of 'classification' (informative + redundant + noise split 4:2:4) and 'regression'.")
        var features: Int = 10
        @Option(help: "The CSV file to write.") var out: String

        func validate() throws {
            guard rows >= 2 && rows <= 100_000_000 else {
                throw ValidationError("--rows must be in 2...100000000, got \(rows)")
            }
            guard classes >= 2 && classes <= 100 else {
                throw ValidationError("--classes must be in 2...100, got \(classes)")
            }
            guard features >= 3 && features <= 10_000 else {
                throw ValidationError("--features must be in 3...10000, got \(features)")
            }
            if kind == "classification" {
                guard rows >= classes else {
                    throw ValidationError("--rows (\(rows)) must be at least --classes (\(classes))")
                }
            }
            if let noise {
                guard noise >= 0 && noise.isFinite else {
                    throw ValidationError("--noise must be zero or positive, got \(noise)")
                }
            }
        }

        func run() throws {
            var rng = PhiloxRandom(seed: seed)
            let text: String
            switch kind {
            case "moons":
                let (x, y) = Synthetic.twoMoons(count: rows, noise: Float(noise ?? 0.1), using: &rng)
                text = Synthetic.csv(x: x, targets: y.map(String.init))
            case "spirals":
                let (x, y) = Synthetic.twoSpirals(pointsPerClass: rows / 2, noise: Float(noise ?? 0.02), using: &rng)
                text = Synthetic.csv(x: x, targets: y.map(String.init))
            case "checkerboard":
                let (x, y) = Synthetic.checkerboard(count: rows, using: &rng)
                text = Synthetic.csv(x: x, targets: y.map(String.init))
            case "classification":
                let informative = max(1, features * 4 / 10), redundant = features * 2 / 10
                guard classes <= 1 << min(informative, 20) else {
                    throw ValidationError(
                        "\(classes) classes need more features (\(informative) informative of \(features))")
                }
                let (x, y) = Synthetic.classification(
                    count: rows, classes: classes, informative: informative, redundant: redundant,
                    noise: features - informative - redundant, labelNoise: noise ?? 0.01, using: &rng)
                text = Synthetic.csv(x: x, targets: y.map(String.init))
            case "regression":
                let (x, y) = Synthetic.regression(
                    count: rows, features: features, informative: max(1, features / 2),
                    noise: Float(noise ?? 0.5), using: &rng)
                text = Synthetic.csv(x: x, targets: y.map { String($0) }, targetName: "target")
            default:
                throw ValidationError(
                    "unknown kind '\(kind)': expected moons, spirals, checkerboard, classification or regression")
            }
            try writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: out))
        }
    }
}
