import TuneTensor

/// How a loss combines the per-element (or per-sample) losses.
public enum Reduction: String, Codable, Sendable {
    case mean, sum
}

private func reduce(_ loss: Tensor, _ reduction: Reduction) -> Tensor {
    reduction == .mean ? loss.mean() : loss.sum()
}

private func checkShapes(_ prediction: Tensor, _ target: Tensor, _ name: String) {
    precondition(
        prediction.shape == target.shape, "\(name): prediction \(prediction.shape) and target \(target.shape) differ")
}

/// Mean (or summed) squared error.
public func mseLoss(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkShapes(prediction, target, "mseLoss")
    return reduce((prediction - target).squared(), reduction)
}

/// Mean (or summed) absolute error.
public func l1Loss(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkShapes(prediction, target, "l1Loss")
    return reduce(abs(prediction - target), reduction)
}

/// Huber loss (PyTorch's `huber_loss`): 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere.
public func huberLoss(_ prediction: Tensor, _ target: Tensor, delta: Float = 1, reduction: Reduction = .mean) -> Tensor
{
    checkShapes(prediction, target, "huberLoss")
    precondition(delta > 0, "huberLoss: delta must be positive, got \(delta)")
    let d = prediction - target, a = abs(d)
    return reduce(Tensor.select(a .< delta, d.squared() * 0.5, (a - 0.5 * delta) * delta), reduction)
}

/// Smooth L1 loss (PyTorch's `smooth_l1_loss`): 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere; beta 0 is L1.
public func smoothL1Loss(_ prediction: Tensor, _ target: Tensor, beta: Float = 1, reduction: Reduction = .mean)
    -> Tensor
{
    checkShapes(prediction, target, "smoothL1Loss")
    precondition(beta >= 0, "smoothL1Loss: beta must not be negative, got \(beta)")
    let d = prediction - target, a = abs(d)
    if beta == 0 { return reduce(a, reduction) }
    return reduce(Tensor.select(a .< beta, d.squared() * (0.5 / beta), a - 0.5 * beta), reduction)
}

/// Binary cross-entropy on logits, computed stably (PyTorch's `binary_cross_entropy_with_logits`):
/// `(1 - t) x + (1 + (pw - 1) t) softplus(-x)`, where `positiveWeight` (broadcast over the last dimension, one value
/// per output) weighs the positive examples.
public func binaryCrossEntropyWithLogits(
    _ logits: Tensor, _ targets: Tensor, positiveWeight: Tensor? = nil,
    reduction: Reduction = .mean
) -> Tensor {
    checkShapes(logits, targets, "binaryCrossEntropyWithLogits")
    let logSigmoidNegative = softplus(-logits)
    let weight = positiveWeight.map { ($0 - 1) * targets + 1 }
    let loss = (1 - targets) * logits + (weight.map { $0 * logSigmoidNegative } ?? logSigmoidNegative)
    return reduce(loss, reduction)
}

/// Softmax cross-entropy of `logits` (`[batch, classes]`) against integer class `labels`, with PyTorch's
/// `cross_entropy` semantics: optional per-class `weights` (the mean then divides by the summed weights of the
/// samples' classes) and `labelSmoothing` ε, which mixes in ε/C times the (weighted) loss against every class.
public func crossEntropy(
    _ logits: Tensor, labels: [Int], weights: [Float]? = nil, labelSmoothing: Float = 0,
    reduction: Reduction = .mean
) -> Tensor {
    precondition(
        logits.rank == 2 && logits.shape[0] == labels.count,
        "crossEntropy: logits \(logits.shape) for \(labels.count) labels")
    let classes = logits.shape[1]
    precondition(
        labelSmoothing >= 0 && labelSmoothing <= 1, "crossEntropy: label smoothing \(labelSmoothing) is not in [0, 1]")
    if let weights {
        precondition(weights.count == classes, "crossEntropy: \(weights.count) class weights for \(classes) classes")
    }
    var picked = [Float](repeating: 0, count: labels.count * classes)
    var sampleWeightSum: Float = 0
    for (i, label) in labels.enumerated() {
        precondition(
            label >= 0 && label < classes, "crossEntropy: label \(label) of sample \(i) is not in 0..<\(classes)")
        let w = weights?[label] ?? 1
        picked[i * classes + label] = w
        sampleWeightSum += w
    }
    let logProbabilities = logSoftmax(logits)
    let nll = -(logProbabilities * Tensor(shape: logits.shape, scalars: picked)).sum()
    let denominator: Float = reduction == .mean ? sampleWeightSum : 1
    var loss = nll / denominator
    if labelSmoothing > 0 {
        let classWeights = weights.map { Tensor($0) } ?? Tensor(1)
        let smooth = -(logProbabilities * classWeights).sum() / denominator
        loss = loss * (1 - labelSmoothing) + smooth * (labelSmoothing / Float(classes))
    }
    return loss
}
