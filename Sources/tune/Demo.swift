import ArgumentParser
import Foundation
import Tune
import TuneTensor

extension TuneCommand {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a small Swish network on generated two-spiral data and show the loss falling.")

        @Option(help: "Random seed; the same seed gives the same run, bit for bit.")
        var seed: UInt64 = 42

        @Option(help: "Number of epochs.")
        var epochs: Int = 40

        @Option(help: "Learning rate of Adam.")
        var learningRate: Float = 0.01

        func validate() throws {
            guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
            guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be a positive number, got \(learningRate)") }
        }

        func run() throws {
            var config = DemoConfiguration()
            config.seed = seed
            config.epochs = epochs
            config.learningRate = learningRate
            let info = BLAS.info
            print("swift-tune \(SwiftTune.version) demo: two spirals, \(2 * config.pointsPerClass) points, network 2-\(config.hiddenUnits)-\(config.hiddenUnits)-2 (Swish), Adam lr \(config.learningRate), batch \(config.batchSize)")
            print("BLAS: \(info.library)\(info.kernel.map { " kernel \($0)" } ?? ""): \(info.reason)")
            print("")
            print(" epoch  train loss  val loss  val acc    time")
            let history = runDemo(config) { e in
                print(String(format: "%6d  %10.4f  %8.4f  %6.1f%%  %5.0fms", e.epoch, e.trainLoss, e.validationLoss, 100 * e.validationAccuracy, e.seconds * 1000))
            }
            print("")
            print("training loss per epoch:")
            print(Sparkline.render(history.map { Double($0.trainLoss) }, height: 8))
            guard let first = history.first, let last = history.last else { return }
            if let diverged = history.first(where: { !$0.trainLoss.isFinite }) {
                print("training diverged at epoch \(diverged.epoch) (the loss is no longer a finite number): lower --learning-rate, e.g. 10x")
                throw ExitCode(1)
            }
            let best = history.max { $0.validationAccuracy < $1.validationAccuracy }!
            print(String(format: "loss went from %.4f to %.4f; best validation accuracy %.1f%% at epoch %d", first.trainLoss, last.trainLoss, 100 * best.validationAccuracy, best.epoch))
        }
    }
}
