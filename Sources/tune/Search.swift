import ArgumentParser
import Foundation
import Tune

/// Writes a line at once (unbuffered), so that a log shows every finished trial even if the process is killed.
func printNow(_ line: String) {
    StatusLine.shared.clear()
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension TuneCommand {
    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Tune a network: the staged recipe (default), or TPE, random or quasi-random search with pruning.",
            usage:
                "tune search --data <file> --target <column> [--strategy <strategy>] [--budget <budget>] [<options>]",
            discussion: """
                Takes the data and training flags of tune train (--data, --target, --epochs, --early-stop, --metric, ...). \
                The study is kept in --out/study.sqlite (default: tune-search-<data file name>): running the same command \
                again resumes it. Writes --out/summary.json. With --storage postgresql://... --study NAME the study \
                is kept in PostgreSQL instead, and tune worker processes on other machines train its queued trials \
                (see tune worker --help).

                The recipe (--strategy recipe) runs the stages in order and prints each decision with its reason: \
                0 sanity (initial loss against chance, overfitting one batch, an input-free baseline; a failure stops \
                the search), 1 learning rate on a 10x grid around the LR range test's suggestion with early stopping \
                deciding the epochs, then a 3x refinement, 2 batch size around sqrt(N) with the rate rescaled, 3 decay \
                schedule and warmup, 4 regularisation and architecture steered by the doctor's findings, 5 a seed \
                ensemble of --members models. --budget (trials, epochs or minutes, e.g. 30, 800epochs, 5min) bounds \
                stages 1-4, shared 40/20/15/25%; what the plan leaves goes to a local search around the best at the \
                end of stage 4. The best model is written to --out/best, the members to --out/ensemble.

                The other strategies search --space and --param (by default learning rate, width, depth, dropout and \
                activation), the other settings coming from the tune train flags, for --trials trials or until --budget \
                is spent, and keep the best complete trial's model in --out/best; trials left running by a process that \
                stopped are marked failed and queued again.

                Each trial is printed as it ends; on a terminal a status line shows the running trial, its epoch, the \
                best so far, the epochs trained and the time (with --jobs, of the trials this process trains and sees). The end prints the best model's loss chart. With \
                --tensorboard each trial gets a subdirectory (HParams tab); with --mlflow the study is a parent run and \
                each trial a nested run (what the server cannot take is kept for tune mlflow-sync). report.html is \
                written at the end.
                """)

        @OptionGroup var train: TrainOptions
        @Option(help: "recipe, tpe, random, quasirandom or grid.") var strategy: String = "recipe"
        @Option(help: "Classic strategies: median, asha, hyperband or none (default: median).") var pruner: String?
        @Option(
            help:
                "Classic strategies: trials in the study, counting those already finished (default: 20; grid: the grid's size)."
        ) var trials: Int?
        @Option(
            help:
                "Classic strategies: a YAML file of the settings to search (lr: {low: 1e-4, high: 1e-1, log: true}, dropout: [0, 0.3], ...)."
        ) var space: String?
        @Option(
            help: ArgumentHelp(
                "Classic strategies: one searched setting, NAME=LOW..HIGH[:log|:step=S] or NAME=A|B|C; repeatable, over --space.",
                valueName: "name=spec")) var param: [String] = []
        @Option(
            help:
                "What the search may spend: N trials, N epochs or N minutes (e.g. 30, 800epochs, 5min). Recipe: bounds stages 1-4 (default: each stage's full plan); classic strategies: replaces --trials."
        ) var budget: String?
        @Option(help: "Recipe: seeds in the final ensemble (1: the best model alone).") var members: Int = 5
        @Option(
            help:
                "Seconds without a heartbeat after which a running trial is taken for dead (a trial beats at every epoch and every quarter of this within an epoch)."
        ) var staleAfter: Double = 120
        @Option(
            help:
                "Trials trained at once, each in its own process with one BLAS thread (the recipe: a stage's independent candidates)."
        ) var jobs: Int = 1
        @OptionGroup var shared: StorageOptions
        @Flag(help: .hidden) var worker = false
        /// Set by `tune worker`: a worker with no leader's pipe on its input, and when it stops without a trial.
        @Flag(help: .hidden) var remoteWorker = false
        @Option(help: .hidden) var exitWhenIdle: Double?

        func validate() throws {
            if let trials {
                guard (1...100_000).contains(trials) else {
                    throw ValidationError("--trials must be in 1...100000, got \(trials)")
                }
            }
            guard (1...100).contains(members) else {
                throw ValidationError("--members must be in 1...100, got \(members)")
            }
            guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be in 1...256, got \(jobs)") }
            guard staleAfter >= 0, staleAfter.isFinite else {
                throw ValidationError("--stale-after must be a number of seconds >= 0")
            }
            if let budget, Budget(budget) == nil {
                throw ValidationError(
                    "--budget: expected a whole number of trials, or a number of epochs or minutes, above 0 (30, 30trials, 800epochs, 5min), got '\(budget)'"
                )
            }
        }

        /// In a worker process, one BLAS thread, and what tells it to stop between trials: the leader closing its
        /// input, for the workers of --jobs; nothing for `tune worker`, which stops when the leader has finished or
        /// when it has been idle for --exit-when-idle.
        func workerStop() -> () -> Bool {
            BLAS.setThreadCount(1)
            guard !remoteWorker else { return { false } }
            Workers.watchLeader()
            return Workers.leaderGone
        }

        /// The study's place when --storage names a database, with this command's arguments for workers to join.
        func location(_ settings: TrainSettings) throws -> StudyLocation? {
            let arguments = CommandLine.arguments.dropFirst()
            let launch = arguments.first == "search" ? Array(arguments.dropFirst()) : []
            return try shared.location(out: settings.out, launch: StorageOptions.launch(launch))
        }

        /// The settings, with the default output directory when --out is not given.
        func settings() throws -> TrainSettings {
            var s = try train.settings()
            if s.out == nil, let data = s.data {
                s.out = "tune-search-" + URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent
            }
            return s
        }

        func run() throws {
            let classic =
                strategy == "recipe"
                ? nil : try parseChoice(strategy, "--strategy", SearchStrategy.self, extra: ["recipe"])
            let prunerKind = try parseChoice(pruner ?? "median", "--pruner", PrunerKind.self)!
            guard let classic else {
                let classicOnly = [
                    ("--space", space != nil), ("--param", !param.isEmpty), ("--pruner", pruner != nil),
                    ("--trials", trials != nil)
                ]
                if let flag = classicOnly.first(where: { $0.1 })?.0 {
                    throw DataError(
                        path: flag,
                        "the recipe chooses what to search stage by stage, with early stopping and --budget; --space, "
                            + "--param, --pruner and --trials are for --strategy tpe, random, quasirandom or grid")
                }
                return try runRecipe()
            }
            let search = SearchRun(settings: try settings())
            search.location = try location(search.settings)
            search.exitWhenIdle = exitWhenIdle
            var searched =
                try space.map { try SearchSpace.load(path: $0) } ?? (param.isEmpty ? .standard : SearchSpace())
            try searched.apply(flags: param)
            search.space = searched
            configure(search, strategy: classic, pruner: prunerKind)
            let summary = try search.run()
            if worker { return }
            printSummary(summary, out: search.settings.out ?? "", study: search.location?.description)
        }

        /// The classic search's settings from the flags, its worker processes and what it prints as it goes.
        func configure(_ search: SearchRun, strategy classic: SearchStrategy, pruner prunerKind: PrunerKind) {
            search.strategy = classic
            search.pruner = prunerKind
            search.trials = trials ?? (classic == .grid ? GridSampler(search.space.gridValues).count : 20)
            search.jobs = jobs
            search.isWorker = worker
            var workers: Workers?
            if worker {
                search.shouldStop = workerStop()
            } else if jobs > 1 || shared.storage != nil {
                // Every process trains with one BLAS thread, the leader too, so that a trial's result does not depend
                // on which process trained it.
                BLAS.setThreadCount(1)
                // Started once the study exists (the leader creates it), so that workers never race to create it.
                search.onStudyReady = { workers = Workers.start(count: jobs - 1) }
                search.onFinishedOwnTrials = { workers?.stop() }
            }
            search.budget = budget.flatMap(Budget.init)
            search.staleAfter = staleAfter
            if !worker { search.onNote = { printNow("note: \($0)") } }
            var status = SearchStatus()
            if !worker {
                search.onEpoch = { n, record, history, limit in
                    status.count(history)
                    StatusLine.shared.show(status.line(trial: n, record: record, history: history, limit: limit))
                }
            }
            search.onTrial = { t in
                status.trialEnded(t.number, value: t.value, complete: t.state == .complete)
                let value = t.value.map { String(format: "%.4f", $0) } ?? "-"
                let parameters = t.parameters.keys.sorted().map { "\($0)=\(t.parameters[$0]!)" }.joined(separator: " ")
                printNow(
                    "trial \(t.number) \(t.state.rawValue) \(value)  \(parameters)\(t.failure.map { "  (\($0))" } ?? "")"
                )
            }
        }

        /// The classic search's end: the trials, the best one with its test metric, its loss chart, the files.
        func printSummary(_ summary: SearchSummary, out: String, study: String?) {
            let counts = summary.counts.keys.sorted().map { "\(summary.counts[$0]!) \($0)" }.joined(separator: ", ")
            print("searched: \(summary.space)")
            print(
                "\(summary.trials.count) trials (\(counts)), \(summary.epochs) epochs; \(summary.strategy) sampler, \(summary.pruner) pruner, \(summary.direction) \(summary.monitor)"
            )
            if let best = summary.best {
                let parameters = best.parameters.keys.sorted().map { "\($0)=\(best.parameters[$0]!)" }.joined(
                    separator: " ")
                let test = best.test?[summary.monitor].map { String(format: " (test %.4f)", $0) } ?? ""
                print(
                    "best: trial \(best.number), validation \(summary.monitor) \(String(format: "%.4f", best.value ?? .nan))\(test): \(parameters)"
                )
            } else {
                print("no trial finished")
            }
            printBestChart(out)
            print(
                "written to \(out): summary.json, \(study == nil ? "study.sqlite, " : "")"
                    + "best/ (the best complete trial's model)" + (study.map { "; the study is in \($0)" } ?? ""))
        }

        func runRecipe() throws {
            let recipe = RecipeRun(settings: try settings())
            recipe.location = try location(recipe.settings)
            recipe.budget = budget.flatMap(Budget.init)
            recipe.members = members
            recipe.staleAfter = staleAfter
            recipe.jobs = jobs
            if worker {
                if remoteWorker {
                    recipe.onTrial = { t in
                        let value = t.value.map { String(format: "%.4f", $0) } ?? "failed"
                        printNow(
                            "trial \(t.number)  \(value)  best epoch "
                                + "\(t.bestEpoch.map(String.init) ?? "-")/\(t.epochsRun)"
                        )
                    }
                }
                try recipe.work(shouldStop: workerStop(), idleLimit: exitWhenIdle)
                return
            }
            var workers: Workers?
            if shared.storage != nil { BLAS.setThreadCount(1) }
            if jobs > 1 {
                BLAS.setThreadCount(1)
                recipe.onStudyReady = { workers = Workers.start(count: jobs - 1) }
            }
            defer { workers?.stop() }
            try runAndPrint(recipe)
        }
    }
}

