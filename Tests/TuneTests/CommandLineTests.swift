import Foundation
import Testing
import TuneTensor

/// The built `tune` executable, which sits next to the test bundle.
func tuneExecutable() -> URL {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let executable = directory.appendingPathComponent("tune")
    // Under some runners argv[0] is inside the .xctest bundle.
    return FileManager.default.fileExists(atPath: executable.path)
        ? executable : directory.deletingLastPathComponent().appendingPathComponent("tune")
}

/// Runs the built `tune` executable.
func runTune(_ arguments: [String], environment: [String: String?] = [:]) throws -> (
    status: Int32, output: String, error: String
) {
    let process = Process()
    process.executableURL = tuneExecutable()
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let error = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
}

@Suite("tune env", .serialized)
struct EnvCommandTests {
    struct Report: Decodable {
        let blasLibrary: String
        let kernel: String?
        let kernelReason: String
        let selfTestPassed: Bool
        let threads: Int
        let sgemmGFLOPs: Double?
    }

    func report(_ arguments: [String], environment: [String: String?]) throws -> Report {
        let result = try runTune(["env", "--json"] + arguments, environment: environment)
        #expect(result.status == 0, "\(result.error)")
        return try JSONDecoder().decode(Report.self, from: Data(result.output.utf8))
    }

    #if os(Linux)
        @Test func aKernelTheUserSetIsKept() throws {
            let r = try report(["--seconds", "0"], environment: ["OPENBLAS_CORETYPE": "Prescott"])
            #expect(r.kernel == "Prescott")
            #expect(r.kernelReason.contains("set by the user"))
            #expect(r.selfTestPassed)
        }

        @Test func withoutASettingTheKernelComesFromTheCPU() throws {
            let expected = BLAS.chooseKernel(userSetting: nil, features: CPUFeatures.current)
            let r = try report(["--seconds", "0"], environment: ["OPENBLAS_CORETYPE": nil])
            #expect(r.selfTestPassed)
            if let kernel = expected.kernel {
                #expect(r.kernel == kernel, "\(r.kernelReason)")
                #expect(r.kernelReason == expected.reason)
            }
        }
    #endif

    @Test func threadsAndSpeedAreReported() throws {
        let r = try report(["--threads", "1", "--seconds", "0.05"], environment: [:])
        #expect(r.threads == 1 || r.blasLibrary != "OpenBLAS")
        #expect((r.sgemmGFLOPs ?? 0) > 0)
    }

    @Test func badArgumentsAreRefusedWithAClearMessage() throws {
        let r = try runTune(["env", "--threads", "0"])
        #expect(r.status != 0)
        #expect(r.error.contains("--threads must be between 1 and 1024"))
        let huge = try runTune(["env", "--threads", "3000000000", "--seconds", "0"])
        #expect(huge.status != 0 && huge.error.contains("--threads must be between 1 and 1024"))
        let d = try runTune(["demo", "--epochs", "0"])
        #expect(d.status != 0)
        #expect(d.error.contains("--epochs must be in 2...10000, got 0"))
    }
}
