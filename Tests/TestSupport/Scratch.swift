import Foundation

/// The test process's scratch space: one directory under the system's temporary directory, removed when the process
/// exits, so that test runs leave nothing behind.
public let scratchRoot: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("swift-tune-tests-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: scratchRoot) }
    return url
}()

/// A new, empty directory in the scratch space.
public func scratchDirectory(_ prefix: String = "scratch") -> URL {
    let url = scratchRoot.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
