import ArgumentParser
import Foundation
import Tune
import TuneData
import TuneTensor

extension TuneCommand {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate two-spiral data and run tune train on it: the epoch table, the loss chart, the chosen epoch.")

        @Option(help: "Where to write the data and the run.") var out = "tune-demo"
        @Option(help: "Random seed; the same seed gives the same run, bit for bit.") var seed: UInt64 = 42
        @Option(help: "Number of epochs.") var epochs: Int = 40
        @Option(help: "Learning rate of Adam.") var learningRate: Double = 0.01

        func validate() throws {
            guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
            guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be a positive number, got \(learningRate)") }
        }

        func run() throws {
            let data = URL(fileURLWithPath: out).appendingPathComponent("spirals.csv").path
            let runDirectory = URL(fileURLWithPath: out).appendingPathComponent("run").path
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                try Tune.Demo.writeData(to: data, seed: seed)
            } catch {
                throw failWithDataError(error)
            }
            let settings = Tune.Demo.settings(data: data, out: runDirectory, seed: seed, epochs: epochs, learningRate: learningRate)
            let info = BLAS.info
            print("swift-tune \(SwiftTune.version) demo: two interleaved spirals (\(2 * Tune.Demo.pointsPerClass) points), written to \(data)")
            print("BLAS: \(info.library)\(info.kernel.map { " kernel \($0)" } ?? ""): \(info.reason)")
            print("$ \(Tune.Demo.command(settings))")
            print("")
            let run = TrainRun(settings: settings, command: Tune.Demo.command(settings))
            let printer = EpochPrinter(mode: .table)
            run.onNote = { printer.note($0) }
            run.onEpoch = { printer.epoch($0, history: $1) }
            let outcome: TrainOutcome
            do {
                outcome = try run.run()
            } catch {
                throw failWithDataError(error)
            }
            printer.summary(outcome, out: runDirectory)
            if outcome.result.history.status == .diverged { throw ExitCode(1) }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a generated data set as CSV: moons, spirals, checkerboard, classification or regression.")

        @Argument(help: "moons, spirals, checkerboard, classification or regression.") var kind: String
        @Option(help: "Number of rows (spirals: rounded down to an even number, half per class).") var rows: Int = 1000
        @Option(help: "Random seed.") var seed: UInt64 = 0
        @Option(help: "Noise: coordinate noise (moons, spirals), label noise fraction (classification), target noise (regression).") var noise: Double?
        @Option(help: "Classes of 'classification'.") var classes: Int = 2
        @Option(help: "Input features of 'classification' (informative + redundant + noise split 4:2:4) and 'regression'.") var features: Int = 10
        @Option(help: "The CSV file to write.") var out: String

        func validate() throws {
            guard rows >= 2 && rows <= 100_000_000 else { throw ValidationError("--rows must be in 2...100000000, got \(rows)") }
            guard classes >= 2 && classes <= 100 else { throw ValidationError("--classes must be in 2...100, got \(classes)") }
            guard features >= 3 && features <= 10_000 else { throw ValidationError("--features must be in 3...10000, got \(features)") }
            if kind == "classification" { guard rows >= classes else { throw ValidationError("--rows (\(rows)) must be at least --classes (\(classes))") } }
            if let noise { guard noise >= 0 && noise.isFinite else { throw ValidationError("--noise must be zero or positive, got \(noise)") } }
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
                    throw ValidationError("\(classes) classes need more features (\(informative) informative of \(features))")
                }
                let (x, y) = Synthetic.classification(count: rows, classes: classes, informative: informative, redundant: redundant,
                                                      noise: features - informative - redundant, labelNoise: noise ?? 0.01, using: &rng)
                text = Synthetic.csv(x: x, targets: y.map(String.init))
            case "regression":
                let (x, y) = Synthetic.regression(count: rows, features: features, informative: max(1, features / 2),
                                                  noise: Float(noise ?? 0.5), using: &rng)
                text = Synthetic.csv(x: x, targets: y.map { String($0) }, targetName: "target")
            default:
                throw ValidationError("unknown kind '\(kind)': expected moons, spirals, checkerboard, classification or regression")
            }
            try withDataErrors { try writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: out)) }
        }
    }
}
