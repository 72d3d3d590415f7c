/// The extents of a tensor: rank 0 (a scalar) to rank 4, stored inline so that making a shape never allocates.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    /// The largest rank a tensor can have.
    public static let maxRank = 4

    /// The number of dimensions.
    public private(set) var rank: Int
    private var d0 = 1, d1 = 1, d2 = 1, d3 = 1

    /// Makes a shape from its extents; every extent must be non-negative and there may be at most four.
    public init(_ dims: [Int]) {
        precondition(
            dims.count <= Shape.maxRank, "Shape: rank \(dims.count) exceeds the maximum of \(Shape.maxRank) (\(dims))")
        rank = dims.count
        for (i, d) in dims.enumerated() {
            precondition(d >= 0, "Shape: negative extent in \(dims)")
            self[i] = d
        }
    }

    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// The shape of a scalar.
    public static let scalar = Shape([])

    /// The extent of dimension `i` (negative `i` counts from the end).
    public subscript(i: Int) -> Int {
        get {
            let j = i < 0 ? rank + i : i
            precondition(j >= 0 && j < rank, "Shape: axis \(i) out of range for rank \(rank)")
            switch j {
            case 0: return d0
            case 1: return d1
            case 2: return d2
            default: return d3
            }
        }
        set {
            let j = i < 0 ? rank + i : i
            precondition(j >= 0 && j < rank, "Shape: axis \(i) out of range for rank \(rank)")
            switch j {
            case 0: d0 = newValue
            case 1: d1 = newValue
            case 2: d2 = newValue
            default: d3 = newValue
            }
        }
    }

    /// The number of elements.
    @inline(__always) public var count: Int { d0 * d1 * d2 * d3 }

    /// The extents as an array.
    public var dimensions: [Int] { (0..<rank).map { self[$0] } }

    public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }

    /// The extents right-aligned into four slots, padded with 1 on the left (NumPy broadcasting alignment).
    @inline(__always) var padded4: (Int, Int, Int, Int) {
        switch rank {
        case 0: return (1, 1, 1, 1)
        case 1: return (1, 1, 1, d0)
        case 2: return (1, 1, d0, d1)
        case 3: return (1, d0, d1, d2)
        default: return (d0, d1, d2, d3)
        }
    }

    /// Normalises an axis given possibly from the end; traps with a clear message when out of range.
    func axis(_ a: Int) -> Int {
        let j = a < 0 ? rank + a : a
        precondition(j >= 0 && j < rank, "axis \(a) out of range for shape \(self)")
        return j
    }

    /// The shape with `axis` removed (or kept with extent 1).
    func removing(axis: Int, keepingDimension: Bool) -> Shape {
        var dims = dimensions
        if keepingDimension { dims[axis] = 1 } else { dims.remove(at: axis) }
        return Shape(dims)
    }

    /// The broadcast shape of two shapes under NumPy rules, or nil when they are incompatible.
    public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        if a == b { return a }
        let r = max(a.rank, b.rank)
        var dims = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let x = i < r - a.rank ? 1 : a[i - (r - a.rank)]
            let y = i < r - b.rank ? 1 : b[i - (r - b.rank)]
            if x == y || y == 1 { dims[i] = x } else if x == 1 { dims[i] = y } else { return nil }
        }
        return Shape(dims)
    }
}
