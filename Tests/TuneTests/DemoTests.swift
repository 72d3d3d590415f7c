import Foundation
import Testing
@testable import Tune
@testable import TuneEngine
@testable import TuneReport
@testable import TuneRun
import TuneData
import TuneTensor
import TuneTraining

import TestSupport
import TuneRandom

@Suite("The demo")
struct DemoTests {
    @Test func theRecipeLearnsTheDemoData() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("classes.csv").path
        try Demo.writeData(to: data, seed: 42)
        let recipe = RecipeRun(
            settings: Demo.settings(data: data, out: dir.appendingPathComponent("search").path, seed: 42, epochs: 20))
        recipe.members = 2
        let s = try recipe.run()
        // Three classes, 10% of labels random: chance is 1/3 and the best possible about 0.93.
        #expect(s.sanity.baseline["accuracy"]! < 0.4)
        #expect((s.test["accuracy"] ?? 0) > 0.7)
        #expect(s.stages.count == 6)
        for file in [
            "history.csv", "history.json", "metrics.json", "command.txt", "model/model.json", "model/model.safetensors"
        ] {
            #expect(
                FileManager.default.fileExists(atPath: dir.appendingPathComponent("search/best/\(file)").path),
                "\(file)")
        }
        #expect(Demo.command(recipe.settings).hasPrefix("tune search --data "))
    }

    @Test func spiralsDataIsBalancedAndBounded() {
        var rng = PhiloxRandom(seed: 1)
        let (x, y) = Synthetic.twoSpirals(pointsPerClass: 50, noise: 0, using: &rng)
        #expect(x.shape == [100, 2])
        #expect(y.filter { $0 == 1 }.count == 50)
        // Without noise the radius is t / 3.75 with t in [0.25, 3.75): inside the unit disc.
        let radii = (0..<100).map { (x[$0, 0] * x[$0, 0] + x[$0, 1] * x[$0, 1]).squareRoot() }
        #expect(radii.allSatisfy { $0 > 0.06 && $0 < 1.0001 })
        // The two classes are point reflections of each other.
        #expect(abs(x[0, 0] + x[50, 0]) < 1e-5 && abs(x[0, 1] + x[50, 1]) < 1e-5)
    }
}

@Suite("Terminal charts")
struct LossChartTests {
    @Test func trainingBarsValidationDotsAndTheMarkedEpoch() {
        let chart = LossChart.render(train: [1, 0.5, 0], validation: [1, 0.5, 0.5], marked: 2, height: 3)
        let lines = chart.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // Rows from the top: 1.0, 0.5, 0.0 (three levels over the range 0...1).
        #expect(lines[0] == "1 │•  ")
        #expect(lines[1] == "  │█••")
        #expect(lines[2] == "0 │██▀")
        #expect(lines[3] == "  └───")
        #expect(lines[4].hasPrefix("    ^ "), "under column 2: label, space, axis, then one column")
    }
}
