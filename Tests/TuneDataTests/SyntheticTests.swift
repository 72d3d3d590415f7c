import Testing
import TuneTensor
@testable import TuneData
import TuneRandom

@Suite("Synthetic data sets")
struct SyntheticGeneratorTests {
    @Test func checkerboardLabelsAlternateBetweenNeighbouringCells() {
        var rng = PhiloxRandom(seed: 1)
        let (x, y) = Synthetic.checkerboard(count: 2000, cells: 4, using: &rng)
        for r in 0..<2000 {
            let i = Int((x[r, 0] + 1) / 2 * 4), j = Int((x[r, 1] + 1) / 2 * 4)
            #expect(y[r] == (min(i, 3) + min(j, 3)) % 2)
        }
        #expect(abs(y.filter { $0 == 1 }.count - 1000) < 100)
    }

    @Test func classificationHasItsShapeProportionsAndRedundancy() {
        var rng = PhiloxRandom(seed: 2)
        let (x, y) = Synthetic.classification(
            count: 1000, classes: 3, informative: 3, redundant: 2, noise: 1,
            weights: [0.6, 0.3, 0.1], labelNoise: 0, using: &rng)
        #expect(x.shape == [1000, 6])
        #expect([0, 1, 2].map { c in y.filter { $0 == c }.count } == [600, 300, 100])
        // Informative features separate the classes: class means differ by about 2 * separation somewhere.
        func mean(_ c: Int, _ f: Int) -> Float {
            let rows = (0..<1000).filter { y[$0] == c }
            return rows.map { x[$0, f] }.reduce(0, +) / Float(rows.count)
        }
        #expect((0..<3).contains { abs(mean(0, $0) - mean(1, $0)) > 1.5 })
        let noisy = Synthetic.classification(count: 2000, labelNoise: 0.5, using: &rng).y
        #expect(abs(noisy.filter { $0 == 0 }.count - 1000) < 150)
    }

    @Test func regressionWithoutNoiseIsExactlyLinear() {
        var rng = PhiloxRandom(seed: 3)
        let (x, y) = Synthetic.regression(count: 50, features: 3, informative: 2, noise: 0, using: &rng)
        // With two informative features, the third carries no weight: rows that differ only there... check via
        // differences: y is affine, so y(a) - y(b) is the weights applied to x(a) - x(b); solve with three pairs.
        func row(_ r: Int) -> [Double] { (0..<3).map { Double(x[r, $0]) } }
        let d1 = zip(row(1), row(0)).map { $0 - $1 }, d2 = zip(row(2), row(0)).map { $0 - $1 }
        let e1 = Double(y[1] - y[0]), e2 = Double(y[2] - y[0])
        // Solve for the two informative weights from the first two coordinates (the third weight is 0).
        let det = d1[0] * d2[1] - d1[1] * d2[0]
        let w0 = (e1 * d2[1] - e2 * d1[1]) / det, w1 = (d1[0] * e2 - d2[0] * e1) / det
        for r in 3..<50 {
            let predicted = Double(y[0]) + w0 * (row(r)[0] - row(0)[0]) + w1 * (row(r)[1] - row(0)[1])
            #expect(abs(predicted - Double(y[r])) < 1e-3)
        }
    }

    @Test func csvTextRoundTripsThroughTheReader() throws {
        var rng = PhiloxRandom(seed: 4)
        let (x, y) = Synthetic.twoMoons(count: 20, noise: 0.1, using: &rng)
        let table = try parse(Synthetic.csv(x: x, targets: y.map(String.init)))
        #expect(table.header == ["x0", "x1", "label"])
        #expect(table.numbers[0] == (0..<20).map { x[$0, 0] })
        #expect(table.numbers[2].map { Int($0) } == y)
    }
}
