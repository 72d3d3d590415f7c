import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP relay on 127.0.0.1 to a local port, which a test can cut: while cut, nothing crosses (the bytes wait in
/// the sockets' buffers, as on a network that drops a link without closing the connections), and when it is mended
/// they flow again. A client reaching a server through it is a client on the far side of a network.
public final class TCPProxy: @unchecked Sendable {
    public let port: Int
    private let target: Int
    private let listener: Int32
    private let condition = NSCondition()
    private var cut = false

    public init(to target: Int) throws {
        self.target = target
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        let ready = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, ready else { throw ScratchError("cannot listen on 127.0.0.1 for a proxy") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in relay() }
    }

    /// Stops everything crossing until `mend`.
    public func cutOff() { condition.withLock { cut = true } }

    public func mend() {
        condition.withLock {
            cut = false
            condition.broadcast()
        }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return address
    }

    private func relay() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: UInt16(target))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else {
                close(client)
                close(server)
                continue
            }
            Thread.detachNewThread { [self] in pump(from: client, to: server) }
            Thread.detachNewThread { [self] in pump(from: server, to: client) }
        }
    }

    /// Copies one direction until either side closes; holds what it read while the link is cut.
    private func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        defer {
            shutdown(destination, Int32(SHUT_WR))
            shutdown(source, Int32(SHUT_RD))
        }
        while true {
            let count = read(source, &buffer, buffer.count)
            guard count > 0 else { return }
            condition.withLock {
                while cut { condition.wait() }
            }
            var sent = 0
            while sent < count {
                let n = buffer[sent..<count].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
                guard n > 0 else { return }
                sent += n
            }
        }
    }
}
