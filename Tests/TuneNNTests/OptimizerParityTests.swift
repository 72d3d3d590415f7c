import Testing
import TuneNN
import TuneTensor

@Suite("Optimizers match PyTorch")
struct OptimizerParityTests {
    static let fixture = Fixture.load("optimizers.json")

    /// The fixtures' objective, sum(c * (p - t)^2) + 0.1 * sum(p^4), and its gradient through the tape.
    func gradient(at p: Tensor) -> Tensor {
        let c = Tensor(Self.fixture["coefficients"].floats), t = Tensor(Self.fixture["target"].floats)
        return valueAndGradient(at: p) { p in (c * (p - t).squared()).sum() + pow(p, 4).sum() * 0.1 }.gradient
    }

    func run<R: OptimizerRule>(_ rule: R, _ c: JSONValue, parameter: Parameter) -> (points: [Tensor], norms: [Float]) {
        var clipping: GradientClipping?
        if let n = c.optional("clip_norm") { clipping = .norm(n.float) }
        if let v = c.optional("clip_value") { clipping = .value(v.float) }
        let optimizer = Optimizer(
            [parameter], rule: rule, schedule: .constant(c["options"]["lr"].double), clipping: clipping)
        var points: [Tensor] = [], norms: [Float] = []
        let steps = c["name"].string == "adam_long" ? 200 : 10
        for _ in 0..<steps {
            optimizer.step([gradient(at: parameter.value)])
            points.append(parameter.value)
            norms.append(optimizer.lastGradientNorm)
        }
        return (points, norms)
    }

    @Test(arguments: fixture["cases"].array.map { $0["name"].string })
    func trajectory(_ name: String) {
        let c = Self.fixture["cases"].array.first { $0["name"].string == name }!
        let o = c["options"]
        let parameter = Parameter(wrappedValue: Tensor(Self.fixture["start"].floats))
        let wd = o.optional("weight_decay")?.float ?? 0
        let result: (points: [Tensor], norms: [Float])
        switch o["rule"].string {
        case "sgd":
            result = run(
                SGD(
                    momentum: o.optional("momentum")?.float ?? 0, dampening: o.optional("dampening")?.float ?? 0,
                    nesterov: o.optional("nesterov")?.bool ?? false, weightDecay: wd), c, parameter: parameter)
        case "adam":
            result = run(
                Adam(
                    beta1: o.optional("beta1")?.float ?? 0.9, beta2: o.optional("beta2")?.float ?? 0.999,
                    weightDecay: wd,
                    amsgrad: o.optional("amsgrad")?.bool ?? false), c, parameter: parameter)
        case "adamw":
            result = run(
                Adam.adamW(weightDecay: wd, amsgrad: o.optional("amsgrad")?.bool ?? false), c, parameter: parameter)
        case "rmsprop":
            result = run(
                RMSprop(
                    weightDecay: wd, momentum: o.optional("momentum")?.float ?? 0,
                    centered: o.optional("centered")?.bool ?? false),
                c, parameter: parameter)
        case "adagrad":
            result = run(
                Adagrad(
                    learningRateDecay: o.optional("lr_decay")?.float ?? 0, weightDecay: wd,
                    initialAccumulatorValue: o.optional("initial_accumulator_value")?.float ?? 0), c,
                parameter: parameter)
        default:
            fatalError("no rule \(o["rule"].string)")
        }
        let expected = c["trajectory"].array.map(\.tensor)
        let expectedNorms = c["grad_norms"].floats
        if name == "adam_long" {
            expectClose(result.points.last!, expected[0], tolerance: 1e-4, "\(name) after 200 steps")
            return
        }
        for (k, (point, want)) in zip(result.points, expected).enumerated() {
            expectClose(point, want, "\(name) step \(k + 1)")
        }
        expectClose(Tensor(result.norms), Tensor(expectedNorms), "\(name) gradient norms")
    }
}
