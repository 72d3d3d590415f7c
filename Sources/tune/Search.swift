import ArgumentParser
import Foundation
import Tune
import TuneData
import TuneSearch

extension TuneCommand {
    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Search learning rate, width, depth, dropout and activation with TPE, random or quasi-random sampling and pruning.",
            discussion: """
            Takes the data and training flags of tune train (--data, --target, --epochs, --early-stop, --metric, ...); \
            the searched parameters replace --lr, --hidden, --dropout and --activation. The study is kept in \
            --out/study.sqlite: running the same command again resumes it (finished trials count towards --trials; \
            trials left running by a process that stopped are marked failed and queued again). Writes \
            --out/summary.json. The staged recipe (tune's default strategy to come) is not here yet.
            """)

        @OptionGroup var train: Train
        @Option(help: "tpe, random or quasirandom.") var strategy: String = "tpe"
        @Option(help: "median, asha, hyperband or none.") var pruner: String = "median"
        @Option(help: "Trials in the study, counting those already finished.") var trials: Int = 20
        @Option(help: "Seconds without a heartbeat after which a running trial is taken for dead.") var staleAfter: Double = 120

        func validate() throws {
            guard (1...100_000).contains(trials) else { throw ValidationError("--trials must be in 1...100000, got \(trials)") }
            guard staleAfter >= 0, staleAfter.isFinite else { throw ValidationError("--stale-after must be a number of seconds >= 0") }
        }

        func run() throws {
            let search = try withDataErrors {
                let search = SearchRun(settings: try train.settings(requireOut: true))
                search.strategy = try parseChoice(strategy, "--strategy", SearchStrategy.self)!
                search.pruner = try parseChoice(pruner, "--pruner", PrunerKind.self)!
                return search
            }
            search.trials = trials
            search.staleAfter = staleAfter
            search.onNote = { FileHandle.standardOutput.write(Data("note: \($0)\n".utf8)) }
            search.onTrial = { t in
                let value = t.value.map { String(format: "%.4f", $0) } ?? "-"
                let parameters = t.parameters.keys.sorted().map { "\($0)=\(t.parameters[$0]!)" }.joined(separator: " ")
                // Unbuffered, so that a log shows every finished trial even if the process is killed.
                FileHandle.standardOutput.write(Data("trial \(t.number) \(t.state.rawValue) \(value)  \(parameters)\(t.failure.map { "  (\($0))" } ?? "")\n".utf8))
            }
            let summary: SearchSummary
            do {
                summary = try search.run()
            } catch {
                throw failWithDataError(error)
            }
            let counts = summary.counts.keys.sorted().map { "\(summary.counts[$0]!) \($0)" }.joined(separator: ", ")
            print("\(summary.trials.count) trials (\(counts)); \(summary.strategy) sampler, \(summary.pruner) pruner, \(summary.direction) \(summary.monitor)")
            if let best = summary.best {
                let parameters = best.parameters.keys.sorted().map { "\($0)=\(best.parameters[$0]!)" }.joined(separator: " ")
                print("best: trial \(best.number), validation \(summary.monitor) \(String(format: "%.4f", best.value ?? .nan)): \(parameters)")
            } else {
                print("no trial finished")
            }
            print("written to \(train.out ?? "")/summary.json and study.sqlite")
        }
    }
}
