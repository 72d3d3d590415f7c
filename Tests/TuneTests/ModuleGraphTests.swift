import Foundation
import TestSupport
import Testing

/// The layering of the modules, stated here on its own (not read from Package.swift) and checked against every
/// `import` in `Sources/`: a module imports only modules below it, the report imports no tuner, and the search
/// engine does not link the tensor engine.
@Suite("The module graph")
struct ModuleGraphTests {
    static let system: Set<String> = [
        "Foundation", "FoundationEssentials", "FoundationNetworking", "Dispatch", "Glibc", "Darwin", "Accelerate"
    ]
    static let numeric: Set<String> = ["CTuneKernels", "TuneRandom", "TuneTensor"]
    static let lower: Set<String> = numeric.union(["TuneNN", "TuneDiagnosis", "TuneData", "TuneTraining", "TuneSearch"])
    /// What each module may import, from the bottom up.
    static let allowed: [String: Set<String>] = [
        "TuneRandom": ["CTuneKernels"],
        "TuneTensor": ["CTuneKernels", "TuneRandom"],
        "TuneNN": numeric,
        "TuneDiagnosis": [],
        "TuneData": numeric.union(["TuneDiagnosis"]),
        "TuneTraining": numeric.union(["TuneNN", "TuneData"]),
        "TuneSearch": ["TuneRandom", "GRDB"],
        "TuneExport": ["TuneDiagnosis", "TuneData", "SwiftProtobuf"],
        "TuneReport": ["TuneDiagnosis", "TuneData", "TuneTraining", "TuneSearch"],
        "TuneRun": lower.union(["TuneExport", "TuneReport", "Yams"]),
        "TuneEngine": lower.union(["TuneExport", "TuneReport", "TuneRun", "Yams"]),
        "Tune": lower.union(["TuneExport", "TuneReport", "TuneRun", "TuneEngine"]),
        // The database's client, its event loops, TLS and the log it is given; the tuner only through TuneSearch's
        // storage protocol.
        "TunePostgres": ["TuneSearch", "PostgresNIO", "NIOCore", "NIOPosix", "NIOSSL", "Logging"],
        // The command line reaches a study on PostgreSQL through TunePostgres, which the umbrella leaves out.
        "tune": ["Tune", "TunePostgres", "ArgumentParser"]
    ]

    /// The modules each Swift module under `Sources/` imports.
    static func imports() throws -> [String: Set<String>] {
        let sources = repositoryRoot.appendingPathComponent("Sources")
        var found: [String: Set<String>] = [:]
        for module in try FileManager.default.contentsOfDirectory(atPath: sources.path) {
            guard let files = FileManager.default.enumerator(atPath: sources.appendingPathComponent(module).path)
            else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(
                    contentsOf: sources.appendingPathComponent(module).appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
                    guard let at = words.firstIndex(of: "import"), at + 1 < words.count,
                        words[..<at].allSatisfy({ $0.hasPrefix("@") })
                    else { continue }
                    found[module, default: []].insert(String(words[at + 1]))
                }
            }
        }
        return found
    }

    @Test func everyModuleImportsOnlyModulesBelowIt() throws {
        let found = try Self.imports()
        #expect(Set(found.keys) == Set(Self.allowed.keys))
        for (module, imported) in found.sorted(by: { $0.key < $1.key }) {
            let allowed = try #require(Self.allowed[module], "\(module) is not in the layering")
            let strays = imported.subtracting(allowed).subtracting(Self.system)
            #expect(strays.isEmpty, "\(module) imports \(strays.sorted())")
        }
    }

    @Test func theReportImportsNoTunerAndTheSearchNoTensors() throws {
        let found = try Self.imports()
        let report = try #require(found["TuneReport"])
        #expect(report.isDisjoint(with: ["TuneRun", "TuneEngine", "Tune"]))
        let search = try #require(found["TuneSearch"])
        #expect(!search.contains("TuneTensor"))
        #expect(search.contains("TuneRandom"))
    }

    /// A module below another never imports it: the allowed sets form no cycle.
    @Test func theLayeringHasNoCycle() {
        var done = Set<String>()
        var left = Self.allowed
        while let next = left.first(where: { $0.value.allSatisfy { done.contains($0) || Self.allowed[$0] == nil } }) {
            done.insert(next.key)
            left[next.key] = nil
        }
        #expect(left.isEmpty, "a cycle among \(left.keys.sorted())")
    }
}
