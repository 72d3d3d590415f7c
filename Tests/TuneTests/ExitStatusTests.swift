import Foundation
import TestSupport
import Testing

/// The README's table of exit statuses, command by command: 0 done, 1 the run diverged, 2 bad input, an unusable path
/// or a refused flag (ArgumentParser's own 64 never reaches the user), with usage lines that name the right command.
@Suite("Exit statuses, one table for every command", .serialized)
struct ExitStatusTests {
    struct Case: CustomTestStringConvertible {
        let arguments: [String]
        let status: Int32
        /// Text the error output must hold (the command named right, the reason).
        let says: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(arguments: ["--version"], status: 0, says: ""),
        Case(arguments: ["search", "--help"], status: 0, says: ""),
        Case(arguments: ["bogus"], status: 2, says: "See 'tune --help'"),
        Case(arguments: ["train", "--frobnicate"], status: 2, says: "See 'tune train --help'"),
        Case(arguments: ["train", "--data", "missing.csv", "--target", "y"], status: 2, says: "missing.csv"),
        Case(
            arguments: ["train", "--data", "DATA", "--target", "y", "--epochs", "1", "--tensorboard", "/proc/no/such"],
            status: 2, says: "/proc/no/such"),
        Case(arguments: ["train", "--data", "DATA", "--target", "y", "--task", "sideways"], status: 2, says: "--task"),
        Case(arguments: ["predict", "--model", "missing-run", "--data", "DATA"], status: 2, says: "missing-run"),
        Case(arguments: ["evaluate", "--model", "missing-run", "--data", "DATA"], status: 2, says: "missing-run"),
        Case(arguments: ["doctor", "missing-run"], status: 2, says: "missing-run"),
        Case(arguments: ["doctor"], status: 2, says: "See 'tune doctor --help'"),
        Case(
            arguments: ["lr-find", "--data", "DATA", "--target", "y", "--seeds", "0"], status: 2,
            says: "See 'tune lr-find --help'"),
        Case(
            arguments: ["search", "--data", "DATA", "--target", "y", "--budget", "0"], status: 2,
            says: "See 'tune search --help'"),
        Case(
            arguments: ["search", "--data", "DATA", "--target", "nope"], status: 2, says: "unknown target column 'nope'"
        ),
        Case(
            arguments: ["ensemble", "--data", "DATA", "--target", "y", "--members", "1"], status: 2,
            says: "See 'tune ensemble --help'"),
        Case(arguments: ["report", "missing-dir"], status: 2, says: "missing-dir"),
        Case(arguments: ["mlflow-sync", "missing-dir"], status: 2, says: "missing-dir"),
        Case(arguments: ["generate", "sideways", "--out", "x.csv"], status: 2, says: "unknown kind 'sideways'"),
        Case(
            arguments: ["generate", "moons", "--rows", "1", "--out", "x.csv"], status: 2,
            says: "See 'tune generate --help'"),
        Case(arguments: ["demo", "--epochs", "1"], status: 2, says: "See 'tune demo --help'"),
        Case(arguments: ["env", "--threads", "0"], status: 2, says: "See 'tune env --help'")
    ]

    @Test(arguments: cases)
    func eachCommandExitsAsTheTableSays(_ c: Case) throws {
        let dir = scratchDirectory("exit")
        let data = try writeMoonsCSV(dir, rows: 60)
        let arguments = c.arguments.map {
            $0 == "DATA" ? data : ($0.hasPrefix("missing") || $0 == "x.csv" ? dir.appendingPathComponent($0).path : $0)
        }
        let r = try runTune(arguments)
        #expect(r.status == c.status, "\(r.output)\(r.error)")
        #expect(c.says.isEmpty || r.error.contains(c.says), "\(r.error)")
        #expect(!r.error.contains("tune train search") && !r.error.contains("tune train ensemble"))
    }

    @Test func aRecipeStoppedByAFailedCheckExitsOne() throws {
        // Identical inputs with alternating labels: no network can overfit one batch, so stage 0 stops the recipe.
        let dir = scratchDirectory("exit")
        let data = dir.appendingPathComponent("same.csv").path
        try (["x,y"] + (0..<60).map { "1,\($0 % 2)" }).joined(separator: "\n").write(
            toFile: data, atomically: true, encoding: .utf8)
        let r = try runTune(["search", "--data", data, "--target", "y", "--out", dir.appendingPathComponent("s").path])
        #expect(r.status == 1 && r.error.contains("the recipe stopped at stage 0 (sanity)"), "\(r.output)\(r.error)")
    }

    @Test func aDivergedRunExitsOneAndTrainPicksItsOwnDirectory() throws {
        let dir = scratchDirectory("exit")
        let data = try writeMoonsCSV(dir, rows: 120)
        let diverged = try runTune([
            "train", "--data", data, "--target", "y", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "5",
            "--quiet", "--out", dir.appendingPathComponent("run").path
        ])
        #expect(diverged.status == 1, "\(diverged.output)\(diverged.error)")
        // Without --out, tune train writes tune-train-<data file name> in the working directory.
        let process = Process()
        process.executableURL = tuneExecutable()
        process.arguments = ["train", "--data", data, "--target", "y", "--epochs", "1", "--quiet"]
        process.currentDirectoryURL = dir
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let name = "tune-train-" + URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name + "/model/model.json").path))
    }
}
