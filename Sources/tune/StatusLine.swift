import Foundation
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A line at the bottom of the terminal (a search's status, an epoch's progress bar), rewritten in place on standard
/// error: only when both standard output and standard error are a terminal, at most ten times a second, cut to the
/// terminal's width. Whatever prints a line clears it first (`printNow`, the epoch table).
final class StatusLine: @unchecked Sendable {
    static let shared = StatusLine()
    private let lock = NSLock()
    private let enabled = isatty(STDERR_FILENO) != 0 && isatty(STDOUT_FILENO) != 0
    private var shown = false
    private var last = Date.distantPast

    private var width: Int {
        var size = winsize()
        return ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    /// Shows `text`, built only when it will be drawn.
    func show(_ text: @autoclosure () -> String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(last) >= 0.1 else { return }
        last = now
        FileHandle.standardError.write(Data(("\r\u{1B}[2K  " + String(text().prefix(max(width - 3, 10)))).utf8))
        shown = true
    }

    func clear() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        shown = false
    }
}
