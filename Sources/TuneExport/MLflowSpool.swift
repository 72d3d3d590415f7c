import Foundation
import TuneData

/// What could not be sent to an MLflow server, kept on disk to be sent later (`tune mlflow-sync`).
///
/// A spool is a directory (`mlflow-unsent/` in a run's or a study's output directory). Each process that logs keeps
/// one file in it, `<process>-<uuid>.jsonl`, a JSON object per line: first the server's address (without credentials),
/// then the runs it had created on the server before it failed (`known`), then the operations in the order they were
/// made (`op`). Artifacts are kept beside, in `blobs/`. `sent.json` records what an interrupted sync has sent.
public final class MLflowSpool {
    /// The name of a spool directory: `tune mlflow-sync` reads no other.
    public static let directoryName = "mlflow-unsent"

    public let directory: URL
    let server: String
    private var handle: FileHandle?
    /// The runs known on the server, written at the top of every file this process opens.
    private var knownRuns: [Known] = []
    /// The operations this process has kept.
    public private(set) var count = 0

    /// One line of a spool file.
    struct Line: Codable {
        var server: String?
        var known: Known?
        var op: MLflowOperation?
    }

    struct Known: Codable {
        var local: String
        var id: MLflowRunID
    }

    public init(directory: URL, server: String) {
        self.directory = directory
        self.server = MLflowClient.withoutCredentials(server)
    }

    deinit { close() }

    /// Closes the file and lets a sync take it; a later `append` starts a new file.
    public func close() {
        try? handle?.close()
        handle = nil
    }

    /// Starts a new file, `<process>-<uuid>.jsonl`, locked for as long as it is open so that a sync never takes a
    /// file a running process still writes. It is made under a hidden name, locked and given its first lines (the
    /// server, the runs known), then renamed: a sync never sees it unlocked.
    private func open() throws {
        let fm = FileManager.default
        try fm.createDirectory(at: directory.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        let name = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).jsonl"
        let hidden = directory.appendingPathComponent(".\(name).new")
        guard fm.createFile(atPath: hidden.path, contents: nil) else {
            throw DataError(path: hidden.path, "cannot create a file to keep what MLflow did not take")
        }
        let h = try FileHandle(forWritingTo: hidden)
        _ = flock(h.fileDescriptor, LOCK_EX)  // a new file: nobody else holds it
        handle = h
        try write(Line(server: server))
        for known in knownRuns { try write(Line(known: known)) }
        try fm.moveItem(at: hidden, to: directory.appendingPathComponent(name))
    }

