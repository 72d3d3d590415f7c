import Foundation
import TuneReport
import TuneTensor

/// What `tune env` reports: the library, the BLAS in use and why, threads, CPU features and measured sgemm speed.
public struct EnvironmentReport: Codable, Sendable {
    public let version: String
    public let blasLibrary: String
    public let blasConfiguration: String?
    public let blasPath: String?
    public let kernel: String?
    public let kernelReason: String
    public let selfTestPassed: Bool
    public let selfTestMaxRelativeError: Double
    public let attempts: [String]
    public let threads: Int
    public let cpuModel: String?
    public let cpuFeatures: [String]
    /// The instruction set the element-wise kernels run with.
    public let elementwiseKernels: String
    /// sgemm 1024x1024x1024 speed, nil when not measured.
    public let sgemmGFLOPs: Double?

    public static func collect(measureSeconds: Double) -> EnvironmentReport {
        let info = BLAS.info
        let features = CPUFeatures.current
        let speed = measureSeconds > 0 ? BLASBenchmark.gflops(m: 1024, n: 1024, k: 1024, seconds: measureSeconds) : nil
        return EnvironmentReport(
            version: SwiftTune.version, blasLibrary: info.library, blasConfiguration: info.configuration,
            blasPath: info.path,
            kernel: info.kernel, kernelReason: info.reason, selfTestPassed: info.selfTest.passed,
            selfTestMaxRelativeError: info.selfTest.maxRelativeError, attempts: info.attempts,
            threads: BLAS.threadCount,
            cpuModel: features.modelName, cpuFeatures: features.relevantFlags,
            elementwiseKernels: ElementwiseKernels.instructionSet, sgemmGFLOPs: speed)
    }

    public func text() -> String {
        var lines = [
            "swift-tune     \(version)",
            "BLAS library   \(blasLibrary)\(blasConfiguration.map { " (\($0))" } ?? "")",
            "BLAS path      \(blasPath ?? "-")",
            "kernel         \(kernel ?? "-")",
            "why            \(kernelReason)",
            "self-test      \(selfTestPassed ? "passed" : "FAILED") (max relative error \(String(format: "%.2e", selfTestMaxRelativeError)))"
        ]
        for attempt in attempts { lines.append("tried          \(attempt)") }
        lines += [
            "threads        \(threads)",
            "CPU            \(cpuModel ?? "unknown")",
            "CPU features   \(cpuFeatures.isEmpty ? "-" : cpuFeatures.joined(separator: " "))",
            "element-wise   \(elementwiseKernels) kernels"
        ]
        if let sgemmGFLOPs {
            lines.append(
                String(
                    format: "sgemm          %.1f GFLOP/s (1024x1024x1024, %d thread%@)", sgemmGFLOPs, threads,
                    threads == 1 ? "" : "s"))
        }
        return lines.joined(separator: "\n")
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
