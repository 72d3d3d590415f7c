import Foundation
import TuneTensor

/// The settings of `tune demo`: a small network trained on generated two-spiral data.
public struct DemoConfiguration: Sendable {
    public var seed: UInt64 = 42
    /// Points per class.
    public var pointsPerClass = 600
    public var hiddenUnits = 64
    public var epochs = 40
    /// Mini-batch size; the demo starts near sqrt(N), as the tuning recipe advises.
    public var batchSize = 32
    public var learningRate: Float = 0.01
    public init() {}
}

/// One epoch of the demo: the losses and the validation accuracy.
public struct DemoEpoch: Sendable {
    public let epoch: Int
    public let trainLoss: Float
    public let validationLoss: Float
    public let validationAccuracy: Float
    public let seconds: Double
}

/// Two interleaved spirals, one per class, with Gaussian noise: a problem a linear model cannot solve.
public func twoSpirals(pointsPerClass n: Int, noise: Float, using rng: inout PhiloxRandom) -> (x: Tensor, y: [Int]) {
    var values: [Float] = []
    var labels: [Int] = []
    values.reserveCapacity(4 * n)
    for cls in 0..<2 {
        for i in 0..<n {
            let t = 0.25 + 3.5 * Float(i) / Float(n)  // radians / pi
            let angle = t * .pi + Float(cls) * .pi
            let r = t / 3.75
            let (e1, e2) = rng.nextNormalPair()
            values.append(r * cos(angle) + noise * e1)
            values.append(r * sin(angle) + noise * e2)
            labels.append(cls)
        }
    }
    return (Tensor(shape: [2 * n, 2], scalars: values), labels)
}

/// Mean softmax cross-entropy of `logits` (`batch x classes`) against integer `labels`.
func crossEntropy(_ logits: Tensor, _ labels: [Int]) -> Tensor {
    let classes = logits.shape[1]
    var oneHot = [Float](repeating: 0, count: labels.count * classes)
    for (i, c) in labels.enumerated() { oneHot[i * classes + c] = 1 }
    let target = Tensor(shape: logits.shape, scalars: oneHot)
    return -(logSoftmax(logits) * target).sum() / Float(labels.count)
}

/// Trains a 2-64-64-2 Swish network with Adam on two spirals and reports each epoch. Deterministic for a seed.
public func runDemo(_ config: DemoConfiguration = DemoConfiguration(), report: (DemoEpoch) -> Void) -> [DemoEpoch] {
    var rng = PhiloxRandom(seed: config.seed)
    let data = twoSpirals(pointsPerClass: config.pointsPerClass, noise: 0.02, using: &rng)
    let total = data.y.count
    let order = (0..<total).shuffled(using: &rng)
    let validationCount = total / 5
    let validationRows = Array(order.prefix(validationCount)), trainRows = Array(order.dropFirst(validationCount))
    let xValidation = data.x.gathering(rows: validationRows), yValidation = validationRows.map { data.y[$0] }

    // PyTorch's Linear initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
    func dense(_ fanIn: Int, _ fanOut: Int) -> [Tensor] {
        let bound = 1 / Float(fanIn).squareRoot()
        return [Tensor.uniform([fanIn, fanOut], low: -bound, high: bound, using: &rng),
                Tensor.uniform([fanOut], low: -bound, high: bound, using: &rng)]
    }
    var parameters = dense(2, config.hiddenUnits) + dense(config.hiddenUnits, config.hiddenUnits) + dense(config.hiddenUnits, 2)
    func forward(_ p: [Tensor], _ x: Tensor) -> Tensor {
        let h1 = swish(x.matmul(p[0]) + p[1])
        let h2 = swish(h1.matmul(p[2]) + p[3])
        return h2.matmul(p[4]) + p[5]
    }

    // Adam (Kingma and Ba) with PyTorch's defaults.
    var m = parameters.map { Tensor.zeros(like: $0) }, v = parameters.map { Tensor.zeros(like: $0) }
    let beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8
    var step = 0
    var history: [DemoEpoch] = []
    for epoch in 1...config.epochs {
        let start = Date()
        let shuffled = trainRows.shuffled(using: &rng)
        var lossSum: Float = 0, batches = 0
        for batchStart in stride(from: 0, to: shuffled.count, by: config.batchSize) {
            let rows = Array(shuffled[batchStart..<min(batchStart + config.batchSize, shuffled.count)])
            let x = data.x.gathering(rows: rows), y = rows.map { data.y[$0] }
            let (loss, grads) = valueAndGradient(at: parameters) { p in crossEntropy(forward(p, x), y) }
            step += 1
            let c1 = 1 - Foundation.pow(beta1, Float(step)), c2 = 1 - Foundation.pow(beta2, Float(step))
            for i in parameters.indices {
                m[i] = m[i] * beta1 + grads[i] * (1 - beta1)
                v[i] = v[i] * beta2 + grads[i].squared() * (1 - beta2)
                parameters[i] = parameters[i] - (m[i] / c1) / (sqrt(v[i] / c2) + eps) * config.learningRate
            }
            lossSum += loss.scalar
            batches += 1
        }
        let logits = forward(parameters, xValidation)
        let validationLoss = crossEntropy(logits, yValidation).scalar
        let predicted = logits.argmax(axis: 1).scalars
        let correct = zip(predicted, yValidation).filter { Int($0) == $1 }.count
        let record = DemoEpoch(epoch: epoch, trainLoss: lossSum / Float(max(batches, 1)), validationLoss: validationLoss,
                               validationAccuracy: Float(correct) / Float(max(yValidation.count, 1)),
                               seconds: Date().timeIntervalSince(start))
        history.append(record)
        report(record)
    }
    return history
}
