import Foundation
import TuneData
import TuneRun
import TuneSearch

/// Where a study is kept when it is not the output directory's `study.sqlite`: a storage the caller opens, shared
/// with processes on other machines (a study on PostgreSQL: `tune search --storage`, `tune worker`).
///
/// A shared study also keeps what a worker needs to join it: the leader's arguments (`launch`), a digest of its data
/// file (a worker whose file differs refuses to start), and whether the leader has finished (workers then stop).
public struct StudyLocation {
    /// The storage as messages show it (never with a password).
    public let description: String
    /// Opens (or creates) the study for an objective to be made small or large (nil: a worker, taking the study's).
    let open: (Direction?) throws -> any StudyStorage
    /// The leader's `tune search` arguments, kept in the study for `tune worker`.
    public var launch: [String]

    public init(description: String, launch: [String], open: @escaping (Direction?) throws -> any StudyStorage) {
        self.description = description
        self.launch = launch
        self.open = open
    }

    /// The study attributes of a shared study.
    public enum Key {
        public static let launch = "launch", dataDigest = "data_digest", finished = "finished"
    }

    /// Refuses a worker's data file when it is not the one the study was started with.
    public static func checkData(_ path: String, against storage: any StudyStorage) throws {
        guard let expected = try storage.studyAttribute(Key.dataDigest) else { return }
        let digest = try digest(of: path)
        guard digest == expected else {
            throw DataError(
                path: path,
                "this data file differs from the one the study was started with (digest \(digest), the study's "
                    + "\(expected)): every worker must train on the same data (--data names this machine's copy)")
        }
    }

    /// A digest of a file's bytes (64-bit FNV-1a and the size): enough to tell two copies of a data file apart.
    public static func digest(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(path: path, "cannot read the data file")
        }
        defer { try? handle.close() }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var size = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            size += chunk.count
            for byte in chunk {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return "fnv1a64:" + String(hash, radix: 16) + ":\(size)"
    }
}

extension StudySession {
    /// The leader of a shared study records what workers need; a worker checks that its data is the leader's.
    func prepareShared(_ location: StudyLocation) throws {
        guard let data = settings.data else { return }
        if isWorker { return try StudyLocation.checkData(data, against: storage) }
        try storage.setStudyAttribute(StudyLocation.Key.dataDigest, value: try StudyLocation.digest(of: data))
        try storage.setStudyAttribute(
            StudyLocation.Key.launch, value: String(decoding: try jsonData(location.launch), as: UTF8.self))
        try storage.setStudyAttribute(StudyLocation.Key.finished, value: "false")
    }

    /// Whether the leader of this shared study has finished (its workers then stop).
    package var leaderFinished: Bool {
        (try? storage.studyAttribute(StudyLocation.Key.finished)) == "true"
    }
}

/// The best model's directory kept in a shared study (`StudyArtifacts`), so that the leader writes `best/` even when
/// a worker on another machine trained the best trial.
enum BestModelFiles {
    static let name = "best"

    /// The directory's files (by their paths inside it), kept in the study for `trial`, unless the study keeps a
    /// better trial's.
    static func keep(_ directory: URL, trial: FrozenTrial, in storage: any StudyStorage) throws {
        guard let artifacts = storage as? any StudyArtifacts, let value = trial.value else { return }
        var files: [String: Data] = [:]
        let base = directory.standardizedFileURL.path + "/"
        for case let url as URL in FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
            ?? .init()
        {
            let path = url.standardizedFileURL.path
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true, path.hasPrefix(base)
            else { continue }
            files[String(path.dropFirst(base.count))] = try Data(contentsOf: url)
        }
        try artifacts.keepArtifact(name, trial: trial.number, value: value, data: try jsonData(files))
    }

    /// Writes the kept files to `out/best` when they are the study's best trial's.
    static func restore(_ session: StudySession) throws {
        guard let artifacts = session.storage as? any StudyArtifacts,
            let best = try session.study.bestTrial, let kept = try artifacts.artifact(name), kept.trial == best.number
        else { return }
        let files: [String: Data]
        do { files = try JSONDecoder().decode([String: Data].self, from: kept.data) } catch {
            throw SearchError.storage(path: session.storage.location, "the best model kept in the study is unreadable")
        }
        try replaceDirectory(URL(fileURLWithPath: session.out).appendingPathComponent(name)) { directory in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (file, data) in files where !file.split(separator: "/").contains("..") && !file.hasPrefix("/") {
                let url = directory.appendingPathComponent(file)
                try FileManager.default.createDirectory(
                    at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try data.write(to: url, options: .atomic)
            }
        }
    }
}
