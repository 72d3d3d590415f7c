import ArgumentParser
import Foundation
import Tune

extension TuneCommand {
    struct LRFind: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lr-find",
            abstract: "Run the learning-rate range test: sweep the rate from 1e-7 to 10 and suggest a starting rate.",
            usage: "tune lr-find --data <file> --target <column> [<options>]",
            discussion: """
                Takes the data and model flags of tune train (--data, --target, --hidden, --activation, --optimizer, \
                --batch-size, ...). Each seed sweeps a fresh network for one epoch (100 to 300 steps); the suggestion is a \
                tenth of the rate at the lowest smoothed loss, averaged (geometrically) over the seeds, with their spread. \
                Writes lr_find.csv to --out when given.
                """)

        @OptionGroup var train: TrainOptions
        @Option(help: "How many seeds to sweep.") var seeds: Int = 3

        func validate() throws {
            guard (1...10).contains(seeds) else { throw ValidationError("--seeds must be in 1...10, got \(seeds)") }
        }

        func run() throws {
            if train.tensorboard != nil || train.mlflow != nil {
                throw train.notLogging("tune lr-find")
            }
            let settings: TrainSettings = try train.settings()
            let prepared: (data: PreparedData, specification: MLPSpecification, configuration: TrainingConfiguration) =
                try TrainRun(settings: settings).prepare()
            for note in prepared.data.checkMessages { print("note: \(note)") }
            var test = LRRangeTest()
            test.seeds = (0..<seeds).map { settings.seed + UInt64($0) }
            let result = test.run(
                specification: prepared.specification, train: prepared.data.train,
                target: prepared.data.preprocessor.target, configuration: prepared.configuration)
            for sweep in result.sweeps {
                let marked = sweep.suggestion.flatMap { s in sweep.rates.firstIndex { $0 >= s * 10 } }.map { $0 + 1 }
                print(
                    "seed \(sweep.seed): \(sweep.rates.count) steps from \(String(format: "%.1e", sweep.rates.first ?? 0)) to \(String(format: "%.1e", sweep.rates.last ?? 0)); smoothed loss by step:"
                )
                let cap = 10 * (sweep.smoothed.min() ?? 1)
                print(
                    LossChart.render(
                        train: sweep.smoothed.map { min($0, cap) }, validation: [], marked: marked,
                        markLabel: "lowest smoothed loss at step", height: 8))
                print("  suggestion: \(sweep.suggestion.map { String(format: "%.2e", $0) } ?? "none")\n")
            }
            if let s = result.suggestion, let spread = result.spread {
                print(
                    String(
                        format:
                            "suggested learning rate: %.2e (geometric mean of %d seeds; the seeds' suggestions span a factor %.2f)",
                        s, result.sweeps.count, spread))
                print(
                    "next: tune train ... --lr \(String(format: "%.1e", s)), then a 10x grid around it (tune search does both)"
                )
            } else {
                print("no suggestion: the loss never fell (check the data and the model)")
            }
            if let out = settings.out {
                try createOutputDirectory(out)
                try writeAtomically(
                    Data(result.csv().utf8), to: URL(fileURLWithPath: out).appendingPathComponent("lr_find.csv"))
                print("written to \(out)/lr_find.csv")
            }
        }
    }
}
