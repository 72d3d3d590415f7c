import TuneRandom

extension Tensor {
    /// Values drawn uniformly from [low, high).
    public static func uniform(_ shape: Shape, low: Float = 0, high: Float = 1, using rng: inout PhiloxRandom) -> Tensor
    {
        var t = Tensor(uninitialized: shape)
        let p = t.storage.pointer
        rng.fillUniform(UnsafeMutableBufferPointer(start: p, count: shape.count))
        for i in 0..<shape.count { p[i] = scaledUniform(p[i], low: low, high: high) }
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
    public static func normal(
        _ shape: Shape, mean: Float = 0, standardDeviation: Float = 1, using rng: inout PhiloxRandom
    ) -> Tensor {
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
