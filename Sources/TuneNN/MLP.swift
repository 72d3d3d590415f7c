import TuneTensor
import TuneRandom

/// Where batch normalisation goes in each hidden block of an MLP.
public enum BatchNormPlacement: String, Codable, Sendable, CaseIterable {
    case none
    /// Dense -> BatchNorm -> activation (the original paper's place).
    case beforeActivation
    /// Dense -> activation -> BatchNorm.
    case afterActivation
}

/// A multilayer perceptron, as data: what `tune` builds, tunes and records in checkpoints.
public struct MLPSpecification: Codable, Sendable, Equatable {
    public var inputSize: Int
    public var hiddenSizes: [Int]
    public var outputSize: Int
    public var activation: Activation
    /// Dropout probability after each hidden block (0: no dropout layers).
    public var dropout: Float
    public var batchNorm: BatchNormPlacement
    /// Whether Swish learns its beta (only with the Swish activation).
    public var learnableSwishBeta: Bool

    public init(
        inputSize: Int, hiddenSizes: [Int], outputSize: Int, activation: Activation = .relu, dropout: Float = 0,
        batchNorm: BatchNormPlacement = .none, learnableSwishBeta: Bool = false
    ) {
        self.inputSize = inputSize
        self.hiddenSizes = hiddenSizes
        self.outputSize = outputSize
        self.activation = activation
        self.dropout = dropout
        self.batchNorm = batchNorm
        self.learnableSwishBeta = learnableSwishBeta
    }

    /// What is wrong with this specification, if anything, naming the field.
    public func validationError() -> String? {
        if inputSize < 1 { return "inputSize must be at least 1, got \(inputSize)" }
        if outputSize < 1 { return "outputSize must be at least 1, got \(outputSize)" }
        if let bad = hiddenSizes.first(where: { $0 < 1 }) { return "hiddenSizes must all be at least 1, got \(bad)" }
        if !(dropout >= 0 && dropout < 1) { return "dropout must be in [0, 1), got \(dropout)" }
        if learnableSwishBeta && activation != .swish {
            return "learnableSwishBeta needs the swish activation, got \(activation.rawValue)"
        }
        return nil
    }
}

/// A multilayer perceptron built from an ``MLPSpecification``: for each hidden width a Dense layer, the activation,
/// batch normalisation where asked and dropout; then a Dense output layer. Layers are named `layers.0`, `layers.1`, ...
public final class MLP: Module, UnaryLayer {
    public let specification: MLPSpecification
    public let layers: [any UnaryLayer]

    /// Builds the network; `seed` draws the initial weights (PyTorch's `nn.Linear` defaults) and the dropout masks.
    public init(_ specification: MLPSpecification, seed: UInt64) {
        precondition(specification.validationError() == nil, "MLP: \(specification.validationError() ?? "")")
        self.specification = specification
        var rng = PhiloxRandom(seed: seed)
        var layers: [any UnaryLayer] = []
        var width = specification.inputSize
        for (block, hidden) in specification.hiddenSizes.enumerated() {
            layers.append(Dense(width, hidden, using: &rng))
            if specification.batchNorm == .beforeActivation { layers.append(BatchNorm(hidden)) }
            layers.append(
                specification.learnableSwishBeta ? Swish(learnableBeta: true) : specification.activation.layer())
            if specification.batchNorm == .afterActivation { layers.append(BatchNorm(hidden)) }
            if specification.dropout > 0 {
                layers.append(Dropout(specification.dropout, seed: seed, stream: UInt64(block + 1)))
            }
            width = hidden
        }
        layers.append(Dense(width, specification.outputSize, using: &rng))
        self.layers = layers
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }
}
