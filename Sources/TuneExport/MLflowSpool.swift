import Foundation
import TuneData

/// What could not be sent to an MLflow server, kept on disk to be sent later (`tune mlflow-sync`).
///
/// A spool is a directory (`mlflow-unsent/` in a run's or a study's output directory). Each process that logs keeps
/// one file in it, `<process>-<uuid>.jsonl`, a JSON object per line: first the server's address (without credentials),
/// then the runs it had created on the server before it failed (`known`), then the operations in the order they were
/// made (`op`). Artifacts are kept beside, in `blobs/`. `sent.json` records what an interrupted sync has sent.
public final class MLflowSpool {
    public let directory: URL
    let server: String
    private let file: URL
    private var handle: FileHandle?
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
        file = directory.appendingPathComponent("\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).jsonl")
    }

    deinit { try? handle?.close() }

    private func write(_ line: Line) throws {
        if handle == nil {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("blobs"), withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: file.path, contents: nil)
            handle = try FileHandle(forWritingTo: file)
            try write(Line(server: server))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try handle?.write(contentsOf: try encoder.encode(line) + Data("\n".utf8))
    }

    /// Keeps `op`; an artifact's bytes go to `blobs/`, written whole before the line that names them.
    public func append(_ op: MLflowOperation) throws {
        var op = op
        if let data = op.data {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("blobs"), withIntermediateDirectories: true)
            let blob = UUID().uuidString + "-" + String((op.name ?? "artifact").map { $0.isLetter || $0.isNumber || $0 == "." ? $0 : "_" })
            try writeAtomically(data, to: directory.appendingPathComponent("blobs").appendingPathComponent(blob))
            op.blob = blob
            op.data = nil
        }
        try write(Line(op: op))
        count += 1
    }

    /// Records that the run `local` is on the server as `id`, for the operations kept after it.
    public func known(_ local: String, _ id: MLflowRunID) throws {
        try write(Line(known: Known(local: local, id: id)))
    }

    /// The spool in `directory`: the directory itself when it holds spool files, else its `mlflow-unsent/`; nil when
    /// there is neither.
    public static func find(in directory: URL) -> URL? {
        func hasFiles(_ url: URL) -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).contains { $0.hasSuffix(".jsonl") }
        }
        if hasFiles(directory) { return directory }
        let inner = directory.appendingPathComponent("mlflow-unsent")
        return hasFiles(inner) ? inner : nil
    }

    /// What an interrupted sync has sent: the runs created, and how many operations of each file were sent.
    struct Progress: Codable {
        var ids: [String: MLflowRunID] = [:]
        var done: [String: Int] = [:]
    }

    /// A spool read back: its files' operations in order, the server they were meant for, and the runs known.
    struct Contents {
        var files: [(name: String, ops: [MLflowOperation])] = []
        var servers: Set<String> = []
        var known: [String: MLflowRunID] = [:]
        var notes: [String] = []
    }

    static func read(_ spool: URL) throws -> Contents {
        var contents = Contents()
        let names = try FileManager.default.contentsOfDirectory(atPath: spool.path).filter { $0.hasSuffix(".jsonl") }.sorted()
        for name in names {
            let url = spool.appendingPathComponent(name)
            let text: String
            do { text = try String(contentsOf: url, encoding: .utf8) } catch {
                throw DataError(path: url.path, "cannot read it: \(error.localizedDescription)")
            }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            var ops: [MLflowOperation] = []
            for (i, raw) in lines.enumerated() where !raw.isEmpty {
                let line: Line
                do {
                    line = try JSONDecoder().decode(Line.self, from: Data(raw.utf8))
                } catch {
                    // The last line of a file whose process was killed mid-write is cut short: nothing after it was kept.
                    if i == lines.count - 1 {
                        contents.notes.append("\(url.path):\(i + 1): an unfinished last line (its process stopped while writing it) is left out")
                        continue
                    }
                    throw DataError(path: url.path, line: i + 1, "not a line of an MLflow spool (JSON with server, known or op): \(error)")
                }
                if let server = line.server { contents.servers.insert(server) }
                if let known = line.known { contents.known[known.local] = known.id }
                if let op = line.op { ops.append(op) }
            }
            contents.files.append((name, ops))
        }
        return contents
    }

    /// What a sync sent.
    public struct Outcome: Sendable {
        public var runs = 0
        public var operations = 0
        /// Operations the server refused (an answer in 400-499), with its reason; the rest was sent.
        public var rejected: [String] = []
        public var notes: [String] = []
    }

    /// The server a spool was meant for (every file names it), if they agree.
    public static func server(of spool: URL) throws -> String? {
        let servers = try read(spool).servers
        return servers.count == 1 ? servers.first : nil
    }

    /// Sends everything kept in `spool` through `client`: the runs first (parents before their children; a run
    /// already on the server, found by its local id tag, is not created again), then each file's operations in
    /// order. Progress is saved in `sent.json` after every operation, so a sync that fails can run again and go on
    /// from there; when everything is sent the spool is removed.
    public static func send(_ spool: URL, client: MLflowClient) throws -> Outcome {
        var outcome = Outcome()
        let contents = try read(spool)
        outcome.notes = contents.notes
        let progressURL = spool.appendingPathComponent("sent.json")
        var progress = Progress()
        if FileManager.default.fileExists(atPath: progressURL.path) {
            do { progress = try JSONDecoder().decode(Progress.self, from: Data(contentsOf: progressURL)) } catch {
                throw DataError(path: progressURL.path, "not the progress of an earlier sync (JSON with ids and done): \(error)")
            }
        }
        var ids = progress.ids.merging(contents.known) { a, _ in a }
        var experiments: [String: String] = [:]
        func save() throws {
            progress.ids = ids
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            try writeAtomically(try encoder.encode(progress), to: progressURL)
        }
        func perform(_ op: MLflowOperation, findExisting: Bool = false) throws {
            do {
                try client.perform(op, ids: &ids, experiments: &experiments, blobs: spool.appendingPathComponent("blobs"), findExisting: findExisting)
            } catch let rejected as MLflowRejected {
                outcome.rejected.append("\(op.kind.rawValue) \(op.name ?? op.run): \(rejected.reason)")
            }
        }
        // The runs, parents first: a run whose parent is kept here waits for it.
        var creates = contents.files.flatMap(\.ops).filter { $0.kind == .createRun && ids[$0.run] == nil }
        let kept = Set(creates.map(\.run))
        while !creates.isEmpty {
            let ready = creates.filter { c in c.parent.map { ids[$0] != nil || !kept.contains($0) } ?? true }
            // A parent that never came (its create was refused) leaves its children to be created on their own.
            let next = ready.isEmpty ? creates : ready
            for var op in next {
                if let parent = op.parent, MLflowOperation.isLocal(parent), ids[parent] == nil {
                    // Created by a process that kept nothing here: look for it on the server by its tag.
                    let name = op.experiment ?? "swift-tune"
                    let experiment = try experiments[name] ?? client.experiment(named: name)
                    experiments[name] = experiment
                    if let found = try client.run(experiment: experiment, localID: parent) {
                        ids[parent] = MLflowRunID(run: found, experiment: experiment)
                    } else {
                        outcome.notes.append("run \(op.name ?? op.run): its parent run is not on the server; created without it")
                        op.parent = nil
                    }
                }
                try perform(op, findExisting: true)
                if ids[op.run] != nil { outcome.runs += 1 }
                try save()
            }
            let done = Set(next.map(\.run))
            creates.removeAll { done.contains($0.run) }
        }
        // Then every file's other operations, in order, from where an earlier sync stopped.
        for (name, ops) in contents.files {
            let rest = ops.filter { $0.kind != .createRun }
            for op in rest.dropFirst(progress.done[name] ?? 0) {
                do {
                    try perform(op)
                } catch is MLflowUnresolved {
                    outcome.rejected.append("\(op.kind.rawValue) \(op.name ?? ""): its run is not on the server")
                }
                outcome.operations += 1
                progress.done[name, default: 0] += 1
                try save()
            }
        }
        try FileManager.default.removeItem(at: spool)
        return outcome
    }
}
