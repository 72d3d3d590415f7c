import TuneTensor
import TuneRandom

/// A fully connected layer, `y = x W^T + b`, with PyTorch's layout (`weight` is `[out, in]`) and default initialisation.
public final class Dense: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    /// The bias; absent when the layer was made without one.
    public let bias: Parameter?

    public let inputSize: Int
    public let outputSize: Int

    /// A layer from `inputSize` to `outputSize` features. The weight defaults to PyTorch's `nn.Linear` initialisation
    /// (U(-1/sqrt(in), 1/sqrt(in))), and so does the bias.
    public init(
        _ inputSize: Int, _ outputSize: Int, bias: Bool = true,
        weightInitializer: Initializer = .pytorchLinearDefault, using rng: inout PhiloxRandom
    ) {
        precondition(
            inputSize > 0 && outputSize > 0, "Dense: sizes must be positive, got \(inputSize) -> \(outputSize)")
        self.inputSize = inputSize
        self.outputSize = outputSize
        _weight = Parameter(wrappedValue: weightInitializer.make([outputSize, inputSize], using: &rng))
        if bias {
            let bound = 1 / Float(inputSize).squareRoot()
            self.bias = Parameter(wrappedValue: Tensor.uniform([outputSize], low: -bound, high: bound, using: &rng))
        } else {
            self.bias = nil
        }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(
            x.rank == 2 && x.shape[1] == inputSize, "Dense(\(inputSize) -> \(outputSize)): input of shape \(x.shape)")
        let y = x.matmul(weight, transposeOther: true)
        return bias.map { y + $0.value } ?? y
    }
}
