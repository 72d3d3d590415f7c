import Foundation
import Testing
@testable import TuneNN
import TuneTensor
import TuneRandom

@Suite("Modules, parameters and the MLP builder")
struct ModuleTests {
    @Test func parametersAndBuffersAreNamedByPath() {
        let spec = MLPSpecification(
            inputSize: 3, hiddenSizes: [5, 4], outputSize: 2, activation: .swish, dropout: 0.1,
            batchNorm: .beforeActivation)
        let model = MLP(spec, seed: 1)
        // Dense, BatchNorm, Swish, Dropout per hidden block, then the output Dense.
        #expect(
            model.namedParameters().map(\.name) == [
                "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                "layers.4.weight", "layers.4.bias", "layers.5.weight", "layers.5.bias",
                "layers.8.weight", "layers.8.bias"
            ])
        #expect(
            model.namedBuffers().map(\.name) == [
                "layers.1.runningMean", "layers.1.runningVar", "layers.5.runningMean", "layers.5.runningVar"
            ])
        // 3*5+5 + 5+5 + 5*4+4 + 4+4 + 4*2+2, by hand.
        #expect(model.parameterCount == 20 + 10 + 24 + 8 + 10)
        #expect(
            model.layers[0] is Dense && model.layers[1] is BatchNorm && model.layers[2] is Swish
                && model.layers[3] is Dropout)
    }

    @Test func batchNormAfterTheActivationAndALearnableSwishBeta() {
        let spec = MLPSpecification(
            inputSize: 2, hiddenSizes: [3], outputSize: 1, activation: .swish, batchNorm: .afterActivation,
            learnableSwishBeta: true)
        let model = MLP(spec, seed: 1)
        #expect(model.layers[1] is Swish && model.layers[2] is BatchNorm)
        #expect(model.namedParameters().map(\.name).contains("layers.1.beta"))
        #expect(spec.validationError() == nil)
        #expect(
            MLPSpecification(inputSize: 2, hiddenSizes: [3], outputSize: 1, activation: .relu, learnableSwishBeta: true)
                .validationError()?.contains("learnableSwishBeta") == true)
        #expect(
            MLPSpecification(inputSize: 2, hiddenSizes: [0], outputSize: 1).validationError()?.contains("hiddenSizes")
                == true)
        #expect(
            MLPSpecification(inputSize: 2, hiddenSizes: [3], outputSize: 1, dropout: 1).validationError()?.contains(
                "dropout") == true)
    }

    @Test func trainAndEvalReachEverySubModule() {
        let model = MLP(
            MLPSpecification(inputSize: 2, hiddenSizes: [3], outputSize: 1, dropout: 0.5, batchNorm: .beforeActivation),
            seed: 1)
        model.eval()
        #expect(model.layers.allSatisfy { !$0.isTraining })
        model.train()
        #expect(model.layers.allSatisfy { $0.isTraining })
    }

    @Test func sequentialNamesItsLayers() {
        var rng = PhiloxRandom(seed: 2)
        let net = Sequential([Dense(2, 3, using: &rng), ReLU(), Dense(3, 1, bias: false, using: &rng)])
        #expect(net.namedParameters().map(\.name) == ["layers.0.weight", "layers.0.bias", "layers.2.weight"])
        #expect(net(Tensor.ones([4, 2])).shape == [4, 1])
    }

    @Test func gradientsComeBackInParameterOrderAndTheTapeLetsGo() {
        var rng = PhiloxRandom(seed: 3)
        let dense = Dense(2, 1, using: &rng)
        dense.weight = Tensor([[2, -1]])
        dense.bias!.value = Tensor([0.5])
        let x = Tensor([[1, 2], [3, 4]])
        // loss = sum(x W^T + b) -> dW = column sums of x = [4, 6], db = 2.
        let (loss, grads) = dense.valueAndGradients { dense(x).sum() }
        let expectedLoss: Float = 0.5 + 2.5
        #expect(loss.scalar == expectedLoss)
        #expect(grads[0].scalars == [4, 6])
        #expect(grads[1].scalars == [2])
        #expect(!dense.weight.isTracked, "parameters are detached after the step")
    }

    @Test func seedsGiveTheSameNetworkAndDifferentSeedsAnother() {
        let spec = MLPSpecification(inputSize: 4, hiddenSizes: [8], outputSize: 2)
        let a = MLP(spec, seed: 5), b = MLP(spec, seed: 5), c = MLP(spec, seed: 6)
        #expect(a.parameters().map(\.value.scalars) == b.parameters().map(\.value.scalars))
        #expect(a.parameters().map(\.value.scalars) != c.parameters().map(\.value.scalars))
    }
}

