import CTuneKernels
import Foundation

// MARK: - Kernels

enum AddK: CBinaryKernel {
    static var kernel: CBinaryRow { tune_add }
}
enum SubK: CBinaryKernel {
    static var kernel: CBinaryRow { tune_sub }
}
enum MulK: CBinaryKernel {
    static var kernel: CBinaryRow { tune_mul }
}
enum DivK: CBinaryKernel {
    static var kernel: CBinaryRow { tune_div }
}
/// Maximum that propagates NaN from either side.
enum MaxK: CBinaryKernel {
    static var kernel: CBinaryRow { tune_max }
}
/// Minimum that propagates NaN from either side.
enum MinK: CBinaryKernel {
    static var kernel: CBinaryRow { tune_min }
}
enum PowK: SIMDBinaryKernel {
    @inline(__always) static func apply(_ a: Vec, _ b: Vec) -> Vec {
        var r = Vec()
        for i in 0..<vecWidth { r[i] = Foundation.pow(a[i], b[i]) }
        return r
    }
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Foundation.pow(a, b) }
}
enum LessK: SIMDBinaryKernel {
    @inline(__always) static func apply(_ a: Vec, _ b: Vec) -> Vec { Vec.zero.replacing(with: 1, where: a .< b) }
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a < b ? 1 : 0 }
}
enum LessEqualK: SIMDBinaryKernel {
    @inline(__always) static func apply(_ a: Vec, _ b: Vec) -> Vec { Vec.zero.replacing(with: 1, where: a .<= b) }
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a <= b ? 1 : 0 }
}
enum EqualK: SIMDBinaryKernel {
    @inline(__always) static func apply(_ a: Vec, _ b: Vec) -> Vec { Vec.zero.replacing(with: 1, where: a .== b) }
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 }
}
enum NotEqualK: SIMDBinaryKernel {
    @inline(__always) static func apply(_ a: Vec, _ b: Vec) -> Vec { Vec.zero.replacing(with: 1, where: a .!= b) }
    @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a != b ? 1 : 0 }
}

enum NegK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { -x }
    @inline(__always) static func apply(_ x: Float) -> Float { -x }
}
enum LogK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec {
        var r = Vec()
        for i in 0..<vecWidth { r[i] = Foundation.log(x[i]) }
        return r
    }
    @inline(__always) static func apply(_ x: Float) -> Float { Foundation.log(x) }
}
enum SqrtK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { x.squareRoot() }
    @inline(__always) static func apply(_ x: Float) -> Float { x.squareRoot() }
}
enum AbsK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { vabs(x) }
    @inline(__always) static func apply(_ x: Float) -> Float { abs(x) }
}
enum SquareK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec { x * x }
    @inline(__always) static func apply(_ x: Float) -> Float { x * x }
}
enum SignK: UnaryKernel {
    @inline(__always) static func apply(_ x: Vec) -> Vec {
        Vec.zero.replacing(with: 1, where: x .> 0).replacing(with: -1, where: x .< 0)
    }
    @inline(__always) static func apply(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}

// MARK: - Applying kernels

extension Tensor {
    @inline(__always)
    func mapping<K: UnaryKernel>(_ k: K.Type) -> Tensor {
        var out = Tensor(uninitialized: shape)
        unaryLoop(k, storage.pointer, out.storage.pointer, count)
        out.tracking = .none
        return out
    }

