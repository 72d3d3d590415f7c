import ArgumentParser
import Foundation
import Tune
import TunePostgres

/// Where a study is kept when it is shared with other machines: a PostgreSQL database.
struct StorageOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Keep the study in PostgreSQL instead of --out/study.sqlite, shared with `tune worker` on other machines: "
                + "postgresql://USER@HOST:PORT/DATABASE[?sslmode=disable|require|verify-full&sslrootcert=FILE"
                + "&sslcert=FILE&sslkey=FILE]. TLS defaults to verify-full for any host but this machine. No password "
                + "in it: it comes from --storage-password-file, PGPASSWORD or ~/.pgpass.",
            valueName: "postgresql-uri")) var storage: String?
    @Option(help: "The study's name in the database (default: the output directory's name).") var study: String?
    @Option(help: "A file whose first line is the database password (readable by its owner only, as ~/.pgpass).")
    var storagePasswordFile: String?

    /// The database's address with its password, or nil when no --storage was given.
    func address() throws -> PostgresAddress? {
        guard let storage else {
            if study != nil || storagePasswordFile != nil {
                throw DataError(
                    path: "--study", "--study and --storage-password-file go with --storage postgresql://...")
            }
            return nil
        }
        do {
            var address = try PostgresAddress(storage)
            try address.findPassword(passwordFile: storagePasswordFile)
            return address
        } catch let problem as PostgresAddress.Problem {
            // The problem names the part, never the password (the address holds none).
            throw DataError(path: "--storage", problem.message)
        }
    }

    /// The study's location for a run whose output directory is `out`: nil for the directory's own study.sqlite.
    func location(out: String?, launch: [String]) throws -> StudyLocation? {
        guard let address = try address() else { return nil }
        let name = study ?? URL(fileURLWithPath: out ?? "study").lastPathComponent
        return StudyLocation(description: "\(address) study '\(name)'", launch: launch) { direction in
            try PostgresStorage(
                address: address, study: name, direction: direction, onNote: { printNow("note: \($0)") })
        }
    }

    /// The flags that name the storage, as a child process gets them (the password file's path, never a password).
    var arguments: [String] {
        [("--storage", storage), ("--study", study), ("--storage-password-file", storagePasswordFile)]
            .flatMap { flag, value in value.map { [flag, $0] } ?? [] }
    }

    /// `arguments` without the flags that say where the study is and how many processes run it (what a worker on
    /// another machine decides for itself).
    static func launch(_ arguments: [String]) -> [String] {
        removing(["--storage", "--study", "--storage-password-file", "--jobs", "--worker"], from: arguments)
    }

    /// `arguments` without `flags` and their values (`--flag value` or `--flag=value`; `--worker` has none).
    static func removing(_ flags: Set<String>, from arguments: [String]) -> [String] {
        var kept: [String] = []
        var skip = false
        for argument in arguments {
            if skip {
                skip = false
                continue
            }
            let flag = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            guard flags.contains(flag) else {
                kept.append(argument)
                continue
            }
            skip = !argument.contains("=") && flag != "--worker"
        }
        return kept
    }
}