@Suite("Initialisers")
struct InitializerTests {
    func moments(_ t: Tensor) -> (mean: Double, sd: Double, min: Float, max: Float) {
        let v = t.scalars.map(Double.init)
        let mean = v.reduce(0, +) / Double(v.count)
        let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count - 1)).squareRoot()
        return (mean, sd, t.scalars.min()!, t.scalars.max()!)
    }

    @Test func denseDefaultIsPyTorchLinears() {
        // kaiming_uniform(a = sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); so does the bias.
        var rng = PhiloxRandom(seed: 9)
        let dense = Dense(400, 300, using: &rng)
        let bound: Float = 1 / 20
        let w = moments(dense.weight)
        #expect(w.min >= -bound && w.max < bound)
        #expect(w.max > bound * 0.99 && w.min < -bound * 0.99)
        // The standard deviation of U(-b, b) is b / sqrt(3).
        #expect(abs(w.sd - Double(bound) / 3.0.squareRoot()) < 0.001)
        #expect(dense.weight.shape == [300, 400])
        let b = moments(dense.bias!.value)
        #expect(b.min >= -bound && b.max < bound)
    }

    @Test func varianceScalingMatchesItsFormulas() {
        var rng = PhiloxRandom(seed: 10)
        let shape: Shape = [200, 500]  // fan_in 500, fan_out 200
        let kn = moments(Initializer.kaimingNormal(mode: .fanIn, nonlinearity: .relu).make(shape, using: &rng))
        #expect(abs(kn.sd - (2.0 / 500).squareRoot()) < 0.002)
        #expect(abs(kn.mean) < 0.002)
        let knOut = moments(Initializer.kaimingNormal(mode: .fanOut, nonlinearity: .relu).make(shape, using: &rng))
        #expect(abs(knOut.sd - (2.0 / 200).squareRoot()) < 0.003)
        let ku = moments(Initializer.kaimingUniform(mode: .fanIn, nonlinearity: .relu).make(shape, using: &rng))
        let kuBound = Float(2).squareRoot() * (3 / Float(500)).squareRoot()
        #expect(ku.max < kuBound && ku.min >= -kuBound && ku.max > kuBound * 0.99)
        let xu = moments(Initializer.xavierUniform(gain: 1).make(shape, using: &rng))
        let xuBound = (6 / Float(700)).squareRoot()
        #expect(xu.max < xuBound && xu.max > xuBound * 0.99)
        let xn = moments(Initializer.xavierNormal(gain: 2).make(shape, using: &rng))
        #expect(abs(xn.sd - 2 * (2.0 / 700).squareRoot()) < 0.003)
        let ln = moments(Initializer.lecunNormal.make(shape, using: &rng))
        #expect(abs(ln.sd - (1.0 / 500).squareRoot()) < 0.002)
        let lu = moments(Initializer.lecunUniform.make(shape, using: &rng))
        #expect(lu.max < (3 / Float(500)).squareRoot())
        #expect(Initializer.constant(0.3).make([2, 2], using: &rng).scalars == [0.3, 0.3, 0.3, 0.3])
        #expect(Initializer.zeros.make([3], using: &rng).scalars == [0, 0, 0])
    }

    @Test func gainsArePyTorchs() {
        #expect(Nonlinearity.relu.gain == Float(2).squareRoot())
        #expect(Nonlinearity.tanh.gain == 5.0 / 3)
        #expect(
            abs(Nonlinearity.leakyRelu(negativeSlope: Float(5).squareRoot()).gain - (1 / Float(3)).squareRoot()) < 1e-7)
        #expect(Initializer.fans([7, 3]) == (3, 7))
        #expect(Initializer.fans([4]) == (4, 4))
    }
}

