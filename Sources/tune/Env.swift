import ArgumentParser
import Foundation
import Tune

extension TuneCommand {
    struct Env: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Show swift-tune's version, the BLAS library and kernel in use and why, threads, CPU features and sgemm speed."
        )

        @Option(help: "BLAS threads to use (default: the library's own default).")
        var threads: Int?

        @Option(help: "Seconds to spend measuring sgemm speed (0 skips the measurement).")
        var seconds: Double = 1

        @Flag(help: "Print JSON instead of text.")
        var json = false

        func validate() throws {
            if let threads, !(1...1024).contains(threads) {
                throw ValidationError("--threads must be between 1 and 1024, got \(threads)")
            }
            guard seconds >= 0, seconds.isFinite else {
                throw ValidationError("--seconds must be zero or positive, got \(seconds)")
            }
        }

        func run() throws {
            if let threads { BLAS.setThreadCount(threads) }
            let report = EnvironmentReport.collect(measureSeconds: seconds)
            print(json ? report.json() : report.text())
        }
    }
}
