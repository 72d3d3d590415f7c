import TuneTensor

// Activation functions beyond TuneTensor's primitives (relu, sigmoid, tanh, swish, softplus, gelu), composed from
// them, and a layer for each activation.

/// max(x, 0) + slope * min(x, 0), PyTorch's LeakyReLU (default slope 0.01).
public func leakyRelu(_ x: Tensor, negativeSlope: Float = 0.01) -> Tensor {
    // At x = 0 the gradient is the slope, as in PyTorch.
    Tensor.select(x .> 0, x, x * negativeSlope)
}

/// x for x > 0, alpha * (exp(x) - 1) otherwise (PyTorch's ELU, default alpha 1).
public func elu(_ x: Tensor, alpha: Float = 1) -> Tensor {
    // The negative branch sees 0 where x > 0, so that its (masked) gradient is never 0 * inf; at x = 0 the gradient
    // is alpha, as in PyTorch.
    let positive = x .> 0
    let negative = (exp(Tensor.select(positive, Tensor(0), x)) - 1) * alpha
    return Tensor.select(positive, x, negative)
}

/// x * tanh(softplus(x)) (Misra, 2019).
public func mish(_ x: Tensor) -> Tensor {
    x * tanh(softplus(x))
}

/// x * sigmoid(beta * x); with beta 1 this is Swish/SiLU.
public func swish(_ x: Tensor, beta: Tensor) -> Tensor {
    x * sigmoid(x * beta)
}

/// PyTorch's Softplus: log(1 + exp(beta x)) / beta, and x itself where beta x > threshold.
public func softplus(_ x: Tensor, beta: Float, threshold: Float = 20) -> Tensor {
    let smooth = beta == 1 ? softplus(x) : softplus(x * beta) / beta
    return Tensor.select(x * beta .> threshold, x, smooth)
}

/// An activation function, as data: what an MLP specification names and a checkpoint records.
public enum Activation: String, Codable, Sendable, CaseIterable {
    case relu, leakyRelu, elu, gelu, geluTanh, swish, mish, tanh, sigmoid, softplus

    /// The layer that applies this activation (Swish with a fixed beta of 1).
    public func layer() -> any UnaryLayer {
        switch self {
        case .relu: return ReLU()
        case .leakyRelu: return LeakyReLU()
        case .elu: return ELU()
        case .gelu: return GELU()
        case .geluTanh: return GELU(approximate: .tanh)
        case .swish: return Swish()
        case .mish: return Mish()
        case .tanh: return Tanh()
        case .sigmoid: return Sigmoid()
        case .softplus: return Softplus()
        }
    }

    /// The gain of the variance-scaling initialisers for this activation.
    public var nonlinearity: Nonlinearity {
        switch self {
        case .relu, .gelu, .geluTanh, .swish, .mish, .elu, .softplus: return .relu
        case .leakyRelu: return .leakyRelu(negativeSlope: 0.01)
        case .tanh: return .tanh
        case .sigmoid: return .sigmoid
        }
    }
}

public final class ReLU: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { relu(x) }
}

public final class LeakyReLU: Module, UnaryLayer {
    public let negativeSlope: Float
    public init(negativeSlope: Float = 0.01) { self.negativeSlope = negativeSlope }
    public func callAsFunction(_ x: Tensor) -> Tensor { leakyRelu(x, negativeSlope: negativeSlope) }
}

public final class ELU: Module, UnaryLayer {
    public let alpha: Float
    public init(alpha: Float = 1) { self.alpha = alpha }
    public func callAsFunction(_ x: Tensor) -> Tensor { elu(x, alpha: alpha) }
}

public final class GELU: Module, UnaryLayer {
    public let approximate: GELUApproximation
    public init(approximate: GELUApproximation = .none) { self.approximate = approximate }
    public func callAsFunction(_ x: Tensor) -> Tensor { gelu(x, approximate: approximate) }
}

/// Swish (SiLU): x * sigmoid(beta * x), with beta fixed at 1 or learnt (a one-element parameter starting at 1).
public final class Swish: Module, UnaryLayer {
    /// The learnable beta; nil when beta is fixed at 1.
    public let beta: Parameter?

    public init(learnableBeta: Bool = false) {
        beta = learnableBeta ? Parameter(wrappedValue: Tensor.ones([1])) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        beta.map { swish(x, beta: $0.value) } ?? swish(x)
    }
}

/// SiLU is Swish with beta 1 (PyTorch's name for it).
public typealias SiLU = Swish

public final class Mish: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { mish(x) }
}

public final class Tanh: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { tanh(x) }
}

public final class Sigmoid: Module, UnaryLayer {
    public override init() {}
    public func callAsFunction(_ x: Tensor) -> Tensor { sigmoid(x) }
}

public final class Softplus: Module, UnaryLayer {
    public let beta: Float
    public let threshold: Float
    public init(beta: Float = 1, threshold: Float = 20) {
        self.beta = beta
        self.threshold = threshold
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { softplus(x, beta: beta, threshold: threshold) }
}