    private func write(_ line: Line) throws {
        if handle == nil { try open() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // One write per line: a process killed mid-write leaves at most its last line unfinished.
        try handle?.write(contentsOf: try encoder.encode(line) + Data("\n".utf8))
    }

    /// Keeps `op`; an artifact's bytes go to `blobs/`, written whole before the line that names them.
    public func append(_ op: MLflowOperation) throws {
        var op = op
        if let data = op.data {
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("blobs"), withIntermediateDirectories: true)
            let blob =
                UUID().uuidString + "-"
                + String((op.name ?? "artifact").map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "_" })
            try writeAtomically(data, to: directory.appendingPathComponent("blobs").appendingPathComponent(blob))
            op.blob = blob
            op.data = nil
        }
        try write(Line(op: op))
        count += 1
    }

    /// Records that the run `local` is on the server as `id`, for the operations kept after it (in this file and
    /// in any this process starts later).
    public func known(_ local: String, _ id: MLflowRunID) throws {
        knownRuns.append(Known(local: local, id: id))
        try write(Line(known: knownRuns.last!))
    }

    /// The spool of `directory`: the directory itself when it is a spool (named `mlflow-unsent`), else its
    /// `mlflow-unsent/`; nil when neither holds spool files.
    public static func find(in directory: URL) -> URL? {
        func hasFiles(_ url: URL) -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).contains { $0.hasSuffix(".jsonl") }
        }
        if directory.standardizedFileURL.lastPathComponent == directoryName && hasFiles(directory) { return directory }
        let inner = directory.appendingPathComponent(directoryName)
        return hasFiles(inner) ? inner : nil
    }

    /// What an interrupted sync has sent, and to which server: the runs created, and how many operations of each
    /// file were sent.
    struct Progress: Codable {
        var server: String?
        var ids: [String: MLflowRunID] = [:]
        var done: [String: Int] = [:]
    }

    /// One kept operation and where it was read.
    struct Kept {
        var op: MLflowOperation
        var file: URL
        var line: Int
        var place: String { "\(file.path):\(line)" }
    }

    /// A spool read back: its files' operations in order, the servers they were meant for, and the runs known.
    struct Contents {
        var files: [(name: String, ops: [Kept])] = []
        var servers: Set<String> = []
        var known: [String: MLflowRunID] = [:]
        var notes: [String] = []
        /// Files left for a later sync (a running process still writes them).
        var left = 0
        /// Open and locked while the spool is read and sent.
        var locks: [FileHandle] = []
    }

    /// Reads every spool file; with `lock`, only those no running process holds (a file still being written is left
    /// for a later sync), keeping them locked in `locks` until the contents are released.
    static func read(_ spool: URL, lock: Bool = false) throws -> Contents {
        var contents = Contents()
        let names = try FileManager.default.contentsOfDirectory(atPath: spool.path).filter { $0.hasSuffix(".jsonl") }
            .sorted()
        for name in names {
            let url = spool.appendingPathComponent(name)
            let data: Data
            do {
                let h = try FileHandle(forReadingFrom: url)
                if lock {
                    guard flock(h.fileDescriptor, LOCK_EX | LOCK_NB) == 0 else {
                        try? h.close()
                        contents.left += 1
                        contents.notes.append(
                            "\(url.path): still being written by a running tune process; left for a later sync")
                        continue
                    }
                    contents.locks.append(h)
                }
                data = try h.readToEnd() ?? Data()
                if !lock { try? h.close() }
            } catch {
                throw DataError(path: url.path, "cannot read it: \(error.localizedDescription)")
            }
            // Lines are split on the newline byte, so that a last line cut inside a character spoils only itself.
            let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            let unfinished = data.last != UInt8(ascii: "\n") ? lines.count - 1 : nil
            var ops: [Kept] = []
            for (i, raw) in lines.enumerated() where !raw.isEmpty {
                let line: Line
                do {
                    line = try JSONDecoder().decode(Line.self, from: Data(raw))
                } catch {
                    // The last line of a file whose process was killed mid-write is cut short: nothing after it was kept.
                    if i == unfinished {
                        contents.notes.append(
                            "\(url.path):\(i + 1): an unfinished last line (its process stopped while writing it) is left out"
                        )
                        continue
                    }
                    throw DataError(
                        path: url.path, line: i + 1,
                        "not a line of an MLflow spool (JSON with server, known or op): \(error)")
                }
                if i == 0 && line.server == nil {
                    throw DataError(
                        path: url.path, line: 1,
                        "not an MLflow spool file of swift-tune: its first line names no server")
                }
                if let server = line.server { contents.servers.insert(server) }
                if let known = line.known { contents.known[known.local] = known.id }
                if let op = line.op { ops.append(Kept(op: op, file: url, line: i + 1)) }
            }
            contents.files.append((name, ops))
        }
        return contents
    }

    /// What a sync sent.
    public struct Outcome: Sendable {
        public var runs = 0
        public var operations = 0
        /// Operations the server refused (an answer in 400-499 that is not about access), each with its reason; the
        /// rest was sent. They are kept in `refusedFile`.
        public var refused: [String] = []
        public var refusedFile: URL?
        public var notes: [String] = []
        /// Spool files left for a later sync (a running process still writes them).
        public var left = 0
    }

    /// The server a spool was meant for (every file names it), if they agree.
    public static func server(of spool: URL) throws -> String? {
        // Only the first line of each file: it names the server.
        var servers = Set<String>()
        for name in try FileManager.default.contentsOfDirectory(atPath: spool.path) where name.hasSuffix(".jsonl") {
            let url = spool.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw DataError(path: url.path, "cannot read it")
            }
            let first = data.prefix { $0 != UInt8(ascii: "\n") }
            guard let server = (try? JSONDecoder().decode(Line.self, from: first))?.server else {
                throw DataError(
                    path: url.path, line: 1, "not an MLflow spool file of swift-tune: its first line names no server")
            }
            servers.insert(server)
        }
        return servers.count == 1 ? servers.first : nil
    }

    /// A sync that stopped because the server failed: what was sent is recorded, and running it again goes on.
    public struct Interrupted: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// Sends everything kept in `spool` through `client`: the runs first (parents before their children; a run
    /// already on the server, found by its local id tag, is not created again), then each file's operations in
    /// order. Progress is saved in `sent.json` after every operation, so a sync that the server interrupts can run
    /// again and go on from there. When a file is sent, it is removed with its artifacts; operations the server
    /// refused are written to `refused.json` in the spool. `sameServer`: whether `client` is the server the spool was
    /// meant for (otherwise the runs it had already created there are not assumed on this one).
    public static func send(_ spool: URL, client: MLflowClient, sameServer: Bool = true) throws -> Outcome {
        var outcome = Outcome()
        let contents = try read(spool, lock: true)
        outcome.notes = contents.notes
        outcome.left = contents.left
        let target = client.shownURL
        let progressURL = spool.appendingPathComponent("sent.json")
        var progress = try earlierProgress(at: progressURL, target: target)
        progress.server = target
        var sync = Sync(
            spool: spool, client: client, progressURL: progressURL, progress: progress,
            ids: sameServer ? progress.ids.merging(contents.known) { a, _ in a } : progress.ids, outcome: outcome)
        try sync.createRuns(contents)
        try sync.sendOperations(contents)
        try sync.keepRefused()
        try sync.cleanUp(contents)
        return sync.outcome
    }
}
