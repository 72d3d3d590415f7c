import Foundation

/// The test process's scratch space: one directory under the system's temporary directory, removed when the process
/// exits, so that test runs leave nothing behind.
public let scratchRoot: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "swift-tune-tests-\(ProcessInfo.processInfo.processIdentifier)")
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

/// The repository's root (this file is Tests/TestSupport/Scratch.swift).
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The Python that has the dev-time packages (TUNE_PYTHON, set by `make test`), or python3.
public var testPython: String {
    ProcessInfo.processInfo.environment["TUNE_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
}

/// Runs `tools/<script>` with `testPython`: its exit status, output and error output.
public func runPythonTool(_ script: String, _ arguments: [String]) throws -> (
    status: Int32, output: String, error: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [testPython, repositoryRoot.appendingPathComponent("tools/\(script)").path] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile(), error = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
}
