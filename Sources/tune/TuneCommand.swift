import ArgumentParser
import Tune

/// The `tune` command line: thin subcommands over the library.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Train neural networks on the CPU and tune them, with the reasons explained.",
        version: SwiftTune.version,
        subcommands: [
            Train.self, Predict.self, Evaluate.self, Doctor.self, LRFind.self, Search.self, Ensemble.self, Report.self,
            Worker.self, Studies.self, MLflowSync.self, Generate.self, Demo.self, Env.self
        ]
    )
}
