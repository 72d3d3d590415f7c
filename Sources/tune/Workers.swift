import Foundation
import Tune
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The worker processes of `tune search --jobs N`: this executable run again with the same arguments and `--worker`,
/// one BLAS thread each. A worker's standard input is a pipe from the leading process; when the leader closes it (or
/// dies, even by SIGKILL) the worker finishes the trial in hand (its model kept if it is the best) and exits.
final class Workers {
    private var processes: [Process] = []
    private var pipes: [Pipe] = []

    /// Starts `count` workers: this executable with `arguments` (by default this command's own and `--worker`).
    init(count: Int, arguments: [String] = Array(CommandLine.arguments.dropFirst()) + ["--worker"]) throws {
        guard count > 0 else { return }
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        for _ in 0..<count {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            process.environment = environment
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            processes.append(process)
            pipes.append(pipe)
        }
    }

    /// Starts `count` workers, or says why it cannot and returns nil (the leader then runs alone). Call it once the
    /// study's file exists, so that workers never race to create it.
    static func start(count: Int) -> Workers? {
        do { return try Workers(count: count) } catch {
            FileHandle.standardError.write(
                Data("warning: cannot start worker processes (\(error)): running alone\n".utf8))
            return nil
        }
    }

    /// Tells the workers to stop (closes their input) and waits for them.
    func stop() {
        for pipe in pipes { try? pipe.fileHandleForWriting.close() }
        for p in processes { p.waitUntilExit() }
        report()
    }

    private func report() {
        for p in processes where p.terminationStatus != 0 {
            FileHandle.standardError.write(
                Data("warning: worker process \(p.processIdentifier) ended with status \(p.terminationStatus)\n".utf8))
        }
        processes = []
    }

    /// Whether the leader closed this worker's input (or died): set by `watchLeader`.
    private static let gone = StopFlag()

    /// In a worker: whether to stop, checked between trials (the trial in hand is finished first, its model kept
    /// when it is the best, so the leader's summary sees everything).
    static func leaderGone() -> Bool { gone.isSet }

    /// In a worker: watches the leader's pipe; when it closes, the worker stops after its trial in hand.
    static func watchLeader() {
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while read(0, &byte, 1) > 0 {}
            gone.set()
        }
    }
}

/// A flag one thread sets and others read.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
