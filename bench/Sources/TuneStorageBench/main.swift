// The study storage on PostgreSQL under load: N worker processes, each with its own connection (as `tune worker`s
// have), each running M trials of a trivial objective (x in [-10, 10] drawn by the random sampler, value x*x) through
// the study's ask and tell. Prints one JSON line: trials per second over the wall time from the moment every worker
// is connected to the end of the last one, and the time a trial costs a worker.
//
//     PGPASSWORD=... tune-storage-bench --storage postgresql://USER@HOST:PORT/DB --study NAME \
//         --workers 16 --trials-per-worker 50
//
// The study is created by the parent (minimize); the workers join it as `tune worker` does (direction taken from the
// study). Afterwards the parent checks that the study holds exactly N*M complete trials numbered 0..<N*M, each with
// its x and the value x*x, and exits 1 otherwise. bench/peers/optuna_storage_bench.py is the same with Optuna's
// RDBStorage; bench/storage.sh runs both against a scratch server.
import Foundation
import TunePostgres
import TuneSearch

#if canImport(Glibc)
    import Glibc
#endif

struct Options {
    var storage = ""
    var study = ""
    var workers = 16
    var trialsPerWorker = 50
    /// Set in a worker process: its index and the barrier's directory.
    var child: Int?
    var barrier = ""

    static let usage =
        "usage: tune-storage-bench --storage postgresql://USER@HOST:PORT/DB --study NAME --workers N "
        + "--trials-per-worker M (the password from PGPASSWORD)"

    init(_ arguments: [String]) throws {
        var values: [String: String] = [:]
        var i = 1
        while i < arguments.count {
            let key = arguments[i]
            let known = ["--storage", "--study", "--workers", "--trials-per-worker", "--child", "--barrier"]
            guard known.contains(key), i + 1 < arguments.count else { throw BenchFailure(Self.usage) }
            values[key] = arguments[i + 1]
            i += 2
        }
        guard let storage = values["--storage"], let study = values["--study"] else {
            throw BenchFailure(Self.usage)
        }
        self.storage = storage
        self.study = study
        workers = try Self.positive(values["--workers"] ?? "16", "--workers")
        trialsPerWorker = try Self.positive(values["--trials-per-worker"] ?? "50", "--trials-per-worker")
        child = try values["--child"].map { try Self.positive($0, "--child") - 1 }
        barrier = values["--barrier"] ?? ""
    }

    static func positive(_ text: String, _ name: String) throws -> Int {
        guard let n = Int(text), n >= 1 else { throw BenchFailure("\(name) needs a positive integer, got '\(text)'") }
        return n
    }

