import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// One process's connection to the server, used synchronously (the study storage's protocol is), one statement
/// sequence at a time.
///
/// What can go wrong with a database on another machine is handled here, once: a connection that is refused, cut or
/// closed by a server restart, the server full (`too many clients`), a deadlock, a lock wait that timed out, or a
/// server that stops answering is retried on a new connection after a pause that doubles from 0.1 s up to 5 s, for
/// up to `patience` seconds; anything else (a refused password, a bad certificate, a constraint) is an error at once.
/// The session asks the server to free what a dead client holds: `idle_in_transaction_session_timeout` ends a session
/// that stays in a transaction, `lock_timeout` bounds lock waits, and TCP keepalives find a peer that vanished.
final class PostgresLink: @unchecked Sendable {
    let address: PostgresAddress
    /// Seconds of retrying before an unreachable server is an error.
    var patience: Double
    /// Seconds a statement may take before the connection is taken for dead.
    var statementTimeout: Int64 = 120
    /// Told when the connection is lost and when it comes back.
    var onNote: (String) -> Void
    private var connection: PostgresConnection?
    private let lock = NSLock()
    private let logger = Logger(label: "swift-tune.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    /// The channel this process LISTENs on (again on each new connection), and the notifications received.
    private var channel: String?
    private let notifications = NSCondition()
    private var received = 0
    /// Connections made so far (a new one after each loss).
    private(set) var connectionCount = 0

    init(address: PostgresAddress, patience: Double = 600, onNote: @escaping (String) -> Void = { _ in }) {
        self.address = address
        self.patience = patience
        self.onNote = onNote
    }

    deinit { try? connection?.close().wait() }

    /// Closes the connection (a new one is made by the next statement).
    func close() {
        lock.withLock {
            try? connection?.close().wait()
            connection = nil
        }
    }

    /// Runs `body` with the connection, retrying it on a new connection after a transient failure. `body` must be
    /// safe to run again: a transaction that did not commit, or statements whose effect is the same when repeated.
    @discardableResult
    func run<T>(_ body: (Session) throws -> T) throws -> T {
        try lock.withLock {
            var pause = 0.1
            let giveUp = Date().addingTimeInterval(patience)
            var lost: String?
            var retrying = false
            while true {
                do {
                    let session = Session(
                        connection: try connected(), logger: logger, timeout: statementTimeout, retrying: retrying)
                    let value = try body(session)
                    if let lost { onNote("the connection to \(address) is back (it was lost: \(lost))") }
                    return value
                } catch let failure as PostgresFailure where failure.isTransient {
                    if failure.losesConnection {
                        try? connection?.close().wait()
                        connection = nil
                    }
                    guard Date() < giveUp else {
                        throw PostgresFailure(message: "gave up after \(Int(patience)) s: \(failure.message)")
                    }
                    if lost == nil {
                        lost = failure.message
                        onNote("\(address): \(failure.message); retrying")
                    }
                    retrying = true
                    Thread.sleep(forTimeInterval: pause * Double.random(in: 0.75...1.25))
                    pause = min(pause * 2, 5)
                }
            }
        }
    }

    private func connected() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let configuration = try Self.configuration(address)
        connectionCount += 1
        do {
            let made = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: connectionCount,
                logger: logger
            ).wait()
            connection = made
            if let channel { try subscribe(made, channel) }
            return made
        } catch {
            throw PostgresFailure(error, connecting: true)
        }
    }

    /// LISTENs on `channel` from now on, on this connection and the next ones.
    func listen(_ channel: String) throws {
        try run { s in
            guard self.channel == nil else { return }
            self.channel = channel
            try subscribe(s.connection, channel)
        }
    }

    private func subscribe(_ connection: PostgresConnection, _ channel: String) throws {
        connection.addListener(channel: channel) { [weak self] _, _ in self?.notified() }
        do {
            _ = try connection.query(PostgresQuery(unsafeSQL: "LISTEN \"\(channel)\""), logger: logger).wait()
        } catch { throw PostgresFailure(error) }
    }

    private func notified() {
        notifications.withLock {
            received += 1
            notifications.broadcast()
        }
    }

    /// Waits until a notification has come since `seen` notifications, or until `seconds` have passed; returns the
    /// notifications received so far.
    func waitForNotification(after seen: Int, upTo seconds: Double) -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        return notifications.withLock {
            while received == seen && notifications.wait(until: deadline) {}
            return received
        }
    }

    /// The connection's settings: TLS as the address says, and the server-side timeouts in the startup packet.
    static func configuration(_ address: PostgresAddress) throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: address.host, port: address.port, username: address.user, password: address.password,
            database: address.database, tls: try tls(address))
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [
            ("application_name", "swift-tune"),
            // A client that dies inside a transaction frees its locks within a minute.
            ("idle_in_transaction_session_timeout", "60s"),
            ("lock_timeout", "10s"),
            ("tcp_keepalives_idle", "30"), ("tcp_keepalives_interval", "10"), ("tcp_keepalives_count", "3")
        ]
        return configuration
    }

    private static func tls(_ address: PostgresAddress) throws -> PostgresConnection.Configuration.TLS {
        guard address.tls != .disable else { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if address.tls == .require {
                tls.certificateVerification = .none
            } else if let root = address.rootCertificate {
                tls.trustRoots = .file(root)
            }
            if let certificate = address.clientCertificate {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
                guard let key = address.clientKey else {
                    throw PostgresFailure(message: "sslcert is given without sslkey (the client certificate's key)")
                }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            }
            return .require(try NIOSSLContext(configuration: tls))
        } catch let failure as PostgresFailure {
            throw failure
        } catch {
            throw PostgresFailure(message: "the TLS settings (sslrootcert, sslcert, sslkey) cannot be used: \(error)")
        }
    }
}

