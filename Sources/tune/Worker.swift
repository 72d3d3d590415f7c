import ArgumentParser
import Foundation
import Tune
import TunePostgres

extension TuneCommand {
    struct Worker: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the trials of a study kept in PostgreSQL, on any machine that reaches the database.",
            usage: "tune worker --storage postgresql://USER@HOST:PORT/DATABASE --study <name> [--jobs N] [<options>]",
            discussion: """
                The leader (tune search --storage ... --study NAME) keeps its arguments, a digest of its data file \
                and the trials to train in the study; a worker reads them, checks that its data file is the same \
                (--data names this machine's copy when the path differs), and claims queued trials until the leader \
                has finished, or until it has had nothing to do for --exit-when-idle seconds. A worker that dies \
                leaves its trial running: after --stale-after seconds without a heartbeat the leader marks it failed \
                and queues it again. Each worker process trains with one BLAS thread; --jobs N runs N of them.
                """)

        @OptionGroup var shared: StorageOptions
        @Option(help: "Worker processes on this machine, one BLAS thread each.") var jobs: Int = 1
        @Option(help: "Stop after this many seconds without a trial to train (default: only when the leader finishes).")
        var exitWhenIdle: Double?
        @Option(help: "This machine's copy of the data file (default: the leader's path).") var data: String?
        @Option(help: "Where this worker writes its trials' runs (default: the leader's --out).") var out: String?

        func validate() throws {
            guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be in 1...256, got \(jobs)") }
            if let exitWhenIdle, !(exitWhenIdle > 0 && exitWhenIdle.isFinite) {
                throw ValidationError("--exit-when-idle must be a number of seconds above 0")
            }
        }

        func run() throws {
            guard let address = try shared.address() else {
                throw ValidationError("--storage postgresql://... is required: the database the leader's study is in")
            }
            guard let name = shared.study else { throw ValidationError("--study NAME is required") }
            let (storage, launch) = try joinStudy(address, name)
            if let path = data ?? Self.value(of: "--data", in: launch) {
                try StudyLocation.checkData(path, against: storage)
            }
            if try storage.studyAttribute(StudyLocation.Key.finished) == "true" {
                print("the study's leader has finished: nothing to train")
                return
            }
            var arguments = StorageOptions.removing(
                Set([data.map { _ in "--data" }, out.map { _ in "--out" }].compactMap { $0 }), from: launch)
            arguments += [("--data", data), ("--out", out)].flatMap { flag, value in value.map { [flag, $0] } ?? [] }
            arguments += shared.arguments + ["--worker", "--remote-worker"]
            if let exitWhenIdle { arguments += ["--exit-when-idle", String(exitWhenIdle)] }
            printNow("tune worker: \(storage.location), \(jobs) process\(jobs == 1 ? "" : "es")")
            // One connection per worker process: the search opens its own.
            storage.close()
            // The other `jobs - 1` processes: this command again with --jobs 1.
            let others = try Workers(
                count: jobs - 1,
                arguments: StorageOptions.removing(["--jobs"], from: Array(CommandLine.arguments.dropFirst()))
                    + ["--jobs", "1"])
            let search = try TuneCommand.Search.parse(arguments)
            try search.run()
            others.stop()
        }

        /// The value of `flag` in `arguments` (`--flag value` or `--flag=value`).
        static func value(of flag: String, in arguments: [String]) -> String? {
            for (i, argument) in arguments.enumerated() {
                if argument == flag, i + 1 < arguments.count { return arguments[i + 1] }
                if argument.hasPrefix(flag + "=") { return String(argument.dropFirst(flag.count + 1)) }
            }
            return nil
        }

        /// The study and the leader's arguments, once the leader has started it: a worker started first (all the
        /// containers of a deployment start at once) waits for it, up to --exit-when-idle (default 10 minutes).
        func joinStudy(_ address: PostgresAddress, _ name: String) throws -> (PostgresStorage, [String]) {
            let giveUp = Date().addingTimeInterval(exitWhenIdle ?? 600)
            var said = false
            var pause = 0.25
            while true {
                if try PostgresStorage.studies(at: address).contains(where: { $0.name == name }) {
                    let storage = try PostgresStorage(address: address, study: name, direction: nil)
                    if let text = try storage.studyAttribute(StudyLocation.Key.launch),
                        let launch = try? JSONDecoder().decode([String].self, from: Data(text.utf8))
                    {
                        return (storage, launch)
                    }
                }
                guard Date() < giveUp else {
                    throw DataError(
                        path: "--study",
                        "no leader started study '\(name)' in \(address): run tune search --storage ... --study \(name)"
                    )
                }
                if !said {
                    printNow(
                        "waiting for the leader to start study '\(name)' (tune search --storage ... --study \(name))")
                    said = true
                }
                Thread.sleep(forTimeInterval: pause)
                pause = min(pause * 2, 2)
            }
        }

    }

    struct Studies: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the studies kept in a PostgreSQL database and how far each has got.",
            usage: "tune studies --storage postgresql://USER@HOST:PORT/DATABASE")

        @OptionGroup var shared: StorageOptions

        func run() throws {
            guard let address = try shared.address() else {
                throw ValidationError("--storage postgresql://... is required")
            }
            let studies = try PostgresStorage.studies(at: address)
            guard !studies.isEmpty else {
                print("no study in \(address)")
                return
            }
            let formatter = ISO8601DateFormatter()
            print("study\tdirection\tcreated\ttrials\twaiting\trunning\tcomplete\tpruned\tfailed\tbest")
            for s in studies {
                let best = s.best.map { String(format: "%.6g", $0) } ?? "-"
                print(
                    [
                        s.name, s.direction.rawValue, formatter.string(from: s.created), "\(s.trials)", "\(s.waiting)",
                        "\(s.running)", "\(s.complete)", "\(s.pruned)", "\(s.failed)", best
                    ].joined(separator: "\t"))
            }
        }
    }
}
