import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A PostgreSQL server of the tests' own: a new cluster in the scratch space, listening on 127.0.0.1 at a free port,
/// with password authentication over TCP, stopped (and its files removed) when the test process ends. Started as the
/// `postgres` user when the tests run as root (the server refuses to run as root).
///
/// A machine without PostgreSQL's server programs fails the tests that need one: `make test` installs them
/// (`scripts/install-deps.sh`); `TUNE_PG_BIN` names their directory when they are elsewhere.
public final class ScratchPostgres: @unchecked Sendable {
    public let port: Int
    public let password: String
    public let directory: URL
    let bin: URL
    var data: URL { directory.appendingPathComponent("data") }

    /// The test process's shared server, started at first use.
    public static let shared = Result { try ScratchPostgres(settings: [:]) }

    /// The server's address for `database` (without the password, which goes in `PGPASSWORD`).
    public func address(_ database: String = "postgres") -> String {
        "postgresql://postgres@127.0.0.1:\(port)/\(database)"
    }

    /// The environment a `tune` process needs to reach the server.
    public var environment: [String: String] { ["PGPASSWORD": password] }

    /// A new cluster with server `settings` (`max_connections` ...), started.
    public init(settings: [String: String]) throws {
        guard let bin = Self.serverPrograms() else {
            throw ScratchError(
                "PostgreSQL's server programs (initdb, pg_ctl) are not installed: run `make test` (it installs "
                    + "Debian's postgresql package) or set TUNE_PG_BIN to their directory")
        }
        self.bin = bin
        password = UUID().uuidString
        // Not in the scratch space, which is removed as the process exits: the watcher below stops the server first.
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swift-tune-postgres-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try Self.freePort()
        let passwordFile = directory.appendingPathComponent("password")
        try Data(password.utf8).write(to: passwordFile)
        try giveToServerUser(directory)
        try runAsServerUser(
            "initdb",
            [
                "-D", data.path, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                "--pwfile=\(passwordFile.path)", "-E", "UTF8", "--locale=C", "--no-instructions"
            ])
        var options = [
            "listen_addresses": "127.0.0.1", "port": String(port), "unix_socket_directories": directory.path,
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"
        ]
        options.merge(settings) { $1 }
        let conf = options.keys.sorted().map { "\($0) = '\(options[$0]!)'" }.joined(separator: "\n")
        let handle = try FileHandle(forWritingTo: data.appendingPathComponent("postgresql.conf"))
        handle.seekToEndOfFile()
        handle.write(Data(("\n" + conf + "\n").utf8))
        try handle.close()
        try start()
        watchOver()
    }

    /// Starts the server (waiting until it accepts connections).
    public func start() throws {
        try runAsServerUser(
            "pg_ctl", ["-D", data.path, "-l", directory.appendingPathComponent("log").path, "-w", "-t", "60", "start"])
    }

    /// Stops the server: `immediate` is a crash as far as clients can tell (no goodbye, no checkpoint).
    public func stop(immediate: Bool = false) throws {
        try runAsServerUser("pg_ctl", ["-D", data.path, "-w", "-m", immediate ? "immediate" : "fast", "stop"])
    }

    /// `pg_ctl restart -m immediate`: every connection cut at once, the server back a moment later.
    public func restartImmediately() throws {
        try runAsServerUser(
            "pg_ctl",
            ["-D", data.path, "-l", directory.appendingPathComponent("log").path, "-w", "-m", "immediate", "restart"])
    }

    /// Runs SQL through psql as the server's superuser (over the socket).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try runAsServerUser(
            "psql", ["-h", directory.path, "-p", String(port), "-U", "postgres", "-d", database, "-AtX", "-c", sql])
    }

    /// psql over TCP in the background, running `commands` one after the other (one session): a client to kill.
    public func psqlInBackground(_ commands: [String]) throws -> Process {
        let process = Process()
        process.executableURL = bin.appendingPathComponent("psql")
        process.arguments =
            ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-AtX"]
            + commands.flatMap { ["-c", $0] }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private static var isRoot: Bool { geteuid() == 0 }

    private static func serverPrograms() -> URL? {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["TUNE_PG_BIN"] { candidates.append(dir) }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        candidates += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        candidates += ["/usr/local/bin", "/opt/homebrew/bin", "/usr/bin"]
        return candidates.map { URL(fileURLWithPath: $0) }.first {
            FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("initdb").path)
        }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ScratchError("no socket for a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw ScratchError("cannot find a free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private func giveToServerUser(_ url: URL) throws {
        guard Self.isRoot else { return }
        try run("/bin/chown", ["-R", "postgres:postgres", url.path])
    }

    @discardableResult
    private func runAsServerUser(_ program: String, _ arguments: [String]) throws -> String {
        let path = bin.appendingPathComponent(program).path
        let executable = FileManager.default.isExecutableFile(atPath: path) ? path : "/usr/bin/\(program)"
        if Self.isRoot { return try run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments) }
        return try run(executable, arguments)
    }

    /// Runs a program and returns its output. Spawned and waited for directly: Foundation's `Process` waits until
    /// every process holding a descriptor it gave the child is gone, and `pg_ctl start` leaves the server running.
    @discardableResult
    private func run(_ executable: String, _ arguments: [String]) throws -> String {
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "scratch-pg-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: outputFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ScratchError("cannot start \(executable): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        // Exited normally with status 0 (the low 7 bits are the killing signal, the next 8 the exit status).
        guard status & 0x7f == 0 && (status >> 8) & 0xff == 0 else {
            throw ScratchError("\(executable) \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A shell that outlives this process, stops the server when the process is gone (SIGQUIT to the postmaster:
    /// an immediate shutdown) and removes its files.
    private func watchOver() {
        let pidFile = data.appendingPathComponent("postmaster.pid").path
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done
            kill -QUIT "$(head -n 1 '\(pidFile)')" 2>/dev/null; sleep 2; rm -rf '\(directory.path)'
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
    }
}

/// A scratch server that cannot be made, and why.
public struct ScratchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