    /// The arguments a worker process is started with (the index counted from 1).
    func childArguments(_ index: Int, barrier: String) -> [String] {
        [
            "--storage", storage, "--study", study, "--workers", String(workers), "--trials-per-worker",
            String(trialsPerWorker), "--child", String(index + 1), "--barrier", barrier
        ]
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The address with the password from PGPASSWORD (or the password file).
func address(_ options: Options) throws -> PostgresAddress {
    var address = try PostgresAddress(options.storage)
    try address.findPassword()
    return address
}

func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

/// The start barrier: the parent holds an exclusive lock on `start.lock` until every worker has written its
/// `ready-I` file; each worker, once connected, writes its file and then waits for a shared lock on `start.lock`,
/// which all of them get at the moment the parent lets go.
struct Barrier {
    let directory: String
    var lockPath: String { directory + "/start.lock" }

    /// A fresh barrier directory, its lock held by the caller (the returned descriptor).
    static func make() throws -> (Barrier, Int32) {
        var template = Array((NSTemporaryDirectory() + "/tune-storage-bench-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchFailure("cannot make a temporary directory") }
        let barrier = Barrier(directory: String(cString: made))
        let fd = open(barrier.lockPath, O_CREAT | O_RDWR, 0o600)
        guard fd >= 0, flock(fd, LOCK_EX) == 0 else { throw BenchFailure("cannot lock \(barrier.lockPath)") }
        return (barrier, fd)
    }

    /// How many workers are ready.
    func readyCount() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("ready-") }.count
    }

    /// In a worker: says it is ready, then waits for the start.
    func arrive(_ index: Int) throws {
        guard FileManager.default.createFile(atPath: directory + "/ready-\(index)", contents: nil) else {
            throw BenchFailure("cannot write the ready file in \(directory)")
        }
        let fd = open(lockPath, O_RDONLY)
        guard fd >= 0, flock(fd, LOCK_SH) == 0 else { throw BenchFailure("cannot wait on \(lockPath)") }
        close(fd)
    }

    /// In a worker, at the end: the CPU time its trials took.
    func report(_ index: Int, cpuSeconds: Double) throws {
        try String(cpuSeconds).write(toFile: directory + "/cpu-\(index)", atomically: true, encoding: .utf8)
    }

    /// The CPU time the workers' trials took, all together.
    func workersCPUSeconds() -> Double {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("cpu-") }.reduce(0) { total, name in
            total + (Double((try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "") ?? 0)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// A worker process: connects, waits for the start, runs its trials.
func runWorker(_ options: Options, index: Int) throws {
    let storage = try PostgresStorage(address: address(options), study: options.study, direction: nil)
    let study = Study(direction: storage.direction, sampler: RandomSampler(seed: UInt64(index)), storage: storage)
    let barrier = Barrier(directory: options.barrier)
    try barrier.arrive(index)
    let cpu = cpuSeconds()
    for _ in 0..<options.trialsPerWorker {
        let trial = try study.ask()
        let x = try trial.suggestFloat("x", -10, 10)
        try study.tell(trial, value: x * x)
    }
    try barrier.report(index, cpuSeconds: cpuSeconds() - cpu)
}

/// The CPU time this process has used (user and system, all threads), in seconds.
func cpuSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
        getrusage(RUSAGE_SELF, &usage)
    #endif
    let times = [usage.ru_utime, usage.ru_stime]
    return times.reduce(0) { $0 + Double($1.tv_sec) + Double($1.tv_usec) * 1e-6 }
}

/// Starts the worker processes, lets them go once all are connected, and returns the seconds from then until the
/// last one is done, and the CPU time the workers' trials took.
func runWorkers(_ options: Options) throws -> (seconds: Double, workerCPU: Double) {
    let (barrier, lock) = try Barrier.make()
    defer {
        close(lock)
        barrier.remove()
    }
    guard let executable = Bundle.main.executableURL else { throw BenchFailure("cannot find this executable") }
    var processes: [Process] = []
    for index in 0..<options.workers {
        let process = Process()
        process.executableURL = executable
        process.arguments = options.childArguments(index, barrier: barrier.directory)
        try process.run()
        processes.append(process)
    }
    while barrier.readyCount() < options.workers {
        if let gone = processes.firstIndex(where: { !$0.isRunning }) {
            processes.forEach { if $0.isRunning { $0.terminate() } }
            throw BenchFailure(
                "worker \(gone + 1) stopped before the start (status \(processes[gone].terminationStatus))")
        }
        usleep(2000)
    }
    let start = monotonicSeconds()
    flock(lock, LOCK_UN)
    for process in processes { process.waitUntilExit() }
    let seconds = monotonicSeconds() - start
    let failed = processes.indices.filter { processes[$0].terminationStatus != 0 }
    guard failed.isEmpty else {
        throw BenchFailure("worker(s) \(failed.map { String($0 + 1) }.joined(separator: ", ")) failed")
    }
    return (seconds, barrier.workersCPUSeconds())
}

/// What is wrong with the study after the run, or nil: exactly `expected` complete trials numbered 0..<expected,
/// each with its x in [-10, 10] and the value x*x.
func problem(in trials: [FrozenTrial], expected: Int) -> String? {
    guard trials.count == expected else { return "\(trials.count) trials, expected \(expected)" }
    let numbers = trials.map(\.number).sorted()
    guard numbers == Array(0..<expected) else { return "the trial numbers are not 0..<\(expected)" }
    for t in trials {
        guard t.state == .complete, let x = t.parameters["x"]?.double, (-10...10).contains(x), t.value == x * x
        else {
            return
                "trial \(t.number) is \(t.state.rawValue) with \(t.parameters) and value \(String(describing: t.value))"
        }
    }
    return nil
}

struct Summary: Encodable {
    let peer = "swift-tune"
    let workers: Int
    let trials: Int
    let seconds: Double
    let trials_per_second: Double
    let ms_per_trial_per_worker: Double
    /// The CPU time (user and system) the worker processes spent per trial, the server's not counted.
    let worker_cpu_ms_per_trial: Double
    let checked: Bool
}

func runParent(_ options: Options) throws {
    // Made here (tables and study), so that the workers only join it.
    let storage = try PostgresStorage(address: address(options), study: options.study, direction: .minimize)
    guard try storage.allTrials().isEmpty else { throw BenchFailure("study '\(options.study)' already has trials") }
    let (seconds, workerCPU) = try runWorkers(options)
    let trials = options.workers * options.trialsPerWorker
    let found = problem(in: try storage.allTrials(), expected: trials)
    let summary = Summary(
        workers: options.workers, trials: trials, seconds: seconds, trials_per_second: Double(trials) / seconds,
        ms_per_trial_per_worker: Double(options.workers) * seconds * 1000 / Double(trials),
        worker_cpu_ms_per_trial: workerCPU * 1000 / Double(trials), checked: found == nil)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    print(String(decoding: try encoder.encode(summary), as: UTF8.self))
    if let found { throw BenchFailure("the study is not as expected: \(found)") }
}

do {
    let options = try Options(CommandLine.arguments)
    if let index = options.child {
        try runWorker(options, index: index)
    } else {
        try runParent(options)
    }
} catch {
    FileHandle.standardError.write(Data("tune-storage-bench: \(error)\n".utf8))
    exit(1)
}