    /// The result of a C kernel `y = f(x)` applied to every element.
    @inline(__always)
    func applying(_ kernel: (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void) -> Tensor {
        let out = Tensor(uninitialized: shape)
        kernel(storage.pointer, out.storage.pointer, count)
        return out
    }

    /// The result of a C kernel `y = f(a, b)` applied element by element to two tensors of the same shape.
    @inline(__always)
    static func combining(
        _ a: Tensor, _ b: Tensor,
        _ kernel: (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void
    ) -> Tensor {
        precondition(a.shape == b.shape, "combining: shapes \(a.shape) and \(b.shape) differ")
        let out = Tensor(uninitialized: a.shape)
        kernel(a.storage.pointer, b.storage.pointer, out.storage.pointer, a.count)
        return out
    }

    /// Records a unary op on the current tape when `x` is tracked.
    @inline(__always)
    static func recordUnary(_ out: inout Tensor, _ x: Tensor, _ pullback: @escaping (Tensor) -> Tensor) {
        if let tape = Tensor.tape(x) {
            out.tracking = tape.append(x, nil) { g in (pullback(g), nil) }
        }
    }

    /// Records a binary op on the current tape when either operand is tracked.
    @inline(__always)
    static func recordBinary(
        _ out: inout Tensor, _ a: Tensor, _ b: Tensor, _ pullback: @escaping (Tensor) -> (Tensor?, Tensor?)
    ) {
        if let tape = Tensor.tape(a, b) {
            out.tracking = tape.append(a, b, pullback)
        }
    }
}

// MARK: - Arithmetic

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        var out = broadcasting(AddK.self, a, b, "+")
        recordBinary(&out, a, b) { g in (g.reduced(toShape: a.shape), g.reduced(toShape: b.shape)) }
        return out
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        var out = broadcasting(SubK.self, a, b, "-")
        recordBinary(&out, a, b) { g in (g.reduced(toShape: a.shape), (-g).reduced(toShape: b.shape)) }
        return out
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        var out = broadcasting(MulK.self, a, b, "*")
        recordBinary(&out, a, b) { g in
            (
                a.tracking.isTracked ? (g * b).reduced(toShape: a.shape) : nil,
                b.tracking.isTracked ? (g * a).reduced(toShape: b.shape) : nil
            )
        }
        return out
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        var out = broadcasting(DivK.self, a, b, "/")
        recordBinary(&out, a, b) { g in
            let ga = g / b
            return (
                ga.reduced(toShape: a.shape),
                b.tracking.isTracked ? (-(ga * a) / b).reduced(toShape: b.shape) : nil
            )
        }
        return out
    }

    public static prefix func - (x: Tensor) -> Tensor {
        var out = x.mapping(NegK.self)
        recordUnary(&out, x) { g in -g }
        return out
    }

    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(b) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }

    /// The element-wise square.
    public func squared() -> Tensor {
        var out = mapping(SquareK.self)
        let x = self
        Tensor.recordUnary(&out, x) { g in g * x * 2 }
        return out
    }
}

// MARK: - Comparisons and masks (not differentiable: their results are constants)

extension Tensor {
    /// 1 where `a < b`, else 0.
    public static func .< (a: Tensor, b: Tensor) -> Tensor { broadcasting(LessK.self, a, b, ".<") }
    /// 1 where `a <= b`, else 0.
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { broadcasting(LessEqualK.self, a, b, ".<=") }
    /// 1 where `a > b`, else 0.
    public static func .> (a: Tensor, b: Tensor) -> Tensor { broadcasting(LessK.self, b, a, ".>") }
    /// 1 where `a >= b`, else 0.
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { broadcasting(LessEqualK.self, b, a, ".>=") }
    /// 1 where `a == b`, else 0.
    public static func .== (a: Tensor, b: Tensor) -> Tensor { broadcasting(EqualK.self, a, b, ".==") }
    /// 1 where `a != b`, else 0.
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { broadcasting(NotEqualK.self, a, b, ".!=") }

    public static func .< (a: Tensor, b: Float) -> Tensor { a .< Tensor(b) }
    public static func .<= (a: Tensor, b: Float) -> Tensor { a .<= Tensor(b) }
    public static func .> (a: Tensor, b: Float) -> Tensor { a .> Tensor(b) }
    public static func .>= (a: Tensor, b: Float) -> Tensor { a .>= Tensor(b) }
    public static func .== (a: Tensor, b: Float) -> Tensor { a .== Tensor(b) }
    public static func .!= (a: Tensor, b: Float) -> Tensor { a .!= Tensor(b) }

