import Foundation
import TestSupport
import Testing
@testable import TunePostgres

/// Addresses of a study on PostgreSQL as libpq reads them, and where the password comes from (never the address).
@Suite("PostgreSQL addresses and passwords")
struct PostgresAddressTests {
    let environment = ["PGUSER": "tuner", "HOME": "/nonexistent"]

    @Test func anAddressGivesItsPartsAndTLSDependsOnTheHost() throws {
        let remote = try PostgresAddress("postgresql://alice@db.example.com:6543/studies", environment: environment)
        #expect(remote.user == "alice" && remote.host == "db.example.com" && remote.port == 6543)
        #expect(remote.database == "studies" && remote.tls == .verifyFull, "verify-full away from this machine")
        #expect(remote.description == "postgresql://alice@db.example.com:6543/studies?sslmode=verify-full")
        let local = try PostgresAddress("postgres://127.0.0.1", environment: environment)
        #expect(local.user == "tuner" && local.port == 5432 && local.database == "tuner" && local.tls == .disable)
        let six = try PostgresAddress("postgresql://[::1]:5433/db?sslmode=require", environment: environment)
        #expect(six.host == "::1" && six.port == 5433 && six.tls == .require)
        #expect(six.description == "postgresql://tuner@[::1]:5433/db?sslmode=require")
        let escaped = try PostgresAddress(
            "postgresql://al%40ice@h/d%2Fb?sslrootcert=/etc/ca.pem&sslmode=verify-full", environment: environment)
        #expect(escaped.user == "al@ice" && escaped.database == "d/b" && escaped.rootCertificate == "/etc/ca.pem")
        #expect(escaped.description == "postgresql://al%40ice@h:5432/d%2Fb?sslmode=verify-full&sslrootcert=/etc/ca.pem")
    }

    @Test func aPasswordInTheAddressAndOtherMistakesAreRefused() {
        func problem(_ text: String) -> String {
            do {
                _ = try PostgresAddress(text, environment: environment)
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(problem("postgresql://alice:secret@db/studies").contains("PGPASSWORD"))
        #expect(!problem("postgresql://alice:secret@db/studies").contains("secret"), "the password is not repeated")
        #expect(problem("postgresql://db/s?sslmode=prefer").contains("sslmode must be disable, require or verify-full"))
        #expect(problem("postgresql://db/s?options=-c").contains("unknown option 'options'"))
        for port in ["0", "70000", "x"] { #expect(problem("postgresql://db:\(port)/s").contains("the port")) }
        #expect(problem("mysql://db/s").hasPrefix("expected postgresql://"))
        #expect(problem("postgresql:///s").contains("no host"))
    }

    @Test func thePasswordComesFromTheFileTheEnvironmentOrPgpass() throws {
        let dir = scratchDirectory()
        var address = try PostgresAddress("postgresql://alice@db.example.com:6543/studies", environment: environment)
        let file = dir.appendingPathComponent("password").path
        try "from-file\nsecond line\n".write(toFile: file, atomically: true, encoding: .utf8)
        try address.findPassword(passwordFile: file, environment: ["PGPASSWORD": "from-env"])
        #expect(address.password == "from-file")
        try address.findPassword(environment: ["PGPASSWORD": "from-env"])
        #expect(address.password == "from-env")
        // libpq's password file: the first line that matches, * for anything, \: and \\ escaped.
        let pgpass = dir.appendingPathComponent("pgpass").path
        try """
        # host:port:database:user:password
        other.example.com:*:*:alice:wrong-host
        db.example.com:6543:studies:bob:wrong-user
        db.example.com:*:studies:alice:pa\\:ss\\\\word
        *:*:*:*:too-late
        """.write(toFile: pgpass, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pgpass)
        try address.findPassword(environment: ["PGPASSFILE": pgpass])
        #expect(address.password == "pa:ss\\word")
        var elsewhere = try PostgresAddress("postgresql://carol@h/x", environment: environment)
        try elsewhere.findPassword(environment: ["PGPASSFILE": pgpass])
        #expect(elsewhere.password == "too-late")
        try elsewhere.findPassword(environment: ["PGPASSFILE": dir.appendingPathComponent("none").path])
        #expect(elsewhere.password == nil)
        // A password file others may read is refused, as libpq refuses it.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: pgpass)
        #expect(throws: PostgresAddress.Problem.self) { try address.findPassword(environment: ["PGPASSFILE": pgpass]) }
    }
}