@Suite("Dropout")
struct DropoutTests {
    @Test func trainingZeroesAboutPAndScalesTheRest() {
        let dropout = Dropout(0.25, seed: 1)
        let y = dropout(Tensor.ones([100, 100])).scalars
        let zeros = y.filter { $0 == 0 }.count
        // 10,000 draws at p = 0.25: mean 2,500, standard deviation 43; 5 of them.
        #expect(abs(zeros - 2500) < 217)
        #expect(y.allSatisfy { $0 == 0 || abs($0 - 4.0 / 3) < 1e-6 })
    }

    @Test func evaluationIsTheIdentityAndTheMaskCarriesTheGradient() {
        let dropout = Dropout(0.5, seed: 2)
        let x = Tensor([[1, 2, 3, 4]])
        let (y, g) = valueAndGradient(at: x) { dropout($0).sum() }
        // Where an element was kept its gradient is 1/(1-p) = 2; where dropped, 0.
        let kept = (0..<4).filter { g.scalars[$0] != 0 }
        #expect(kept.allSatisfy { g.scalars[$0] == 2 })
        #expect(y.scalar == kept.reduce(0) { $0 + 2 * x.scalars[$1] })
        dropout.eval()
        #expect(dropout(x).scalars == x.scalars)
        #expect(Dropout(1)(x).scalars == [0, 0, 0, 0])
    }

    @Test func theSameSeedDropsTheSameElements() {
        let a = Dropout(0.5, seed: 7), b = Dropout(0.5, seed: 7), c = Dropout(0.5, seed: 7, stream: 1)
        let x = Tensor.ones([64])
        #expect(a(x).scalars == b(x).scalars)
        #expect(a(x).scalars != c(x).scalars)
    }
}

@Suite("Reflection edge cases")
struct ReflectionTests {
    final class Holder: Module, UnaryLayer {
        let shared: Dense
        let optionals: [Dense?]
        let named: [String: Dense]
        lazy var late = ReLU()
        init(_ rng: inout PhiloxRandom) {
            shared = Dense(2, 2, using: &rng)
            optionals = [nil, Dense(2, 2, bias: false, using: &rng)]
            named = ["b": Dense(2, 1, bias: false, using: &rng), "a": Dense(2, 1, bias: false, using: &rng)]
        }
        func callAsFunction(_ x: Tensor) -> Tensor { x }
    }

    @Test func sharedLayersCountOnceAndContainersAreSearched() {
        var rng = PhiloxRandom(seed: 1)
        let d = Dense(2, 2, using: &rng)
        let tied = Sequential([d, Tanh(), d])
        #expect(tied.namedParameters().map(\.name) == ["layers.0.weight", "layers.0.bias"])
        #expect(tied.parameterCount == 6)
        let holder = Holder(&rng)
        #expect(
            holder.namedParameters().map(\.name) == [
                "shared.weight", "shared.bias", "optionals.1.weight", "named.a.weight", "named.b.weight"
            ])
        holder.eval()
        #expect(!holder.optionals[1]!.isTraining && !holder.named["a"]!.isTraining)
    }

    @Test func leakyReluAndEluGradientsAtZeroAreTheSlope() {
        let (_, g1) = valueAndGradient(at: Tensor([-1, 0, 1])) { leakyRelu($0, negativeSlope: 0.2).sum() }
        #expect(g1.scalars == [0.2, 0.2, 1])
        let (_, g2) = valueAndGradient(at: Tensor([0, 1])) { elu($0, alpha: 2).sum() }
        #expect(g2.scalars == [2, 1])
    }

    @Test func reduceOnPlateauEncodesBeforeItsFirstMetricAndOneCycleWithoutARise() throws {
        let data = try JSONEncoder().encode(ReduceOnPlateau())
        #expect(try JSONDecoder().decode(ReduceOnPlateau.self, from: data).best == nil)
        let s = LearningRateSchedule.oneCycle(maximum: 0.1, totalSteps: 10, pctStart: 0.1)
        #expect((0..<10).allSatisfy { s($0).isFinite })
        #expect(abs(s(0) - 0.1) < 1e-7)
    }
}
