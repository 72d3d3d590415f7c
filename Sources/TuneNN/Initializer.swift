import Foundation
import TuneTensor
import TuneRandom

/// Which fan a variance-scaling initialiser divides by.
public enum FanMode: String, Codable, Sendable {
    case fanIn, fanOut
}

/// The non-linearity that follows a layer, for the gain of variance-scaling initialisers (PyTorch's
/// `calculate_gain`).
public enum Nonlinearity: Codable, Sendable, Equatable {
    case linear, sigmoid, tanh, relu, selu
    case leakyRelu(negativeSlope: Float)

    /// linear and sigmoid 1, tanh 5/3, relu sqrt(2), leaky relu sqrt(2 / (1 + slope^2)), selu 3/4.
    public var gain: Float {
        switch self {
        case .linear, .sigmoid: return 1
        case .tanh: return 5.0 / 3
        case .relu: return Float(2).squareRoot()
        case .selu: return 0.75
        case .leakyRelu(let a): return (2 / (1 + a * a)).squareRoot()
        }
    }
}

/// How a weight tensor gets its first values. Seeded: the same generator state gives the same tensor.
///
/// Fans follow PyTorch: for a weight of shape `[out, in]` the fan-in is `in` and the fan-out `out`; for a vector both
/// are its length.
public enum Initializer: Codable, Sendable, Equatable {
    case zeros
    case constant(Float)
    case uniform(low: Float, high: Float)
    case normal(mean: Float, standardDeviation: Float)
    /// He et al.: U(-b, b) with b = gain * sqrt(3 / fan).
    case kaimingUniform(mode: FanMode, nonlinearity: Nonlinearity)
    /// He et al.: N(0, (gain / sqrt(fan))^2).
    case kaimingNormal(mode: FanMode, nonlinearity: Nonlinearity)
    /// Glorot and Bengio: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
    case xavierUniform(gain: Float)
    /// Glorot and Bengio: N(0, gain^2 * 2 / (fan_in + fan_out)).
    case xavierNormal(gain: Float)
    /// LeCun: U(-b, b) with b = sqrt(3 / fan_in).
    case lecunUniform
    /// LeCun: N(0, 1 / fan_in).
    case lecunNormal

    /// PyTorch's `nn.Linear` weight default: `kaiming_uniform_(a=sqrt(5))`, that is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    public static let pytorchLinearDefault = Initializer.kaimingUniform(
        mode: .fanIn, nonlinearity: .leakyRelu(negativeSlope: Float(5).squareRoot()))

    /// Fan-in and fan-out of a tensor of `shape`, PyTorch's way.
    public static func fans(_ shape: Shape) -> (fanIn: Int, fanOut: Int) {
        switch shape.rank {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        default:
            let receptive = shape.dimensions.dropFirst(2).reduce(1, *)
            return (shape[1] * receptive, shape[0] * receptive)
        }
    }

    /// A tensor of `shape` drawn from this initialiser.
    public func make(_ shape: Shape, using rng: inout PhiloxRandom) -> Tensor {
        let (fanIn, fanOut) = Initializer.fans(shape)
        switch self {
        case .zeros:
            return .zeros(shape)
        case .constant(let c):
            return .full(shape, c)
        case .uniform(let low, let high):
            return .uniform(shape, low: low, high: high, using: &rng)
        case .normal(let mean, let sd):
            return .normal(shape, mean: mean, standardDeviation: sd, using: &rng)
        case .kaimingUniform(let mode, let nonlinearity):
            let fan = Float(max(mode == .fanIn ? fanIn : fanOut, 1))
            let bound = nonlinearity.gain * (3 / fan).squareRoot()
            return .uniform(shape, low: -bound, high: bound, using: &rng)
        case .kaimingNormal(let mode, let nonlinearity):
            let fan = Float(max(mode == .fanIn ? fanIn : fanOut, 1))
            return .normal(shape, standardDeviation: nonlinearity.gain / fan.squareRoot(), using: &rng)
        case .xavierUniform(let gain):
            let bound = gain * (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
            return .uniform(shape, low: -bound, high: bound, using: &rng)
        case .xavierNormal(let gain):
            return .normal(
                shape, standardDeviation: gain * (2 / Float(max(fanIn + fanOut, 1))).squareRoot(), using: &rng)
        case .lecunUniform:
            let bound = (3 / Float(max(fanIn, 1))).squareRoot()
            return .uniform(shape, low: -bound, high: bound, using: &rng)
        case .lecunNormal:
            return .normal(shape, standardDeviation: (1 / Float(max(fanIn, 1))).squareRoot(), using: &rng)
        }
    }
}
