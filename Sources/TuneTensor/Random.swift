import Foundation

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based generator.
///
/// The same seed always gives the same stream on every platform; it matches Random123's known-answer vectors.
/// Streams for parallel work are made with different `stream` values instead of by splitting state.
public struct PhiloxRandom: RandomNumberGenerator, Sendable {
    private var key: (UInt32, UInt32)
    private var counter: (UInt32, UInt32, UInt32, UInt32)
    private var buffer: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    private var used = 4

    /// A generator for `seed`; `stream` selects an independent stream for the same seed.
    public init(seed: UInt64, stream: UInt64 = 0) {
        key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        counter = (0, 0, UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32))
    }

    /// The Philox4x32-10 block function: ten rounds on `counter` under `key`.
    public static func block(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var c = counter, k = key
        for round in 0..<10 {
            if round > 0 {
                k.0 &+= 0x9E37_79B9
                k.1 &+= 0xBB67_AE85
            }
            let p0 = UInt64(0xD251_1F53) * UInt64(c.0)
            let p1 = UInt64(0xCD9E_8D57) * UInt64(c.2)
            c = (UInt32(truncatingIfNeeded: p1 >> 32) ^ c.1 ^ k.0, UInt32(truncatingIfNeeded: p1),
                 UInt32(truncatingIfNeeded: p0 >> 32) ^ c.3 ^ k.1, UInt32(truncatingIfNeeded: p0))
        }
        return c
    }

    /// The next 32 random bits.
    public mutating func next32() -> UInt32 {
        if used == 4 {
            buffer = Self.block(counter: counter, key: key)
            used = 0
            counter.0 &+= 1
            if counter.0 == 0 { counter.1 &+= 1 }
        }
        defer { used += 1 }
        switch used {
        case 0: return buffer.0
        case 1: return buffer.1
        case 2: return buffer.2
        default: return buffer.3
        }
    }

    public mutating func next() -> UInt64 {
        UInt64(next32()) << 32 | UInt64(next32())
    }

    /// A uniform `Float` in [0, 1), with 24 random bits.
    public mutating func nextUniformFloat() -> Float {
        Float(next32() >> 8) * 0x1p-24
    }

    /// A pair of independent standard normal values (Box-Muller).
    public mutating func nextNormalPair() -> (Float, Float) {
        let u1 = (Double(next32() >> 8) + 1) * 0x1p-24  // (0, 1]
        let u2 = Double(next32() >> 8) * 0x1p-24
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        return (Float(r * Foundation.cos(theta)), Float(r * Foundation.sin(theta)))
    }
}

extension Tensor {
    /// Values drawn uniformly from [low, high).
    public static func uniform(_ shape: Shape, low: Float = 0, high: Float = 1, using rng: inout PhiloxRandom) -> Tensor {
        var t = Tensor(uninitialized: shape)
        let p = t.storage.pointer
        for i in 0..<shape.count { p[i] = scaledUniform(rng.nextUniformFloat(), low: low, high: high) }
        t.tracking = .none
        return t
    }

    /// `u` in [0, 1) mapped to [low, high). `low + (high - low) * u` alone can round up to `high` (for u = 1 - 2^-24
    /// when low and high share a binade), so the result is capped at the largest value below `high`.
    static func scaledUniform(_ u: Float, low: Float, high: Float) -> Float {
        let top = high > low ? high.nextDown : low
        return Swift.min(low + (high - low) * u, top)
    }

    /// Values drawn from a normal distribution.
    public static func normal(_ shape: Shape, mean: Float = 0, standardDeviation: Float = 1, using rng: inout PhiloxRandom) -> Tensor {
        var t = Tensor(uninitialized: shape)
        let p = t.storage.pointer
        var i = 0
        while i < shape.count {
            let (a, b) = rng.nextNormalPair()
            p[i] = mean + standardDeviation * a
            if i + 1 < shape.count { p[i + 1] = mean + standardDeviation * b }
            i += 2
        }
        t.tracking = .none
        return t
    }
}
