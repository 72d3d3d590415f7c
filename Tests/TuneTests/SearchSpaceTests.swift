import Foundation
import TestSupport
import Testing
@testable import Tune
@testable import TuneEngine
@testable import TuneReport
@testable import TuneRun
import TuneData
import TuneSearch

@Suite("Search spaces")
struct SearchSpaceTests {
    func file(_ text: String) throws -> String {
        let path = scratchDirectory().appendingPathComponent("space.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aYAMLSpaceIsReadWithItsTypes() throws {
        let space = try SearchSpace.load(
            path: try file(
                """
                lr: {low: 1e-4, high: 1e-1, log: true}
                width: {low: 16, high: 256, log: true}
                depth: [1, 2, 3]
                dropout: [0, 0.25]
                batchnorm: [false, true]
                weight-decay: {low: 0, high: 0.01, step: 0.005}
                """))
        #expect(space.entries.map(\.setting) == [.lr, .width, .depth, .dropout, .batchnorm, .weightDecay])
        #expect(space.entries[0].distribution == .float(low: 1e-4, high: 0.1, log: true, step: nil))
        #expect(space.entries[1].distribution == .int(low: 16, high: 256, step: 1, log: true))
        #expect(space.entries[2].distribution == .categorical([.int(1), .int(2), .int(3)]))
        #expect(space.entries[3].distribution == .categorical([.double(0), .double(0.25)]))
        #expect(space.entries[4].distribution == .categorical([.bool(false), .bool(true)]))
        // The grid: powers of ten, five log-spaced widths (16 * 2^k), every listed choice, multiples of the step.
        let grid = space.gridValues
        #expect(
            grid["lr"]!.map { $0.double! }.enumerated().allSatisfy {
                abs($1 / [1e-4, 1e-3, 1e-2, 1e-1][$0] - 1) < 1e-12
            })
        #expect(grid["width"] == [16, 32, 64, 128, 256].map { .int($0) })
        #expect(grid["weight-decay"] == [0, 0.005, 0.01].map { .double($0) })
        #expect(GridSampler(grid).count == 4 * 5 * 3 * 2 * 2 * 3)
    }

    @Test func badSpacesNameTheLineAndTheSetting() throws {
        func problem(_ text: String) -> DataError? {
            do { _ = try SearchSpace.load(path: try file(text)); return nil } catch { return error as? DataError }
        }
        let unknown = problem("lr: [0.1]\nlayers: [1, 2]\n")
        #expect(unknown?.line == 2 && unknown!.message.contains("unknown setting 'layers'"))
        let badChoice = problem("activation: [relu, sparkle]\n")
        #expect(badChoice?.column == "activation" && badChoice!.message.contains("'sparkle'"))
        let negative = problem("\n\nlr: {low: -1, high: 0.1, log: true}\n")
        #expect(negative?.line == 3 && negative!.message.contains("positive"))
        #expect(problem("width: {low: 8.5, high: 64}\n")?.message.contains("whole number") == true)
        #expect(problem("schedule: {low: 1, high: 2}\n")?.message.contains("list of choices") == true)
        #expect(problem("lr: {low: 0.1}\n")?.message.contains("low and high") == true)
        #expect(problem("- just a list\n")?.message.contains("mapping") == true)
    }

    @Test func flagsAddAndReplaceSettings() throws {
        var space = SearchSpace.standard
        try space.apply(flags: ["lr=0.001..0.1:log", "batch-size=16|32", "warmup=0..4:step=2"])
        #expect(
            space.entries.first { $0.setting == .lr }?.distribution
                == .float(low: 0.001, high: 0.1, log: true, step: nil))
        #expect(space.entries.first { $0.setting == .batchSize }?.distribution == .categorical([.int(16), .int(32)]))
        #expect(space.gridValues["warmup"] == [0, 2, 4].map { .int($0) })
        // A log range that ends between powers of ten: the grid stays inside and ends at the range's end.
        var short = SearchSpace()
        try short.apply(flags: ["lr=1e-4..5e-2:log"])
        #expect(
            short.gridValues["lr"]!.map { $0.double! }.enumerated().allSatisfy {
                abs($1 / [1e-4, 1e-3, 1e-2, 5e-2][$0] - 1) < 1e-12
            })
        #expect(short.gridValues["lr"]!.count == 4)
        #expect(throws: DataError.self) { try space.apply(flags: ["lr=fast"]) }
        #expect(throws: DataError.self) { try space.apply(flags: ["colour=red|blue"]) }
        #expect(throws: DataError.self) { try space.apply(flags: ["dropout=0..1.5"]) }
    }

    @Test func aGridSearchRunsEachPointOnce() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path, out = dir.appendingPathComponent("grid").path
        #expect(try runTune(["generate", "moons", "--rows", "200", "--seed", "1", "--out", data]).status == 0)
        let run = try runTune([
            "search", "--data", data, "--target", "label", "--strategy", "grid", "--pruner", "none", "--epochs", "3",
            "--param", "lr=0.001..0.1:log", "--param", "depth=1|2", "--out", out
        ])
        #expect(run.status == 0, "\(run.error)")
        let trials = try SQLiteStorage(path: out + "/study.sqlite", direction: .maximize).allTrials()
        let points = Set(trials.map { "\($0.parameters["lr"]!.double!.formatted())/\($0.parameters["depth"]!)" })
        #expect(trials.count == 6 && points.count == 6, "3 rates x 2 depths, each once: \(points)")
        #expect(
            trials.allSatisfy { $0.parameters.keys.sorted() == ["depth", "lr"] }, "only the given settings are searched"
        )
        let recipe = try runTune([
            "search", "--data", data, "--target", "label", "--param", "lr=0.1|0.2", "--out",
            dir.appendingPathComponent("r").path
        ])
        #expect(recipe.status == 2 && recipe.error.contains("--param"))
    }
}