/// Runs the recipe, printing each trial and stage as it ends, then the stage-by-stage table and the best model.
func runAndPrint(_ recipe: RecipeRun) throws {
    recipe.onNote = { printNow("note: \($0)") }
    var first: RecipeCandidate?
    var status = SearchStatus()
    recipe.onEpoch = { n, record, history, limit in
        status.count(history)
        StatusLine.shared.show(status.line(trial: n, record: record, history: history, limit: limit))
    }
    recipe.onTrial = { t in
        status.trialEnded(t.number, value: t.value)
        let value = t.value.map { String(format: "%.4f", $0) } ?? "failed"
        let epochs = "\(t.bestEpoch.map(String.init) ?? "-")/\(t.epochsRun)"
        printNow(
            "  trial \(t.number)\(t.reused ? " (read back)" : "")  \(value)  best epoch \(epochs)  \(t.candidate.changes(from: first))\(t.failure.map { "  (\($0))" } ?? "")"
        )
        if first == nil { first = t.candidate }
    }
    recipe.onStage = { s in
        printNow("stage \(s.number) \(s.name): \(s.decision)")
        if !s.reason.isEmpty { printNow("  why: \(s.reason)") }
        for note in s.notes { printNow("  note: \(note)") }
    }
    let out = recipe.settings.out ?? ""
    printNow(
        "tune search: the staged recipe on \(recipe.settings.data ?? "") (target \(recipe.settings.target ?? "")), "
            + "study in \(recipe.location?.description ?? SearchRun.studyPath(out))"
    )
    let summary: RecipeSummary
    do {
        summary = try recipe.run()
    } catch let stopped as RecipeStopped {
        // A failed check (sanity, no rate that trains, nothing beats the input-free baseline): status 1, not bad input.
        StatusLine.shared.clear()
        FileHandle.standardError.write(Data("error: \(stopped)\n".utf8))
        throw ExitCode(1)
    }
    print("")
    print(RecipeTable.render(summary))
    printBestChart(out)
    print(
        "written to \(out): summary.json, \(recipe.location == nil ? "study.sqlite, " : "")best/"
            + (summary.ensemble != nil ? ", ensemble/" : "")
    )
}

/// The best model's training and validation loss, its selected epoch marked, from `best/history.json` of a study.
func printBestChart(_ out: String) {
    let url = URL(fileURLWithPath: out).appendingPathComponent("best/history.json")
    guard let data = try? Data(contentsOf: url), let h = try? jsonDecoder().decode(History.self, from: data),
        !h.epochs.isEmpty
    else { return }
    print("")
    print("the best model's loss:")
    print(
        LossChart.render(
            train: h.epochs.map(\.trainLoss), validation: h.epochs.map(\.validationLoss), marked: h.bestEpoch))
}
