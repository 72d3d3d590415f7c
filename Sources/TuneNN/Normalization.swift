import TuneTensor

/// Batch normalisation over the features of `[batch, features]` inputs, with PyTorch's conventions: batch statistics
/// (biased variance) in training, running statistics in evaluation; the running variance is updated with the
/// unbiased batch variance; `running = (1 - momentum) * running + momentum * batch`.
///
/// A training batch must hold at least two rows (as in PyTorch): the variance of one value is undefined.
public final class BatchNorm: Module, UnaryLayer {
    public let featureCount: Int
    public let momentum: Float
    public let epsilon: Float
    /// The learnt scale (gamma) and shift (beta); absent when the layer is not affine.
    public let weight: Parameter?
    public let bias: Parameter?
    @Buffer public var runningMean: Tensor
    @Buffer public var runningVar: Tensor

    public init(_ featureCount: Int, momentum: Float = 0.1, epsilon: Float = 1e-5, affine: Bool = true) {
        self.featureCount = featureCount
        self.momentum = momentum
        self.epsilon = epsilon
        weight = affine ? Parameter(wrappedValue: .ones([featureCount])) : nil
        bias = affine ? Parameter(wrappedValue: .zeros([featureCount])) : nil
        _runningMean = Buffer(wrappedValue: .zeros([featureCount]))
        _runningVar = Buffer(wrappedValue: .ones([featureCount]))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 2 && x.shape[1] == featureCount, "BatchNorm(\(featureCount)): input of shape \(x.shape)")
        let normalized: Tensor
        if isTraining {
            let n = x.shape[0]
            precondition(n > 1, "BatchNorm: a training batch needs more than one row, got \(n)")
            let mean = x.mean(axis: 0)
            let centered = x - mean
            let variance = centered.squared().mean(axis: 0)
            normalized = centered / sqrt(variance + epsilon)
            withoutGradient {
                runningMean = runningMean * (1 - momentum) + mean.detached() * momentum
                runningVar = runningVar * (1 - momentum) + variance.detached() * (momentum * Float(n) / Float(n - 1))
            }
        } else {
            normalized = (x - runningMean) / sqrt(runningVar + epsilon)
        }
        guard let weight, let bias else { return normalized }
        return normalized * weight.value + bias.value
    }
}

/// Layer normalisation over the last dimension (PyTorch's `nn.LayerNorm(features)`, eps 1e-5, biased variance).
public final class LayerNorm: Module, UnaryLayer {
    public let featureCount: Int
    public let epsilon: Float
    public let weight: Parameter?
    public let bias: Parameter?

    public init(_ featureCount: Int, epsilon: Float = 1e-5, affine: Bool = true) {
        self.featureCount = featureCount
        self.epsilon = epsilon
        weight = affine ? Parameter(wrappedValue: .ones([featureCount])) : nil
        bias = affine ? Parameter(wrappedValue: .zeros([featureCount])) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(
            x.rank >= 1 && x.shape[-1] == featureCount, "LayerNorm(\(featureCount)): input of shape \(x.shape)")
        let mean = x.mean(axis: -1, keepingDimension: true)
        let centered = x - mean
        let variance = centered.squared().mean(axis: -1, keepingDimension: true)
        let normalized = centered / sqrt(variance + epsilon)
        guard let weight, let bias else { return normalized }
        return normalized * weight.value + bias.value
    }
}
