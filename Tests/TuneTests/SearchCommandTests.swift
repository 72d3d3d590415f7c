import Foundation
import TestSupport
import Testing
import TuneSearch
@testable import Tune
@testable import TuneEngine
@testable import TuneReport
@testable import TuneRun
@testable import TuneTraining

@Suite("tune search", .serialized)
struct SearchCommandTests {
    @Test func aStudyKilledWithSIGKILLLosesNoFinishedTrialAndResumes() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("study").path
        #expect(try runTune(["generate", "moons", "--rows", "3000", "--seed", "2", "--out", data]).status == 0)
        let arguments = [
            "search", "--data", data, "--target", "label", "--epochs", "15", "--pruner", "none", "--strategy", "random",
            "--out", out
        ]

        // Start a long study and kill it without warning once a few trials have finished.
        let process = Process()
        process.executableURL = tuneExecutable()
        process.arguments = arguments + ["--trials", "500"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let path = out + "/study.sqlite"
        var before: [FrozenTrial] = []
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            guard FileManager.default.fileExists(atPath: path),
                let trials = try? SQLiteStorage(path: path, direction: .maximize).allTrials()
            else { continue }
            if trials.filter({ $0.state == .complete }).count >= 3 { break }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        before = try SQLiteStorage(path: path, direction: .maximize).allTrials()
        let finishedBefore = before.filter { $0.state.isFinished }
        let running = before.filter { $0.state == .running }
        #expect(finishedBefore.count >= 3 && running.count <= 1, "\(before.map(\.state))")

        // Resume with two more trials; the killed trial's heartbeat is fresh, so take it for dead at once.
        let resumed = try runTune(arguments + ["--trials", String(finishedBefore.count + 2), "--stale-after", "0"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.output.contains("resuming the study"))
        let after = try SQLiteStorage(path: path, direction: .maximize).allTrials()
        for t in finishedBefore {
            #expect(after[t.number] == t, "finished trial \(t.number) is kept as it was")
        }
        for t in running {
            #expect(after[t.number].state == .failed && after[t.number].failure?.contains("heartbeat") == true)
            let retries = after.filter { $0.attributes["retry_of"] == String(t.number) }
            #expect(
                retries.count == 1 && retries[0].state == .complete,
                "the killed configuration runs once more, to completion")
            #expect(
                retries[0].parameters.filter { t.parameters[$0.key] != nil } == t.parameters.filter { _ in true },
                "with the parameters it had drawn")
        }
        #expect(
            after.filter { $0.state.isFinished }.count == finishedBefore.count + running.count + 2,
            "two more trials, plus the killed one's retry")
        #expect(after.allSatisfy { $0.state != .running })
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as? [String: Any]
        #expect((summary?["trials"] as? [Any])?.count == after.count)
    }

    @Test func unknownStrategiesAndPrunersAreNamedInTheError() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path
        #expect(try runTune(["generate", "moons", "--rows", "100", "--out", data]).status == 0)
        let bad = try runTune([
            "search", "--data", data, "--target", "label", "--strategy", "bayes", "--out",
            dir.appendingPathComponent("s").path
        ])
        #expect(
            bad.status == 2 && bad.error.contains("--strategy")
                && bad.error.contains("recipe, tpe, random, quasirandom"), "\(bad.error)")
        let badPruner = try runTune([
            "search", "--data", data, "--target", "label", "--pruner", "sha", "--out",
            dir.appendingPathComponent("s").path
        ])
        #expect(
            badPruner.status == 2 && badPruner.error.contains("median, asha, hyperband, none"), "\(badPruner.error)")
        let recipeTrials = try runTune([
            "search", "--data", data, "--target", "label", "--trials", "5", "--out",
            dir.appendingPathComponent("s").path
        ])
        #expect(
            recipeTrials.status == 2 && recipeTrials.error.contains("--trials")
                && recipeTrials.error.contains("--budget"), "\(recipeTrials.error)")
        #expect(
            !FileManager.default.fileExists(atPath: dir.appendingPathComponent("s").path),
            "nothing written on bad flags")
    }

    @Test func theRecipePrintsItsStagesAndATrainCommandThatReproducesTheBestModel() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("recipe").path
        #expect(try runTune(["generate", "moons", "--rows", "400", "--seed", "5", "--out", data]).status == 0)
        let run = try runTune([
            "search", "--data", data, "--target", "label", "--epochs", "10", "--members", "2", "--out", out
        ])
        #expect(run.status == 0, "\(run.error)")
        for stage in [
            "stage 0 sanity", "stage 1 learning rate and epochs", "stage 2 batch size", "stage 3 decay and warmup",
            "stage 4 regularisation and architecture", "stage 5 seed ensemble"
        ] {
            #expect(run.output.contains(stage), "\(stage)")
        }
        #expect(
            run.output.contains("stage  ") && run.output.contains("decision")
                && run.output.contains("ensemble: test auc"))
        let command = try #require(run.output.split(separator: "\n").first { $0.hasPrefix("  tune train ") })
        var arguments = command.trimmingCharacters(in: .whitespaces).split(separator: " ").dropFirst().map(String.init)
        arguments += ["--out", dir.appendingPathComponent("again").path, "--quiet"]
        #expect(try runTune(arguments).status == 0)
        let best = try Data(contentsOf: URL(fileURLWithPath: out + "/best/model/model.safetensors"))
        let again = try Data(contentsOf: dir.appendingPathComponent("again/model/model.safetensors"))
        #expect(best == again, "the printed command trains the best model again, bit for bit")
        // The best model's loss is drawn at the end, its selected epoch marked.
        let history = try jsonDecoder().decode(
            History.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/best/history.json")))
        let selected = try #require(history.bestEpoch)
        #expect(run.output.contains("the best model's loss:") && run.output.contains("(^ selected epoch \(selected);"))

        let badBudget = try runTune([
            "search", "--data", data, "--target", "label", "--budget", "5 parsecs", "--out", out
        ])
        #expect(badBudget.status != 0 && badBudget.error.contains("--budget"), "\(badBudget.error)")
    }

    @Test func aClassicSearchKeepsItsBestTrialsModelAndStopsAtItsEpochBudget() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("tpe").path
        #expect(try runTune(["generate", "moons", "--rows", "300", "--seed", "6", "--out", data]).status == 0)
        let run = try runTune([
            "search", "--data", data, "--target", "label", "--strategy", "random", "--pruner", "none", "--epochs", "6",
            "--budget", "30epochs", "--out", out
        ])
        #expect(run.status == 0, "\(run.error)")
        let summary =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
            as! [String: Any]
        // Trials of 6 epochs each (no pruning, no early stopping) until 30 epochs are spent: 5 trials.
        #expect(summary["epochs"] as? Int == 30 && (summary["trials"] as? [Any])?.count == 5)
        let best = summary["best"] as! [String: Any]
        let metrics =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/best/metrics.json")))
            as! [String: Any]
        #expect(
            (metrics["validation"] as! [String: Double])["auc"] == best["value"] as? Double,
            "best/ holds the best trial's model")
        #expect((metrics["test"] as! [String: Double]) == best["test"] as? [String: Double])
        let history = try jsonDecoder().decode(
            History.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/best/history.json")))
        let selected = try #require(history.bestEpoch)
        #expect(run.output.contains("the best model's loss:") && run.output.contains("(^ selected epoch \(selected);"))
        // The study keeps every trial's curves: tune doctor judges each against the best of them.
        let doctor = try runTune(["doctor", out, "--json"])
        #expect(doctor.status == 0, "\(doctor.error)")
        struct Output: Decodable {
            struct Reference: Decodable { let run: String?; let loss: Double }
            struct Run: Decodable { let name: String; let epochs: Int; let verdict: String }
            let reference: Reference?
            let runs: [Run]
        }
        let diagnosis = try JSONDecoder().decode(Output.self, from: Data(doctor.output.utf8))
        #expect(
            diagnosis.runs.map(\.name) == (0..<5).map { "trial \($0)" } && diagnosis.runs.allSatisfy { $0.epochs == 6 })
        let lowest = history.epochs.map(\.validationLoss).min()!
        #expect(
            (diagnosis.reference?.loss ?? .infinity) <= lowest,
            "the reference is the lowest of every trial's, the best model's among them")
        #expect(try runTune(["doctor", out]).output.contains("Comparison"))
    }

    @Test func aResumedClassicSearchCountsTheTimeItsTrialsTook() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("random").path
        #expect(try runTune(["generate", "moons", "--rows", "300", "--seed", "6", "--out", data]).status == 0)
        let search = [
            "search", "--data", data, "--target", "label", "--strategy", "random", "--pruner", "none", "--epochs", "6",
            "--out", out
        ]
        #expect(try runTune(search + ["--trials", "3"]).status == 0)
        let storage = try SQLiteStorage(path: out + "/study.sqlite", direction: .maximize)
        let seconds = try storage.allTrials().map { Double($0.attributes["seconds"] ?? "") ?? 0 }
        #expect(seconds.count == 3 && seconds.allSatisfy { $0 > 0 }, "each trial records the seconds it took")
        // A budget of half what the three trials took is spent already: the resumed search starts no trial.
        let half = seconds.reduce(0, +) / 2 / 60
        let resumed = try runTune(search + ["--budget", String(format: "%.9fmin", half)])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(try storage.allTrials().count == 3, "\(resumed.output)")
    }

    @Test func theStatusLineSaysWhereTheSearchIs() {
        let start = Date(timeIntervalSince1970: 1000)
        var status = SearchStatus(started: start)
        var history = History()
        history.monitor = "rmse"
        history.monitorHigherIsBetter = false
        let record = EpochRecord(
            epoch: 3, trainLoss: 1, validationLoss: 1, metrics: ["rmse": 0.51234], learningRate: 0.1,
            gradientNormMean: 0, gradientNormMax: 0, seconds: 0, samplesPerSecond: 0)
        // Before the first epoch the direction is not known; the pruned and the failed trial never count.
        status.trialEnded(0, value: 0.7)
        status.trialEnded(1, value: 0.6)
        status.trialEnded(2, value: 0.5, complete: false)
        status.trialEnded(3, value: nil)
        #expect(
            status.epoch(trial: 4, record: record, history: history, limit: 20, now: start.addingTimeInterval(75))
                == "trial 4 · epoch 3/20 · val rmse 0.5123 · best 0.6000 (trial 1) · 1 epoch trained · 1:15")
        status.trialEnded(4, value: 0.6)
        #expect(status.best?.trial == 1, "the first of equals")
        #expect(
            status.epoch(trial: 5, record: record, history: history, limit: 20, now: start.addingTimeInterval(3671))
                == "trial 5 · epoch 3/20 · val rmse 0.5123 · best 0.6000 (trial 1) · 2 epochs trained · 61:11")
    }

    @Test func parallelJobsGiveTheResultsOfASequentialRun() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path
        #expect(try runTune(["generate", "moons", "--rows", "400", "--seed", "3", "--out", data]).status == 0)
        func summary(_ out: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json")))
                as! [String: Any]
        }
        // The sequential runs with one BLAS thread, as each parallel job has.
        let one: [String: String?] = ["OPENBLAS_NUM_THREADS": "1"]
        for (name, flags) in [
            ("recipe", ["--members", "1"]), ("random", ["--strategy", "random", "--pruner", "none", "--trials", "6"])
        ] {
            let arguments = ["search", "--data", data, "--target", "label", "--epochs", "6"] + flags
            let a = dir.appendingPathComponent("\(name)-1").path, b = dir.appendingPathComponent("\(name)-2").path
            let sequential = try runTune(arguments + ["--out", a], environment: one)
            let parallel = try runTune(arguments + ["--jobs", "2", "--out", b])
            #expect(sequential.status == 0 && parallel.status == 0, "\(sequential.error) \(parallel.error)")
            let sa = try summary(a), sb = try summary(b)
            // Every trial: the same number, configuration and value.
            func trials(_ s: [String: Any]) throws -> [String] {
                try (s["trials"] as! [[String: Any]]).map { t in
                    let kept = t.filter { ["number", "value", "candidate", "parameters", "bestEpoch"].contains($0.key) }
                    return String(
                        decoding: try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]),
                        as: UTF8.self)
                }.sorted()
            }
            #expect(try trials(sa) == trials(sb), "\(name)")
            #expect(try trials(sa).count >= 6)
            if name == "recipe" {
                #expect(
                    (sa["stages"] as! [[String: Any]]).map { $0["decision"] as! String }.dropLast()
                        == (sb["stages"] as! [[String: Any]]).map { $0["decision"] as! String }.dropLast(),
                    "the same decisions")
            }
            let ma = try Data(contentsOf: URL(fileURLWithPath: a + "/best/model/model.safetensors"))
            let mb = try Data(contentsOf: URL(fileURLWithPath: b + "/best/model/model.safetensors"))
            #expect(ma == mb, "\(name): the same best model, bit for bit")
        }
    }
}
