import Testing
@testable import TuneNN
import TuneTensor
import TuneRandom

@Suite("Layers match PyTorch")
struct LayerParityTests {
    static let fixture = Fixture.load("layers.json")

    /// The swift-tune layer for a fixture case, with the fixture's parameters loaded, and those parameters by name.
    func layer(for name: String, parameters: [String: Tensor]) -> (any UnaryLayer, [String: Parameter]) {
        var rng = PhiloxRandom(seed: 0)
        switch name {
        case "dense", "dense_no_bias":
            let w = parameters["weight"]!
            let dense = Dense(w.shape[1], w.shape[0], bias: parameters["bias"] != nil, using: &rng)
            dense.weight = w
            if let b = parameters["bias"] { dense.bias!.value = b }
            return (dense, Dictionary(uniqueKeysWithValues: dense.namedParameters().map { ($0.name, $0.parameter) }))
        case "relu": return (ReLU(), [:])
        case "leaky_relu": return (LeakyReLU(), [:])
        case "leaky_relu_0.2": return (LeakyReLU(negativeSlope: 0.2), [:])
        case "elu": return (ELU(), [:])
        case "elu_0.5": return (ELU(alpha: 0.5), [:])
        case "gelu": return (GELU(), [:])
        case "gelu_tanh": return (GELU(approximate: .tanh), [:])
        case "silu": return (SiLU(), [:])
        case "mish": return (Mish(), [:])
        case "tanh": return (Tanh(), [:])
        case "sigmoid": return (Sigmoid(), [:])
        case "softplus": return (Softplus(), [:])
        case "softplus_beta2_threshold3": return (Softplus(beta: 2, threshold: 3), [:])
        case "swish_learnable_beta":
            let swish = Swish(learnableBeta: true)
            swish.beta!.value = parameters["beta"]!
            return (swish, ["beta": swish.beta!])
        case "layer_norm":
            let norm = LayerNorm(parameters["weight"]!.count)
            norm.weight!.value = parameters["weight"]!
            norm.bias!.value = parameters["bias"]!
            return (norm, ["weight": norm.weight!, "bias": norm.bias!])
        case "batch_norm_train":
            let norm = BatchNorm(parameters["weight"]!.count)
            norm.weight!.value = parameters["weight"]!
            norm.bias!.value = parameters["bias"]!
            return (norm, ["weight": norm.weight!, "bias": norm.bias!])
        default:
            fatalError("no layer for fixture case \(name)")
        }
    }

    @Test(arguments: fixture["cases"].array.map { $0["name"].string })
    func forwardAndGradients(_ name: String) {
        let c = Self.fixture["cases"].array.first { $0["name"].string == name }!
        let fixtureParameters = c["parameters"].object.mapValues(\.tensor)
        let (layer, parameters) = layer(for: name, parameters: fixtureParameters)
        let names = parameters.keys.sorted()
        let tape = GradientTape()
        let (output, grads) = tape.record {
            let x = tape.watch(c["input"].tensor)
            for n in names { parameters[n]!.value = tape.watch(parameters[n]!.value) }
            let out = layer(x)
            let loss = (out * c["seed"].tensor).sum()
            let grads = tape.gradient(of: loss, withRespectTo: [x] + names.map { parameters[$0]!.value })
            return (out.detached(), grads)
        }
        expectClose(output, c["output"].tensor, "\(name) output")
        expectClose(grads[0], c["input_grad"].tensor, "\(name) input gradient")
        for (i, n) in names.enumerated() {
            expectClose(grads[i + 1], c["parameter_grads"][n].tensor, "\(name) gradient of \(n)")
        }
    }

    @Test func batchNormRunningStatisticsAfterThreeSteps() {
        let f = Self.fixture["batch_norm_statistics"]
        let norm = BatchNorm(3)
        norm.weight!.value = f["weight"].tensor
        norm.bias!.value = f["bias"].tensor
        for (input, expected) in zip(f["inputs"].array, f["train_outputs"].array) {
            expectClose(norm(input.tensor), expected.tensor, "BatchNorm training output")
        }
        expectClose(norm.runningMean, f["running_mean"].tensor, "running mean")
        expectClose(norm.runningVar, f["running_var"].tensor, "running variance (unbiased)")
        norm.eval()
        expectClose(norm(f["eval_input"].tensor), f["eval_output"].tensor, "BatchNorm evaluation output")
    }
}
