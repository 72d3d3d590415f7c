import ArgumentParser
import Foundation
import Tune

extension TuneCommand {
    struct Ensemble: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train one configuration with several seeds and compare single models with their average.",
            usage: "tune ensemble --data <file> --target <column> [--out <dir>] [--members <n>] [<options>]",
            discussion: """
                Takes the flags of tune train. The split is the one --seed gives; member i trains from seed --seed + i \
                (initial weights, dropout masks, batch order). Each member is scored on the test rows, then the ensemble, \
                which averages the members' class probabilities (regression: their predictions). Prints the single models' \
                mean and spread against the ensemble, and whether the gain exceeds the seed noise. Writes each member to \
                --out/member-<seed> (a run directory tune predict reads) and --out/ensemble.json.
                """)

        @OptionGroup var train: TrainOptions
        @Option(help: "Members (seeds) in the ensemble.") var members: Int = 5

        func validate() throws {
            guard (2...100).contains(members) else {
                throw ValidationError("--members must be in 2...100, got \(members)")
            }
        }

        func run() throws {
            if train.tensorboard != nil || train.mlflow != nil {
                throw train.notLogging("tune ensemble")
            }
            let report = try SeedEnsemble.train(
                settings: try train.settings(defaultOut: "tune-ensemble-"), members: members,
                onNote: { printNow("note: \($0)") },
                onMember: { seed, monitor, value in
                    printNow(String(format: "member seed %llu: %@ %.4f", seed, monitor, value ?? .nan))
                })
            print(report.sentence)
            print("written to \(train.out ?? ""): member-<seed>/ and ensemble.json")
        }
    }
}
