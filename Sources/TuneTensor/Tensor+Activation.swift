import Foundation

enum ReluK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { x.replacing(with: 0, where: x .< 0) }
    @inline(__always) static func apply(_ x: Float) -> Float { x < 0 ? 0 : x }
}
enum StepK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { Vec.zero.replacing(with: 1, where: x .> 0) }
    @inline(__always) static func apply(_ x: Float) -> Float { x > 0 ? 1 : 0 }
}
enum SigmoidK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { vsigmoid(x) }
    @inline(__always) static func apply(_ x: Float) -> Float { ssigmoid(x) }
}
enum TanhK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { vtanh(x) }
    @inline(__always) static func apply(_ x: Float) -> Float { stanh(x) }
}
enum SwishK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { x * vsigmoid(x) }
    @inline(__always) static func apply(_ x: Float) -> Float { x * ssigmoid(x) }
}
/// d swish / dx = s (1 + x (1 - s)) with s = sigmoid(x).
enum SwishGradK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { let s = vsigmoid(x); return s * (1 + x * (1 - s)) }
    @inline(__always) static func apply(_ x: Float) -> Float { let s = ssigmoid(x); return s * (1 + x * (1 - s)) }
}
/// softplus(x) = max(x, 0) + log1p(exp(-|x|)), stable for every x.
enum SoftplusK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec {
        let e = vexp(-vabs(x))
        var l = Vec()
        for i in 0..<vecWidth { l[i] = Foundation.log1p(e[i]) }
        return x.replacing(with: 0, where: x .< 0) + l
    }
    @inline(__always) static func apply(_ x: Float) -> Float { Swift.max(x, 0) + Foundation.log1p(sexp(-abs(x))) }
}
/// GELU with the exact normal CDF: x * Phi(x), with Phi through erfc so that the left tail keeps its precision.
enum GeluExactK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec {
        var r = Vec()
        for i in 0..<vecWidth { r[i] = apply(x[i]) }
        return r
    }
    @inline(__always) static func apply(_ x: Float) -> Float { 0.5 * x * Foundation.erfc(-x * 0.70710678118654752) }
}
enum GeluExactGradK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec {
        var r = Vec()
        for i in 0..<vecWidth { r[i] = apply(x[i]) }
        return r
    }
    @inline(__always) static func apply(_ x: Float) -> Float {
        let cdf = 0.5 * Foundation.erfc(-x * 0.70710678118654752)
        let pdf = Foundation.exp(-0.5 * x * x) * 0.39894228040143268
        return cdf + x * pdf
    }
}
/// GELU with the tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
enum GeluTanhK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec {
        let inner: Vec = 0.79788456080286536 * (x + 0.044715 * x * x * x)
        let t = vtanh(inner)
        return 0.5 * x * (1 + t)
    }
    @inline(__always) static func apply(_ x: Float) -> Float { apply(Vec(repeating: x))[0] }
}
enum GeluTanhGradK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec {
        let x2: Vec = x * x
        let inner: Vec = 0.79788456080286536 * (x + 0.044715 * x2 * x)
        let t = vtanh(inner)
        let dInner: Vec = 0.79788456080286536 * (1 + 0.134145 * x2)
        let left: Vec = 0.5 * (1 + t)
        let right: Vec = 0.5 * x * (1 - t * t) * dInner
        return left + right
    }
    @inline(__always) static func apply(_ x: Float) -> Float { apply(Vec(repeating: x))[0] }
}

/// max(x, 0), element-wise; its gradient at 0 is 0.
public func relu(_ x: Tensor) -> Tensor {
    var out = x.mapping(ReluK.self)
    Tensor.recordUnary(&out, x) { g in g * x.mapping(StepK.self) }
    return out
}

/// 1 / (1 + e^-x), element-wise.
public func sigmoid(_ x: Tensor) -> Tensor {
    var out = x.mapping(SigmoidK.self)
    let y = out
    Tensor.recordUnary(&out, x) { g in g * (y * (1 - y)) }
    return out
}

/// The hyperbolic tangent, element-wise.
public func tanh(_ x: Tensor) -> Tensor {
    var out = x.mapping(TanhK.self)
    let y = out
    Tensor.recordUnary(&out, x) { g in g * (1 - y.squared()) }
    return out
}

/// Swish (also called SiLU): x * sigmoid(x), element-wise.
public func swish(_ x: Tensor) -> Tensor {
    var out = x.mapping(SwishK.self)
    Tensor.recordUnary(&out, x) { g in g * x.mapping(SwishGradK.self) }
    return out
}

/// log(1 + e^x), element-wise, computed stably for large |x|.
public func softplus(_ x: Tensor) -> Tensor {
    var out = x.mapping(SoftplusK.self)
    Tensor.recordUnary(&out, x) { g in g * x.mapping(SigmoidK.self) }
    return out
}

/// How GELU computes the normal CDF.
public enum GELUApproximation: String, Sendable, CaseIterable {
    /// The exact CDF through the error function.
    case none
    /// The tanh approximation of Hendrycks and Gimpel.
    case tanh
}

/// GELU: x * Phi(x), exact or with the tanh approximation (PyTorch's `approximate` argument).
public func gelu(_ x: Tensor, approximate: GELUApproximation = .none) -> Tensor {
    switch approximate {
    case .none:
        var out = x.mapping(GeluExactK.self)
        Tensor.recordUnary(&out, x) { g in g * x.mapping(GeluExactGradK.self) }
        return out
    case .tanh:
        var out = x.mapping(GeluTanhK.self)
        Tensor.recordUnary(&out, x) { g in g * x.mapping(GeluTanhGradK.self) }
        return out
    }
}

/// `x` minus its (constant) maximum along `axis`, the shift that keeps exponentials in range. A row whose maximum is
/// infinite is not shifted, so that -inf rows stay -inf instead of becoming NaN.
private func shiftedByMaximum(_ x: Tensor, axis: Int) -> (shifted: Tensor, shift: Tensor) {
    let m = x.detached().max(axis: axis, keepingDimension: true)
    let shift = Tensor.select(m.mapping(AbsK.self) .< Float.infinity, m, Tensor(0))
    return (x - shift, shift)
}

/// log(sum(exp(x))) along `axis`, computed stably by subtracting the (constant) maximum first.
public func logSumExp(_ x: Tensor, axis: Int = -1, keepingDimension: Bool = false) -> Tensor {
    let (shifted, shift) = shiftedByMaximum(x, axis: axis)
    let lse = log(exp(shifted).sum(axis: axis, keepingDimension: true)) + shift
    return keepingDimension ? lse : lse.reshaped(x.shape.removing(axis: x.shape.axis(axis), keepingDimension: false))
}

/// log(softmax(x)) along `axis`, computed stably: (x - max) - log(sum(exp(x - max))).
public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let (shifted, _) = shiftedByMaximum(x, axis: axis)
    return shifted - log(exp(shifted).sum(axis: axis, keepingDimension: true))
}

/// e^x normalised to sum to 1 along `axis`, computed as exp(x - max) / sum(exp(x - max)).
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let e = exp(shiftedByMaximum(x, axis: axis).shifted)
    return e / e.sum(axis: axis, keepingDimension: true)
}
