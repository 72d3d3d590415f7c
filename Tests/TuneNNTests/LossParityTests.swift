import Testing
import TuneNN
import TuneTensor

@Suite("Losses match PyTorch")
struct LossParityTests {
    static let fixture = Fixture.load("losses.json")

    func loss(_ c: JSONValue, _ prediction: Tensor) -> Tensor {
        let name = c["name"].string
        let reduction = Reduction(rawValue: c["reduction"].string)!
        if name.hasPrefix("mse") { return mseLoss(prediction, c["target"].tensor, reduction: reduction) }
        if name.hasPrefix("l1") { return l1Loss(prediction, c["target"].tensor, reduction: reduction) }
        if name.hasPrefix("huber") {
            return huberLoss(prediction, c["target"].tensor, delta: c["delta"].float, reduction: reduction)
        }
        if name.hasPrefix("smooth_l1") {
            return smoothL1Loss(prediction, c["target"].tensor, beta: c["beta"].float, reduction: reduction)
        }
        if name.hasPrefix("bce_logits") {
            return binaryCrossEntropyWithLogits(
                prediction, c["target"].tensor, positiveWeight: c.optional("pos_weight")?.tensor,
                reduction: reduction)
        }
        if name.hasPrefix("cross_entropy") {
            return crossEntropy(
                prediction, labels: c["labels"].array.map(\.int), weights: c.optional("weights")?.floats,
                labelSmoothing: c["label_smoothing"].float, reduction: reduction)
        }
        fatalError("no loss for fixture case \(name)")
    }

    @Test(arguments: fixture["cases"].array.map { $0["name"].string })
    func valueAndGradient(_ name: String) {
        let c = Self.fixture["cases"].array.first { $0["name"].string == name }!
        let (value, gradient) = TuneTensor.valueAndGradient(at: c["prediction"].tensor) { loss(c, $0) }
        expectClose(value, Tensor(c["loss"].float), "\(name) value")
        expectClose(gradient, c["grad"].tensor, "\(name) gradient")
    }
}
