import Foundation
import TuneData

extension MLflowSpool {
    /// The progress an earlier, interrupted sync saved at `url` (none: an empty one), checked: it sent to `target`,
    /// and no file's count of operations sent is negative.
    static func earlierProgress(at url: URL, target: String) throws -> Progress {
        var progress = Progress()
        guard FileManager.default.fileExists(atPath: url.path) else { return progress }
        do { progress = try JSONDecoder().decode(Progress.self, from: Data(contentsOf: url)) } catch {
            throw DataError(
                path: url.path,
                "not the progress of an earlier sync (JSON with server, ids and done): \(error)")
        }
        if let earlier = progress.server, earlier != target {
            throw DataError(
                path: url.path,
                "an earlier sync sent part of this to \(earlier): send the rest there (--mlflow \(earlier))")
        }
        if let bad = progress.done.first(where: { $0.value < 0 }) {
            throw DataError(
                path: url.path, "\(bad.key): a negative count of operations sent (\(bad.value))")
        }
        return progress
    }

    /// A sync under way: what it has sent so far (saved in `sent.json` after every operation) and what the server
    /// refused.
    struct Sync {
        let spool: URL
        let client: MLflowClient
        let progressURL: URL
        var progress: Progress
        /// The server's id of each local run.
        var ids: [String: MLflowRunID]
        var experiments: [String: String] = [:]
        var refused: [(reason: String, op: MLflowOperation)] = []
        var outcome: Outcome

        /// Saves the progress, with the runs created, in `sent.json`.
        mutating func save() throws {
            progress.ids = ids
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            try writeAtomically(try encoder.encode(progress), to: progressURL)
        }

        /// Sends one operation; a refusal is recorded, a data problem names the line, a server failure interrupts.
        mutating func perform(_ kept: Kept, findExisting: Bool = false) throws {
            do {
                try client.perform(
                    kept.op, ids: &ids, experiments: &experiments, blobs: spool.appendingPathComponent("blobs"),
                    findExisting: findExisting)
            } catch let rejected as MLflowRejected {
                refused.append(("\(kept.place): \(rejected.reason)", kept.op))
            } catch is MLflowUnresolved {
                refused.append(("\(kept.place): its run is not on the server", kept.op))
            } catch let error as DataError {
                throw DataError(path: kept.file.path, line: kept.line, error.description)
            } catch {
                try save()
                throw Interrupted(reason: "\(kept.place): \(error)")
            }
        }

        /// Creates the runs not yet on the server, parents first: a run whose parent is kept here waits for it.
        mutating func createRuns(_ contents: Contents) throws {
            var creates = contents.files.flatMap(\.ops).filter { $0.op.kind == .createRun && ids[$0.op.run] == nil }
            let keptRuns = Set(creates.map(\.op.run))
            while !creates.isEmpty {
                let ready = creates.filter { c in
                    c.op.parent.map { ids[$0] != nil || !keptRuns.contains($0) } ?? true
                }
                // A parent that never came (its create was refused) leaves its children to be created on their own.
                let next = ready.isEmpty ? creates : ready
                for var kept in next {
                    try findParent(of: &kept)
                    try perform(kept, findExisting: true)
                    if ids[kept.op.run] != nil { outcome.runs += 1 }
                    try save()
                }
                let done = Set(next.map(\.op.run))
                creates.removeAll { done.contains($0.op.run) }
            }
        }

        /// A parent run created by a process that kept nothing here is looked for on the server by its tag; when it
        /// is not there, the run is created without it, with a note.
        mutating func findParent(of kept: inout Kept) throws {
            guard let parent = kept.op.parent, MLflowOperation.isLocal(parent), ids[parent] == nil else { return }
            do {
                let experiment = try client.experimentID(for: kept.op, cache: &experiments)
                if let found = try client.run(experiment: experiment, localID: parent) {
                    ids[parent] = MLflowRunID(run: found, experiment: experiment)
                }
            } catch {
                try save()
                throw Interrupted(reason: "\(kept.place): \(error)")
            }
            if ids[parent] == nil {
                outcome.notes.append(
                    "\(kept.place): run \(kept.op.name ?? kept.op.run): its parent run is not on the server; created without it"
                )
                kept.op.parent = nil
            }
        }

        /// Sends every file's other operations, in order, from where an earlier sync stopped.
        mutating func sendOperations(_ contents: Contents) throws {
            for (name, ops) in contents.files {
                let rest = ops.filter { $0.op.kind != .createRun }
                for kept in rest.dropFirst(progress.done[name] ?? 0) {
                    try perform(kept)
                    outcome.operations += 1
                    progress.done[name, default: 0] += 1
                    try save()
                }
            }
        }

        /// Writes the operations the server refused, with their reasons, to `refused.json` in the spool.
        mutating func keepRefused() throws {
            guard !refused.isEmpty else { return }
            struct Entry: Encodable { var reason: String; var op: MLflowOperation }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let url = spool.appendingPathComponent("refused.json")
            try writeAtomically(try encoder.encode(refused.map { Entry(reason: $0.reason, op: $0.op) }), to: url)
            outcome.refused = refused.map(\.reason)
            outcome.refusedFile = url
        }

        /// What was read and sent goes: its files, the artifacts they name (a refused upload's stays) and, when no
        /// file is left for later, the progress; the spool itself when nothing else is in it. The files' locks are
        /// released.
        mutating func cleanUp(_ contents: Contents) throws {
            let fm = FileManager.default
            let refusedBlobs = Set(refused.compactMap(\.op.blob))
            for (name, ops) in contents.files {
                for blob in ops.compactMap(\.op.blob) where !refusedBlobs.contains(blob) {
                    try? fm.removeItem(at: spool.appendingPathComponent("blobs").appendingPathComponent(blob))
                }
                try? fm.removeItem(at: spool.appendingPathComponent(name))
                progress.done[name] = nil
            }
            for lock in contents.locks { try? lock.close() }
            if outcome.left == 0 { try? fm.removeItem(at: progressURL) } else { try save() }
            let blobs = spool.appendingPathComponent("blobs")
            if (try? fm.contentsOfDirectory(atPath: blobs.path))?.isEmpty == true { try? fm.removeItem(at: blobs) }
            if (try? fm.contentsOfDirectory(atPath: spool.path))?.isEmpty == true { try? fm.removeItem(at: spool) }
        }
    }
}
