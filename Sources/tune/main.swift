import ArgumentParser
import Foundation

/// One table of exit statuses for every command (as the README states it): 0 done; 1 the run diverged or a check
/// failed; 2 bad input, an unusable path or a refused flag (never ArgumentParser's 64, never a bare 1 for an error).
do {
    var command = try TuneCommand.parseAsRoot()
    try command.run()
} catch {
    let status = TuneCommand.exitCode(for: error)
    if error is ExitCode || status == .success {
        TuneCommand.exit(withError: error)  // an explicit status, or --help and --version
    }
    StatusLine.shared.clear()
    if status == .validationFailure {
        FileHandle.standardError.write(Data((TuneCommand.fullMessage(for: error) + "\n").utf8))
    } else {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    }
    exit(2)
}
