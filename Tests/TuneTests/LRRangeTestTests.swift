import Foundation
import Testing
@testable import Tune
@testable import TuneEngine
@testable import TuneReport
@testable import TuneRun
import TuneData
import TuneNN
import TuneTensor
import TuneTraining
import TuneRandom

@Suite("The learning-rate range test")
struct LRRangeTestTests {
    func moons() -> LabeledData {
        var rng = PhiloxRandom(seed: 1)
        let (x, y) = Synthetic.twoMoons(count: 1000, noise: 0.2, using: &rng)
        return LabeledData(x: x, classes: y)
    }

    @Test func theSweepRisesExponentiallyStopsAtDivergenceAndSuggestsARate() {
        var test = LRRangeTest()
        test.seeds = [0, 1]
        var c = TrainingConfiguration()
        c.batchSize = .fixed(32)
        let result = test.run(
            specification: MLPSpecification(inputSize: 2, hiddenSizes: [32, 32], outputSize: 1), train: moons(),
            target: Preprocessor.Target(name: "y", task: .binary, classes: ["0", "1"]), configuration: c)
        #expect(result.sweeps.count == 2)
        for sweep in result.sweeps {
            // 1000 rows in batches of 32: 32 steps an epoch, so the sweep takes the minimum of 100 steps.
            #expect(sweep.rates.count <= 100 && sweep.rates.count > 20)
            #expect(abs(sweep.rates[0] - 1e-7) < 1e-12)
            let ratio = sweep.rates[1] / sweep.rates[0]
            #expect(abs(ratio - pow(1e8, 1.0 / 99)) < 1e-3 * ratio, "exponential growth to 10 over 100 steps")
            #expect(sweep.smoothed.last! > sweep.smoothed.min()!, "the loss turned up before the end")
        }
        let s = result.suggestion ?? 0
        #expect(s > 1e-5 && s < 1, "suggestion \(s)")
        #expect((result.spread ?? 0) >= 1)
        let csv = result.csv().split(separator: "\n")
        #expect(csv[0] == "seed,step,lr,loss,smoothed_loss")
        #expect(csv.count == 1 + result.sweeps.map(\.rates.count).reduce(0, +))
        let again = test.run(
            specification: MLPSpecification(inputSize: 2, hiddenSizes: [32, 32], outputSize: 1), train: moons(),
            target: Preprocessor.Target(name: "y", task: .binary, classes: ["0", "1"]), configuration: c)
        #expect(again.suggestion == result.suggestion, "the same seeds give the same sweep")
    }

    @Test func theMedianSuggestionIgnoresOneSweepThatWentWrong() {
        func sweeps(_ suggestions: [Double?]) -> LRRangeTest.Result {
            LRRangeTest.Result(
                sweeps: suggestions.enumerated().map { i, s in
                    var sweep = LRRangeTest.Sweep(seed: UInt64(i))
                    sweep.suggestion = s
                    return sweep
                }, suggestion: nil, spread: nil)
        }
        #expect(sweeps([1e-3, 1e-2, 1e-9]).median == 1e-3)
        #expect(abs(sweeps([1e-4, 1e-2]).median! / 1e-3 - 1) < 1e-12, "two: the geometric mean of both")
        #expect(sweeps([nil, 5e-3, nil]).median == 5e-3)
        #expect(sweeps([nil]).median == nil)
    }
}
