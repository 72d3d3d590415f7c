import Testing
import TuneData
import TuneNN
import TuneTensor
import TuneRandom

/// A network built from the MLP specification learns the generated problems.
@Suite("MLPs learn two moons and two spirals")
struct TrainingTests {
    /// Trains with Adam and mini-batches of 32, then returns the accuracy on freshly generated test data.
    func accuracy(
        _ spec: MLPSpecification, train: (x: Tensor, y: [Int]), test: (x: Tensor, y: [Int]), epochs: Int,
        learningRate: Float
    ) -> Float {
        let model = MLP(spec, seed: 11)
        let optimizer = Optimizer(for: model, rule: Adam(), learningRate: learningRate)
        var rng = PhiloxRandom(seed: 12)
        let n = train.y.count
        for _ in 0..<epochs {
            let order = (0..<n).shuffled(using: &rng)
            for start in stride(from: 0, to: n - 1, by: 32) {
                let rows = Array(order[start..<min(start + 32, n)])
                guard rows.count > 1 else { continue }
                let x = train.x.gathering(rows: rows), y = rows.map { train.y[$0] }
                let (_, grads) = model.valueAndGradients { crossEntropy(model(x), labels: y) }
                optimizer.step(grads)
            }
        }
        model.eval()
        let predicted = model(test.x).argmax(axis: 1).scalars
        return Float(zip(predicted, test.y).filter { Int($0) == $1 }.count) / Float(test.y.count)
    }

    /// Two moons, 600 points to train on and 400 new ones to test on.
    func moonsAccuracy(_ spec: MLPSpecification, dataSeed: UInt64) -> Float {
        var rng = PhiloxRandom(seed: dataSeed)
        let train = Synthetic.twoMoons(count: 600, noise: 0.1, using: &rng)
        let test = Synthetic.twoMoons(count: 400, noise: 0.1, using: &rng)
        return accuracy(spec, train: train, test: test, epochs: 30, learningRate: 0.01)
    }

    @Test func twoMoons() {
        let acc = moonsAccuracy(
            MLPSpecification(inputSize: 2, hiddenSizes: [32, 32], outputSize: 2, activation: .relu), dataSeed: 1)
        #expect(acc >= 0.97, "accuracy \(acc)")
    }

    @Test func twoMoonsWithBatchNormAndDropout() {
        let spec = MLPSpecification(
            inputSize: 2, hiddenSizes: [32, 32], outputSize: 2, activation: .relu, dropout: 0.1,
            batchNorm: .beforeActivation)
        let acc = moonsAccuracy(spec, dataSeed: 4)
        #expect(acc >= 0.97, "accuracy \(acc)")
    }

    @Test func twoSpiralsWithSwish() {
        var rng = PhiloxRandom(seed: 2)
        let train = Synthetic.twoSpirals(pointsPerClass: 500, noise: 0.02, using: &rng)
        let test = Synthetic.twoSpirals(pointsPerClass: 200, noise: 0.02, using: &rng)
        let spec = MLPSpecification(inputSize: 2, hiddenSizes: [64, 64], outputSize: 2, activation: .swish)
        let acc = accuracy(spec, train: train, test: test, epochs: 40, learningRate: 0.01)
        #expect(acc >= 0.97, "accuracy \(acc)")
    }
}

@Suite("Synthetic data")
struct SyntheticTests {
    @Test func moonsLieOnTheirHalfCircles() {
        var rng = PhiloxRandom(seed: 3)
        let (x, y) = Synthetic.twoMoons(count: 10, noise: 0, using: &rng)
        #expect(y == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        for i in 0..<5 { #expect(abs(x[i, 0] * x[i, 0] + x[i, 1] * x[i, 1] - 1) < 1e-5) }
        for i in 5..<10 { #expect(abs((x[i, 0] - 1) * (x[i, 0] - 1) + (x[i, 1] - 0.5) * (x[i, 1] - 0.5) - 1) < 1e-5) }
        // The first point of each moon, by hand: (1, 0) and (0, 0.5).
        #expect(x[0, 0] == 1 && abs(x[0, 1]) < 1e-7)
        #expect(abs(x[5, 0]) < 1e-7 && x[5, 1] == 0.5)
    }
}
