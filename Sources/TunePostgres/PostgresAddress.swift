import Foundation

/// Where a study on PostgreSQL lives, from a connection URI as libpq writes it
/// (`postgresql://user@host:port/database?sslmode=verify-full`), with the password from where a password may come.
///
/// The password never comes from the address: an address is a command-line argument, which every process on the
/// machine can read and which `--jobs` workers are started with. It comes from `--storage-password-file`, else
/// `PGPASSWORD`, else the password file (`PGPASSFILE`, else `~/.pgpass`, in libpq's format and only when no one but
/// its owner may read it). `description` is the address without any password, as notes, errors and summaries show it.
public struct PostgresAddress: Sendable, Equatable, CustomStringConvertible {
    /// How the connection is encrypted and the server checked.
    public enum TLSMode: String, Sendable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS without checking the server's certificate.
        case require
        /// TLS, the server's certificate checked against the root certificates and its name against the host.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// The root certificates to check the server against (`sslrootcert`), and a client certificate and key.
    public var rootCertificate: String?
    public var clientCertificate: String?
    public var clientKey: String?
    /// The password, when one was found; never part of `description`.
    public var password: String?

    /// Whether the host is this machine (a loopback address): TLS is off by default only there.
    public var isLoopback: Bool { ["localhost", "127.0.0.1", "::1"].contains(host.lowercased()) }

    public var description: String {
        var text = "postgresql://\(Self.encode(user))@\(host.contains(":") ? "[\(host)]" : host):\(port)/"
        text += Self.encode(database) + "?sslmode=" + tls.rawValue
        if let rootCertificate { text += "&sslrootcert=" + Self.encodeValue(rootCertificate) }
        return text
    }

    /// What is wrong with an address, naming the part.
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
    }

    /// Parses `text`; the user defaults to `environment["PGUSER"]` or `USER`, the port to 5432, the database to the
    /// user's name, TLS to `disable` on loopback and `verify-full` elsewhere.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let rest = ["postgresql://", "postgres://"].lazy.compactMap({ Self.dropPrefix($0, of: text) }).first
        else {
            throw Problem(message: "expected postgresql://[user@]host[:port]/database[?sslmode=...], got '\(text)'")
        }
        let (authority, afterAuthority) = Self.split(rest, at: "/?")
        let (path, query) = Self.split(afterAuthority.drop { $0 == "/" }, at: "?")
        var hostPort = authority
        var userPart: Substring?
        if let at = authority.lastIndex(of: "@") {
            userPart = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
        }
        if let userPart, userPart.contains(":") {
            throw Problem(
                message: "the address holds a password: put it in PGPASSWORD, ~/.pgpass or a file given with "
                    + "--storage-password-file, where other processes cannot read it")
        }
        let (host, port) = try Self.hostAndPort(hostPort)
        self.host = host
        self.port = port
        let defaultUser = environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        user = try userPart.map { try Self.decode($0, "user") }.flatMap { $0.isEmpty ? nil : $0 } ?? defaultUser
        database = try Self.decode(path, "database")
        if database.isEmpty { database = user }
        tls = .disable
        try applyOptions(query.drop { $0 == "?" })
    }

    /// The query's options: sslmode (disable, require or verify-full), sslrootcert, sslcert, sslkey.
    private mutating func applyOptions(_ query: Substring) throws {
        var mode: TLSMode?
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = String(parts[0]), value = try Self.decode(parts.count > 1 ? parts[1] : "", key)
            switch key {
            case "sslmode":
                guard let m = TLSMode(rawValue: value) else {
                    throw Problem(
                        message: "sslmode must be disable, require or verify-full, got '\(value)'")
                }
                mode = m
            case "sslrootcert": rootCertificate = value
            case "sslcert": clientCertificate = value
            case "sslkey": clientKey = value
            default:
                throw Problem(message: "unknown option '\(key)' (sslmode, sslrootcert, sslcert and sslkey are known)")
            }
        }
        tls = mode ?? (isLoopback ? .disable : .verifyFull)
    }

    /// The password: from `passwordFile` (its first line), else `PGPASSWORD`, else the first matching line of the
    /// password file. Nil when none has one.
    public mutating func findPassword(
        passwordFile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        if let passwordFile {
            let text: String
            do { text = try String(contentsOfFile: passwordFile, encoding: .utf8) } catch {
                throw Problem(message: "\(passwordFile): cannot read the password file: \(error.localizedDescription)")
            }
            password = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            return
        }
        if let value = environment["PGPASSWORD"] {
            password = value
            return
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = environment["PGPASSFILE"] ?? URL(fileURLWithPath: home).appendingPathComponent(".pgpass").path
        password = try Self.passwordFileEntry(path, for: self)
    }

    /// The password of the first line of a libpq password file (`host:port:database:user:password`, `*` matching
    /// anything, `\` escaping `:` and `\`) that matches `address`. A file others may read is refused, as libpq does.
    static func passwordFileEntry(_ path: String, for address: PostgresAddress) throws -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let text = try? String(contentsOfFile: path, encoding: .utf8)
        else { return nil }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw Problem(
                message: "\(path): others may read this password file (mode \(String(mode, radix: 8))); "
                    + "chmod 600 it")
        }
        let wanted = [address.host, String(address.port), address.database, address.user]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = splitEscaped(line)
            guard fields.count == 5 else { continue }
            if zip(fields.prefix(4), wanted).allSatisfy({ $0.0 == "*" || $0.0 == $0.1 }) { return fields[4] }
        }
        return nil
    }

    /// A password file's line split at unescaped colons, the escapes removed.
    static func splitEscaped(_ line: Substring) -> [String] {
        var fields = [""], escaped = false
        for c in line {
            if escaped {
                fields[fields.count - 1].append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == ":" {
                fields.append("")
            } else {
                fields[fields.count - 1].append(c)
            }
        }
        return fields
    }

    private static func dropPrefix(_ prefix: String, of text: String) -> Substring? {
        text.lowercased().hasPrefix(prefix) ? text.dropFirst(prefix.count) : nil
    }

    /// `text` up to the first of `separators`, and the rest from it.
    private static func split(_ text: Substring, at separators: String) -> (Substring, Substring) {
        guard let i = text.firstIndex(where: { separators.contains($0) }) else { return (text, "") }
        return (text[..<i], text[i...])
    }

    private static func hostAndPort(_ text: Substring) throws -> (String, Int) {
        var host = text, portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw Problem(message: "an unclosed [ in the host") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw Problem(message: "unexpected '\(after)' after the host")
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { throw Problem(message: "no host: postgresql://HOST:PORT/DATABASE") }
        guard let portText else { return (String(host), 5432) }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw Problem(message: "the port must be a number in 1...65535, got '\(portText)'")
        }
        return (String(host), port)
    }

    private static func decode(_ text: Substring, _ part: String) throws -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw Problem(message: "\(part): a malformed %-escape in '\(text)'")
        }
        return decoded
    }

    /// A user or database name as the address writes it (%-escaping what would end the part).
    private static func encode(_ text: String) -> String {
        let allowed = CharacterSet.urlUserAllowed.subtracting(CharacterSet(charactersIn: ":@/?&="))
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// An option's value (a path keeps its slashes).
    private static func encodeValue(_ text: String) -> String {
        let allowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
