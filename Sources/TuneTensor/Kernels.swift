/// Vectorised element loops. Every kernel works on 16 lanes at a time with a scalar tail and never allocates.

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

/// An elementwise function of two arguments, with a vector form and a scalar form that agree.
protocol BinaryKernel {
    static func apply(_ a: Vec, _ b: Vec) -> Vec
    static func apply(_ a: Float, _ b: Float) -> Float
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
func binaryLoop<K: BinaryKernel>(_: K.Type, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                                 _ out: UnsafeMutablePointer<Float>, _ n: Int) {
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

// MARK: - Vectorised transcendental functions

/// `exp(x)` on 16 lanes: Cody-Waite range reduction and a degree-6 polynomial (Cephes `expf`), relative error about
/// 1e-7 over the whole range; overflows to +inf above 88.72, underflows to 0 below -87.33, propagates NaN.
@inline(__always)
func vexp(_ x: Vec) -> Vec {
    let hi = Vec(repeating: 88.72283), lo = Vec(repeating: -87.33654)
    var v = x.clamped(lowerBound: lo, upperBound: hi)
    // n = round(x / ln 2), with truncation and a correction so that only SSE2 conversions are needed.
    let t = v * 1.44269504088896341 + 0.5
    var fn = Vec(SIMD16<Int32>(t, rounding: .towardZero))
    fn = fn.replacing(with: fn - 1, where: fn .> t)
    let n = SIMD16<Int32>(fn, rounding: .towardZero)
    v = v - fn * 0.693359375
    v = v - fn * -2.12194440e-4
    let z = v * v
    var y = Vec(repeating: 1.9875691500e-4)
    y = y * v + 1.3981999507e-3
    y = y * v + 8.3334519073e-3
    y = y * v + 4.1665795894e-2
    y = y * v + 1.6666665459e-1
    y = y * v + 5.0000001201e-1
    y = y * z + v + 1
    // Multiply by 2^n through the exponent bits, in two halves so that n = 128 does not overflow the exponent.
    let n1 = n &>> 1, n2 = n &- n1
    y = y * unsafeBitCast((n1 &+ 127) &<< 23, to: Vec.self) * unsafeBitCast((n2 &+ 127) &<< 23, to: Vec.self)
    y = y.replacing(with: 0, where: x .< lo)
    y = y.replacing(with: .infinity, where: x .> hi)
    y = y.replacing(with: x, where: x .!= x)
    return y
}

/// `tanh(x)` on 16 lanes: an odd polynomial near 0 (Cephes `tanhf`) and `1 - 2/(exp(2|x|) + 1)` elsewhere.
@inline(__always)
func vtanh(_ x: Vec) -> Vec {
    let ax = vabs(x)
    let s = x * x
    var p = Vec(repeating: -5.70498872745e-3)
    p = p * s + 2.06390887954e-2
    p = p * s - 5.37397155531e-2
    p = p * s + 1.33314422036e-1
    p = p * s - 3.33332819422e-1
    let small = p * s * x + x
    let e = vexp(ax + ax)
    var large = 1 - 2 / (e + 1)
    large = large.replacing(with: -large, where: x .< 0)
    return small.replacing(with: large, where: ax .>= 0.625)
}

/// |x| on 16 lanes, by clearing the sign bits.
@inline(__always)
func vabs(_ x: Vec) -> Vec {
    unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Vec.self)
}

@inline(__always)
func vsigmoid(_ x: Vec) -> Vec {
    1 / (1 + vexp(-x))
}

@inline(__always) func sexp(_ x: Float) -> Float { vexp(Vec(repeating: x))[0] }
@inline(__always) func stanh(_ x: Float) -> Float { vtanh(Vec(repeating: x))[0] }
@inline(__always) func ssigmoid(_ x: Float) -> Float { 1 / (1 + sexp(-x)) }

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