    /// Elements of `a` where `mask` is non-zero and of `b` elsewhere (all three broadcast together). The gradient
    /// flows to `a` where the mask is set and to `b` elsewhere; none flows to the mask.
    public static func select(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let ab = Shape.broadcast(a.shape, b.shape), let shape = Shape.broadcast(mask.shape, ab) else {
            preconditionFailure("select: shapes \(mask.shape), \(a.shape) and \(b.shape) do not broadcast")
        }
        let m = mask.detached().expanded(to: shape) .!= 0
        let ea = a.detached().expanded(to: shape), eb = b.detached().expanded(to: shape)
        var out = Tensor(uninitialized: shape)
        let pm = m.storage.pointer, pa = ea.storage.pointer, pb = eb.storage.pointer, po = out.storage.pointer
        for i in 0..<shape.count { po[i] = pm[i] != 0 ? pa[i] : pb[i] }
        out.tracking = .none
        recordBinary(&out, a, b) { g in
            ((g * m).reduced(toShape: a.shape), (g * (1 - m)).reduced(toShape: b.shape))
        }
        return out
    }
}

// MARK: - Element-wise functions

/// `e^x`, element-wise (vectorised, relative error about 1e-7; +inf above 88.72, 0 below -87.34).
public func exp(_ x: Tensor) -> Tensor {
    var out = x.applying(tune_exp)
    let y = out
    Tensor.recordUnary(&out, x) { g in g * y }
    return out
}

/// The natural logarithm, element-wise.
public func log(_ x: Tensor) -> Tensor {
    var out = x.mapping(LogK.self)
    Tensor.recordUnary(&out, x) { g in g / x }
    return out
}

/// The square root, element-wise.
public func sqrt(_ x: Tensor) -> Tensor {
    var out = x.mapping(SqrtK.self)
    let y = out
    Tensor.recordUnary(&out, x) { g in g / (y * 2) }
    return out
}

/// The absolute value, element-wise; its gradient at 0 is 0.
public func abs(_ x: Tensor) -> Tensor {
    var out = x.mapping(AbsK.self)
    Tensor.recordUnary(&out, x) { g in g * x.mapping(SignK.self) }
    return out
}

/// `a^b`, element-wise with broadcasting.
public func pow(_ a: Tensor, _ b: Tensor) -> Tensor {
    var out = Tensor.broadcasting(PowK.self, a, b, "pow")
    let y = out
    Tensor.recordBinary(&out, a, b) { g in
        // d/da = b a^(b-1), taken as 0 where b = 0 (not 0 * inf at a = 0); d/db = a^b log a, taken as 0 where a = 0
        // (not 0 * -inf), as PyTorch does.
        (
            a.tracking.isTracked
                ? (g * Tensor.select(b .== 0, Tensor(0), b * pow(a, b - 1))).reduced(toShape: a.shape) : nil,
            b.tracking.isTracked ? (g * Tensor.select(a .== 0, Tensor(0), y * log(a))).reduced(toShape: b.shape) : nil
        )
    }
    return out
}

/// `a^p`, element-wise.
public func pow(_ a: Tensor, _ p: Float) -> Tensor {
    var out = Tensor.broadcasting(PowK.self, a, Tensor(p), "pow")
    Tensor.recordUnary(&out, a) { g in p == 0 ? g * 0 : g * (pow(a, p - 1) * p) }
    return out
}

/// The larger of `a` and `b`, element-wise with broadcasting; at ties the gradient is split evenly.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
    var out = Tensor.broadcasting(MaxK.self, a, b, "maximum")
    Tensor.recordBinary(&out, a, b) { g in
        let wa = (a .> b) + (a .== b) * 0.5
        return ((g * wa).reduced(toShape: a.shape), (g * (1 - wa)).reduced(toShape: b.shape))
    }
    return out
}

/// The smaller of `a` and `b`, element-wise with broadcasting; at ties the gradient is split evenly.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
    var out = Tensor.broadcasting(MinK.self, a, b, "minimum")
    Tensor.recordBinary(&out, a, b) { g in
        let wa = (a .< b) + (a .== b) * 0.5
        return ((g * wa).reduced(toShape: a.shape), (g * (1 - wa)).reduced(toShape: b.shape))
    }
    return out
}

public func maximum(_ a: Tensor, _ b: Float) -> Tensor { maximum(a, Tensor(b)) }
public func minimum(_ a: Tensor, _ b: Float) -> Tensor { minimum(a, Tensor(b)) }
