import CTuneKernels
import TuneTensor
import TuneRandom

/// Inverted dropout: in training each element is zeroed with probability `p` and the rest scaled by 1/(1-p); in
/// evaluation the layer is the identity. The mask comes from the layer's own seeded generator.
public final class Dropout: Module, UnaryLayer {
    public let probability: Float
    private var rng: PhiloxRandom

    /// `probability` in [0, 1]; `seed` and `stream` select the mask sequence.
    public init(_ probability: Float, seed: UInt64 = 0, stream: UInt64 = 0) {
        precondition(probability >= 0 && probability <= 1, "Dropout: probability \(probability) is not in [0, 1]")
        self.probability = probability
        rng = PhiloxRandom(seed: seed, stream: stream)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining, probability > 0 else { return x }
        if probability == 1 { return x * 0 }
        let scale = 1 / (1 - probability)
        var mask = Tensor.zeros(x.shape)
        mask.withUnsafeMutableBufferPointer { m in
            rng.fillUniform(m)
            tune_dropout_mask(m.baseAddress, m.baseAddress, m.count, probability, scale)
        }
        return x * mask
    }
}
