import Testing
@testable import Tune
import TuneData
import TuneTensor

@Suite("The demo")
struct DemoTests {
    func shortRun(seed: UInt64, epochs: Int = 4, pointsPerClass: Int = 100) -> [DemoEpoch] {
        var config = DemoConfiguration()
        config.seed = seed
        config.epochs = epochs
        config.pointsPerClass = pointsPerClass
        return runDemo(config) { _ in }
    }

    @Test func theLossFallsAndTheSpiralsAreLearnt() {
        let history = shortRun(seed: 42, epochs: 30, pointsPerClass: DemoConfiguration().pointsPerClass)
        #expect(history.count == 30)
        let first = history.first!.trainLoss, last = history.last!.trainLoss
        // Chance level for two balanced classes is ln 2 = 0.693; the network must get well below it.
        #expect(abs(first - 0.693) < 0.1, "the first epoch starts near chance: \(first)")
        #expect(last < 0.5 * first, "loss fell from \(first) to \(last)")
        #expect(history.last!.validationAccuracy > 0.8)
    }

    @Test func sameSeedSameRunBitForBit() {
        let a = shortRun(seed: 7), b = shortRun(seed: 7), c = shortRun(seed: 8)
        #expect(a.map(\.trainLoss.bitPattern) == b.map(\.trainLoss.bitPattern))
        #expect(a.map(\.validationLoss.bitPattern) == b.map(\.validationLoss.bitPattern))
        #expect(a.map(\.trainLoss) != c.map(\.trainLoss))
    }

    @Test func twoSpiralsAreBalancedAndBounded() {
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
struct SparklineTests {
    @Test func aFallingSeriesByHand() {
        let chart = Sparkline.render([1, 0.5, 0], height: 2)
        // Levels in eighths over 2 rows: 16, 8, 0 -> top row "█  ", bottom row "██ ".
        #expect(chart == "1.0 │█  \n0.0 │██ ")
    }

    @Test func aConstantSeriesSitsInTheMiddle() {
        let chart = Sparkline.render([2, 2], height: 2)
        #expect(chart.split(separator: "\n").count == 2)
        #expect(chart.hasSuffix("██"))
    }
}