/// A connection lent to one statement sequence: statements with a client-side time limit, and transactions.
struct Session {
    let connection: PostgresConnection
    let logger: Logger
    let timeout: Int64
    /// Whether an earlier attempt of the same call failed: it may have committed before its answer was lost.
    let retrying: Bool

    /// The rows of `query`. A server that does not answer within the time limit is taken for gone (the
    /// connection is closed, which fails the statement, and the caller retries on a new one).
    @discardableResult
    func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        let connection = connection
        let watchdog = connection.eventLoop.scheduleTask(in: .seconds(timeout)) {
            let closing: EventLoopFuture<Void> = connection.close()
            _ = closing
        }
        defer { watchdog.cancel() }
        do { return try connection.query(query, logger: logger).wait() } catch { throw PostgresFailure(error) }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN")
        do {
            let value = try body()
            try query("COMMIT")
            return value
        } catch {
            if !connection.isClosed { _ = try? query("ROLLBACK") }
            throw error
        }
    }
}

/// What went wrong talking to the server, said without the password (the address's description never holds one, and
/// the library's own description of an error is not used, as it may carry the statement's values).
struct PostgresFailure: Error, CustomStringConvertible {
    let message: String
    /// Worth retrying: on a new connection (`losesConnection`), or on the same one (a deadlock, a lock wait).
    var isTransient = false
    var losesConnection = false
    /// The server's error code (SQLSTATE), when it sent one.
    var sqlState: String?

    var description: String { message }

    init(message: String) { self.message = message }

    static func isTLS(_ error: any Error) -> Bool { error is NIOSSLError || error is BoringSSLError }

    init(_ error: any Error, connecting: Bool = false) {
        if let failure = error as? PostgresFailure {
            self = failure
            return
        }
        if Self.isTLS(error) || (error as? PSQLError)?.underlying.map(Self.isTLS) == true {
            // A certificate that is not trusted or a handshake refused: the same on every attempt.
            let underlying = (error as? PSQLError)?.underlying ?? error
            message = "TLS: \(underlying) (check sslmode, sslrootcert, sslcert and sslkey)"
            return
        }
        guard let error = error as? PSQLError else {
            // A socket error (connection refused, no route, reset): the server may come back.
            message = (connecting ? "cannot connect: " : "the connection failed: ") + "\(error)"
            isTransient = true
            losesConnection = true
            return
        }
        if let info = error.serverInfo {
            let state = info[.sqlState] ?? ""
            sqlState = state
            message = "PostgreSQL: \(info[.message] ?? "error") (SQLSTATE \(state))"
            // 08: connection exceptions; 40001 serialization failure; 40P01 deadlock; 53300 too many clients;
            // 55P03 lock not available; 57P01-57P03 the server shutting down, crashed or starting.
            let retried = ["40001", "40P01", "53300", "55P03", "57P01", "57P02", "57P03"]
            isTransient = state.hasPrefix("08") || retried.contains(state)
            losesConnection = state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300"
            return
        }
        let lost: [PSQLError.Code] = [
            .serverClosedConnection, .connectionError, .uncleanShutdown, .clientClosedConnection
        ]
        if lost.contains(error.code) {
            message =
                (connecting ? "cannot connect" : "the connection was lost")
                + (error.underlying.map { ": \($0)" } ?? " (\(error.code))")
            isTransient = true
            losesConnection = true
        } else {
            message = "PostgreSQL client: \(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
        }
    }
}
