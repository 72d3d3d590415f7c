import CTuneKernels

/// Vectorised element loops. Every kernel works on 16 lanes at a time with a scalar tail and never allocates.
/// Transcendental functions (exp, sigmoid, tanh, ...) live in the C target `CTuneKernels` instead, which is built for
/// several instruction sets and dispatched at load time; Swift code is compiled for the baseline only.

typealias Vec = SIMD16<Float>
let vecWidth = 16

@inline(__always) func loadVec(_ p: UnsafePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
}

@inline(__always) func storeVec(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
}

/// An elementwise function of one argument, with a vector form and a scalar form that agree.
protocol UnaryKernel {
    static func apply(_ x: Vec) -> Vec
    static func apply(_ x: Float) -> Float
}

/// An elementwise function of two arguments, run along rows.
protocol BinaryKernel {
    /// Runs the kernel along one row where each operand advances (stride 1) or stays put (stride 0).
    static func run(
        _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int, _ out: UnsafeMutablePointer<Float>,
        _ n: Int)
}

/// A binary kernel written in Swift, with a vector form and a scalar form that agree.
protocol SIMDBinaryKernel: BinaryKernel {
    static func apply(_ a: Vec, _ b: Vec) -> Vec
    static func apply(_ a: Float, _ b: Float) -> Float
}

extension SIMDBinaryKernel {
    @inline(__always)
    static func run(
        _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int, _ out: UnsafeMutablePointer<Float>,
        _ n: Int
    ) {
        binaryLoop(Self.self, a, sa, b, sb, out, n)
    }
}

/// A C row kernel: (a, stride a, b, stride b, out, count).
typealias CBinaryRow =
    @convention(c) (UnsafePointer<Float>?, Int, UnsafePointer<Float>?, Int, UnsafeMutablePointer<Float>?, Int) -> Void

/// A binary kernel whose row loop is a C kernel built for the CPU's widest vectors.
protocol CBinaryKernel: BinaryKernel {
    static var kernel: CBinaryRow { get }
}

extension CBinaryKernel {
    @inline(__always)
    static func run(
        _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int, _ out: UnsafeMutablePointer<Float>,
        _ n: Int
    ) {
        kernel(a, sa, b, sb, out, n)
    }
}

@inline(__always)
func unaryLoop<K: UnaryKernel>(_: K.Type, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + vecWidth <= n {
        storeVec(K.apply(loadVec(x + i)), out + i)
        i += vecWidth
    }
    while i < n {
        out[i] = K.apply(x[i])
        i += 1
    }
}

/// Applies `K` along one row where each operand either advances (stride 1) or stays put (stride 0, broadcast).
@inline(__always)
func binaryLoop<K: SIMDBinaryKernel>(
    _: K.Type, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
    _ out: UnsafeMutablePointer<Float>, _ n: Int
) {
    var i = 0
    switch (sa, sb) {
    case (1, 1):
        while i + vecWidth <= n {
            storeVec(K.apply(loadVec(a + i), loadVec(b + i)), out + i)
            i += vecWidth
        }
        while i < n { out[i] = K.apply(a[i], b[i]); i += 1 }
    case (1, 0):
        let bs = b[0], bv = Vec(repeating: bs)
        while i + vecWidth <= n {
            storeVec(K.apply(loadVec(a + i), bv), out + i)
            i += vecWidth
        }
        while i < n { out[i] = K.apply(a[i], bs); i += 1 }
    case (0, 1):
        let as_ = a[0], av = Vec(repeating: as_)
        while i + vecWidth <= n {
            storeVec(K.apply(av, loadVec(b + i)), out + i)
            i += vecWidth
        }
        while i < n { out[i] = K.apply(as_, b[i]); i += 1 }
    default:
        let v = K.apply(a[0], b[0])
        out.update(repeating: v, count: n)
    }
}

/// |x| on 16 lanes, by clearing the sign bits.
@inline(__always)
func vabs(_ x: Vec) -> Vec {
    unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Vec.self)
}

/// Sum of `n` elements in a fixed order (16 partial sums, then a fixed tree), so results are reproducible.
@inline(__always)
func sumElements(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = Vec.zero
    var i = 0
    while i + vecWidth <= n {
        acc += loadVec(x + i)
        i += vecWidth
    }
    var s = acc.sum()
    while i < n { s += x[i]; i += 1 }
    return s
}

/// `out[i] += x[i]` for `n` elements.
@inline(__always)
func addInto(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    while i + vecWidth <= n {
        storeVec(loadVec(out + i) + loadVec(x + i), out + i)
        i += vecWidth
    }
    while i < n { out[i] += x[i]; i += 1 }
}

/// Facts about the element-wise kernels.
public enum ElementwiseKernels {
    /// The instruction set the C kernels (exp, sigmoid, tanh, ...) run with on this CPU: "x86-64-v4" (AVX-512),
    /// "x86-64-v3" (AVX2+FMA) or "baseline".
    public static var instructionSet: String { String(cString: tune_kernels_isa()) }
}
