import Foundation
import TestSupport
import Testing
import TuneSearch

@testable import TunePostgres

/// TLS to a server of its own with a certificate for 127.0.0.1 signed by a test authority (made with openssl).
@Suite("Studies on PostgreSQL over TLS", .serialized)
struct PostgresTLSTests {
    let server: ScratchPostgres
    let authority: String

    init() throws {
        let dir = scratchDirectory("tls")
        func openssl(_ arguments: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "cd '\(dir.path)' && openssl \(arguments) 2>/dev/null"]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ScratchError("openssl \(arguments) failed") }
        }
        try Data("subjectAltName=IP:127.0.0.1\n".utf8).write(to: dir.appendingPathComponent("san.ext"))
        try openssl("req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=tune-test-ca")
        try openssl("req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1")
        try openssl(
            "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext"
        )
        authority = dir.appendingPathComponent("ca.crt").path
        // The server reads its key only if no one else may.
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o600], ofItemAtPath: dir.appendingPathComponent("server.key").path)
        if geteuid() == 0 {
            let chown = Process()
            chown.executableURL = URL(fileURLWithPath: "/bin/chown")
            chown.arguments = ["-R", "postgres:postgres", dir.path]
            try chown.run()
            chown.waitUntilExit()
        }
        server = try ScratchPostgres(settings: [
            "ssl": "on", "ssl_cert_file": dir.appendingPathComponent("server.crt").path,
            "ssl_key_file": dir.appendingPathComponent("server.key").path
        ])
    }

    func address(_ options: String) throws -> PostgresAddress {
        var address = try PostgresAddress("postgresql://postgres@127.0.0.1:\(server.port)/postgres?\(options)")
        address.password = server.password
        return address
    }

    /// Whether the server sees this test's connections encrypted.
    func encrypted() throws -> String {
        try server.psql(
            """
            SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
            WHERE a.application_name = 'swift-tune'
            """)
    }

    @Test func verifyFullChecksTheServerAgainstTheGivenRoot() throws {
        defer { try? server.stop(immediate: true) }
        let checked = try PostgresStorage(
            address: try address("sslmode=verify-full&sslrootcert=\(authority)"), study: "tls", direction: .minimize)
        #expect(try checked.createTrial(state: .running) == 0)
        #expect(try encrypted() == "t")
        checked.close()

        let unchecked = try PostgresStorage(address: try address("sslmode=require"), study: "tls", direction: .minimize)
        #expect(try unchecked.createTrial(state: .running) == 1)
        #expect(try encrypted() == "t")
        unchecked.close()

        // Without the test authority the certificate is not trusted: an error at once, not a server to wait for.
        let started = Date()
        let error = #expect(throws: SearchError.self) {
            try PostgresStorage(address: try address("sslmode=verify-full"), study: "tls", direction: .minimize)
        }
        #expect(Date().timeIntervalSince(started) < 30, "\(error.map { "\($0)" } ?? "")")
        #expect("\(error.map { "\($0)" } ?? "")".lowercased().contains("certificate"), "\(error.map { "\($0)" } ?? "")")
    }
}
