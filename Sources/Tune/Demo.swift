import Foundation
import TuneData
import TuneNN
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

/// Trains a 2-64-64-2 Swish network with Adam on two spirals and reports each epoch. Deterministic for a seed.
public func runDemo(_ config: DemoConfiguration = DemoConfiguration(), report: (DemoEpoch) -> Void) -> [DemoEpoch] {
    var rng = PhiloxRandom(seed: config.seed)
    let data = Synthetic.twoSpirals(pointsPerClass: config.pointsPerClass, noise: 0.02, using: &rng)
    let total = data.y.count
    let order = (0..<total).shuffled(using: &rng)
    let validationCount = total / 5
    let validationRows = Array(order.prefix(validationCount)), trainRows = Array(order.dropFirst(validationCount))
    let xValidation = data.x.gathering(rows: validationRows), yValidation = validationRows.map { data.y[$0] }

    let model = MLP(MLPSpecification(inputSize: 2, hiddenSizes: [config.hiddenUnits, config.hiddenUnits], outputSize: 2,
                                     activation: .swish), seed: config.seed)
    let optimizer = Optimizer(for: model, rule: Adam(), learningRate: config.learningRate)
    var history: [DemoEpoch] = []
    for epoch in 1...config.epochs {
        let start = Date()
        model.train()
        let shuffled = trainRows.shuffled(using: &rng)
        var lossSum: Float = 0, batches = 0
        for batchStart in stride(from: 0, to: shuffled.count, by: config.batchSize) {
            let rows = Array(shuffled[batchStart..<min(batchStart + config.batchSize, shuffled.count)])
            let x = data.x.gathering(rows: rows), y = rows.map { data.y[$0] }
            let (loss, gradients) = optimizer.valueAndGradients { crossEntropy(model(x), labels: y) }
            optimizer.step(gradients)
            lossSum += loss.scalar
            batches += 1
        }
        model.eval()
        let logits = model(xValidation)
        let validationLoss = crossEntropy(logits, labels: yValidation).scalar
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
