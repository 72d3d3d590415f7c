import CTuneKernels
import Foundation

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
/// max(x, 0), element-wise; its gradient at 0 is 0.
public func relu(_ x: Tensor) -> Tensor {
    var out = x.applying(tune_relu)
    Tensor.recordUnary(&out, x) { g in Tensor.combining(g, x, tune_relu_backward) }
    return out
}

/// 1 / (1 + e^-x), element-wise.
public func sigmoid(_ x: Tensor) -> Tensor {
    var out = x.applying(tune_sigmoid)
    let y = out
    Tensor.recordUnary(&out, x) { g in Tensor.combining(g, y, tune_sigmoid_backward) }
    return out
}

/// The hyperbolic tangent, element-wise.
public func tanh(_ x: Tensor) -> Tensor {
    var out = x.applying(tune_tanh)
    let y = out
    Tensor.recordUnary(&out, x) { g in Tensor.combining(g, y, tune_tanh_backward) }
    return out
}

/// Swish (also called SiLU): x * sigmoid(x), element-wise.
public func swish(_ x: Tensor) -> Tensor {
    var out = x.applying(tune_swish)
    Tensor.recordUnary(&out, x) { g in g * x.applying(tune_swish_derivative) }
    return out
}

/// log(1 + e^x), element-wise, computed stably for large |x|.
public func softplus(_ x: Tensor) -> Tensor {
    var out = x.applying(tune_softplus)
    Tensor.recordUnary(&out, x) { g in g * x.applying(tune_sigmoid) }
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
        var out = x.applying(tune_gelu_tanh)
        Tensor.recordUnary(&out, x) { g in g * x.applying(tune_gelu_tanh_derivative) }
        return out
    }
}

/// x where it is finite, 0 where it is infinite or NaN.
enum FiniteOrZeroK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { x.replacing(with: 0, where: .!(vabs(x) .< .infinity)) }
    @inline(__always) static func apply(_ x: Float) -> Float { x.isFinite ? x : 0 }
}

/// `x` minus its (constant) maximum along `axis`, the shift that keeps exponentials in range. A row whose maximum is
/// infinite is not shifted, so that -inf rows stay -inf instead of becoming NaN.
private func shiftedByMaximum(_ x: Tensor, axis: Int) -> (shifted: Tensor, shift: Tensor) {
    let shift = x.detached().max(axis: axis, keepingDimension: true).mapping(FiniteOrZeroK.self)
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
