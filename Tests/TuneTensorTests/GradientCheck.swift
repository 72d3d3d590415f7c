import TuneTensor
import TuneRandom

/// The largest disagreement between the tape's gradient and central finite differences for `f` at `inputs`.
///
/// The scalar checked is `sum(f(x) * w)` with fixed random weights `w`, so that every output element carries a
/// different seed. Finite differences are taken one element at a time with step `h` and the scalar accumulated in
/// double precision; an element whose analytic and numeric derivative differ by more than
/// `absolute + relative * |numeric|` is reported.
struct GradientCheckResult: CustomStringConvertible {
    var worst: Float = 0
    var failures: [String] = []
    var checked = 0
    var description: String {
        "checked \(checked) derivatives, worst error \(worst); " + failures.prefix(5).joined(separator: "; ")
    }
}

func gradientCheck(
    _ inputs: [Tensor], h: Float = 2e-3, absolute: Float = 2e-3, relative: Float = 1e-2, seed: UInt64 = 7,
    _ f: ([Tensor]) -> Tensor
) -> GradientCheckResult {
    let probe = withoutGradient { f(inputs) }
    var rng = PhiloxRandom(seed: seed)
    let weights = Tensor.uniform(probe.shape, low: 0.5, high: 1.5, using: &rng)
    let w = weights.scalars
    func scalar(_ xs: [Tensor]) -> Double {
        let y = withoutGradient { f(xs) }.scalars
        var s = 0.0
        for (a, b) in zip(y, w) { s += Double(a) * Double(b) }
        return s
    }
    let (_, analytic) = valueAndGradient(at: inputs) { xs in (f(xs) * weights).sum() }
    var result = GradientCheckResult()
    for (index, x) in inputs.enumerated() {
        precondition(
            analytic[index].shape == x.shape,
            "gradient shape \(analytic[index].shape) differs from input shape \(x.shape)")
        let grad = analytic[index].scalars
        for e in 0..<x.count {
            var plus = inputs, minus = inputs
            plus[index].withUnsafeMutableBufferPointer { $0[e] += h }
            minus[index].withUnsafeMutableBufferPointer { $0[e] -= h }
            let actualStep = Double(plus[index].scalars[e]) - Double(minus[index].scalars[e])
            let numeric = Float((scalar(plus) - scalar(minus)) / actualStep)
            let error = abs(numeric - grad[e])
            result.checked += 1
            result.worst = max(result.worst, error)
            if !(error <= absolute + relative * abs(numeric)) {
                result.failures.append("input \(index) element \(e): tape \(grad[e]), finite difference \(numeric)")
            }
        }
    }
    return result
}

/// Values in [-2, -0.2] ∪ [0.2, 2]: away from the kinks of relu, abs and friends.
func awayFromZero(_ shape: Shape, seed: UInt64) -> Tensor {
    var rng = PhiloxRandom(seed: seed)
    let u = Tensor.uniform(shape, low: 0.2, high: 2, using: &rng)
    let s = Tensor.uniform(shape, low: 0, high: 1, using: &rng).scalars.map { $0 < 0.5 ? Float(-1) : 1 }
    return u * Tensor(shape: shape, scalars: s)
}

func uniform(_ shape: Shape, _ low: Float, _ high: Float, seed: UInt64) -> Tensor {
    var rng = PhiloxRandom(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, using: &rng)
}
