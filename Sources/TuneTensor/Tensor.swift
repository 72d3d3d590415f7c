/// A dense, row-major tensor of `Float` with rank 0 to 4.
///
/// `Tensor` is a value: copies share one buffer until one of them is written (copy-on-write). Operations on tensors
/// that are being watched by a ``GradientTape`` are recorded so that gradients can be computed in reverse mode.
public struct Tensor: Sendable {
    /// The tensor's extents.
    public let shape: Shape
    var storage: TensorStorage
    /// Where this value sits on a gradient tape, if it is being tracked.
    var tracking: Tracking

    init(shape: Shape, storage: TensorStorage) {
        precondition(
            storage.count == shape.count,
            "Tensor: storage holds \(storage.count) elements, shape \(shape) needs \(shape.count)")
        self.shape = shape
        self.storage = storage
        self.tracking = .none
    }

    /// A tensor with uninitialised elements; internal, every caller writes all of them.
    init(uninitialized shape: Shape) {
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: shape.count))
    }

    /// A tensor with the given shape and elements in row-major order.
    public init(shape: Shape, scalars: [Float]) {
        precondition(
            scalars.count == shape.count,
            "Tensor(shape:scalars:): \(scalars.count) values for shape \(shape) (\(shape.count) elements)")
        self.init(uninitialized: shape)
        scalars.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress, buffer.count > 0 {
                storage.pointer.update(from: base, count: buffer.count)
            }
        }
    }

    /// A rank-0 tensor holding `value`.
    public init(_ value: Float) {
        self.init(shape: .scalar, storage: TensorStorage(repeating: value, count: 1))
    }

    /// A rank-1 tensor holding `values`.
    public init(_ values: [Float]) {
        self.init(shape: [values.count], scalars: values)
    }

    /// A rank-2 tensor from its rows; every row must have the same length.
    public init(_ rows: [[Float]]) {
        let cols = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == cols }, "Tensor(rows): rows of different lengths")
        self.init(shape: [rows.count, cols], scalars: rows.flatMap { $0 })
    }

    /// A tensor with every element equal to `value`.
    public static func full(_ shape: Shape, _ value: Float) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(repeating: value, count: shape.count))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: Shape) -> Tensor { full(shape, 0) }

    /// A tensor of ones.
    public static func ones(_ shape: Shape) -> Tensor { full(shape, 1) }

    /// A tensor of zeros with the shape of `other`.
    public static func zeros(like other: Tensor) -> Tensor { full(other.shape, 0) }

    /// `0, 1, ..., n-1` as a rank-1 tensor.
    public static func arange(_ n: Int) -> Tensor {
        var t = Tensor(uninitialized: [n])
        for i in 0..<n { t.storage.pointer[i] = Float(i) }
        t.tracking = .none
        return t
    }

    /// The number of elements.
    @inline(__always) public var count: Int { shape.count }

    /// The number of dimensions.
    @inline(__always) public var rank: Int { shape.rank }

    /// The elements in row-major order.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// The single element of a one-element tensor.
    public var scalar: Float {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements")
        return storage.pointer[0]
    }

    /// Reads the elements without copying.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Writes the elements in place, copying the buffer first if another tensor shares it. The result is no longer
    /// tracked by any gradient tape.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R)
        rethrows -> R
    {
        makeUnique()
        tracking = .none
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    @inline(__always) mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// The element at a full index (one integer per dimension).
    public subscript(index: Int...) -> Float {
        get { storage.pointer[flatIndex(index)] }
        set {
            let i = flatIndex(index)
            makeUnique()
            tracking = .none
            storage.pointer[i] = newValue
        }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "Tensor subscript: \(index.count) indices for rank \(rank)")
        var flat = 0
        for (axis, i) in index.enumerated() {
            precondition(
                i >= 0 && i < shape[axis],
                "Tensor subscript: index \(i) out of range for axis \(axis) of shape \(shape)")
            flat = flat * shape[axis] + i
        }
        return flat
    }

    /// Whether two tensors have the same shape and elements within `tolerance` (absolute plus relative).
    public func isClose(to other: Tensor, tolerance: Float = 1e-5) -> Bool {
        guard shape == other.shape else { return false }
        for i in 0..<count {
            let a = storage.pointer[i], b = other.storage.pointer[i]
            if a.isNaN || b.isNaN { return false }
            if a == b { continue }
            if abs(a - b) > tolerance * (1 + Swift.max(abs(a), abs(b))) { return false }
        }
        return true
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = scalars.prefix(16).map { String(format: $0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(values)\(count > 16 ? ", ..." : "")])"
    }
}

private extension String {
    init(format value: Float) { self = "\(value)" }
}
