extension Tensor {
    /// Applies `K` to `a` and `b` broadcast together under NumPy rules.
    static func broadcasting<K: BinaryKernel>(_ k: K.Type, _ a: Tensor, _ b: Tensor, _ name: StaticString) -> Tensor {
        let pa = a.storage.pointer, pb = b.storage.pointer
        if a.shape == b.shape {
            let out = Tensor(uninitialized: a.shape)
            k.run(pa, 1, pb, 1, out.storage.pointer, a.count)
            return out
        }
        guard let shape = Shape.broadcast(a.shape, b.shape) else {
            preconditionFailure("\(name): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let out = Tensor(uninitialized: shape)
        let po = out.storage.pointer
        if b.count == 1 && shape == a.shape {
            k.run(pa, 1, pb, 0, po, a.count)
            return out
        }
        if a.count == 1 && shape == b.shape {
            k.run(pa, 0, pb, 1, po, b.count)
            return out
        }
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        let rowLength = shape.padded4.3
        forEachRow(of: shape, sa, sb) { offO, offA, offB in
            k.run(pa + offA, sa.3, pb + offB, sb.3, po + offO, rowLength)
        }
        return out
    }

    /// Walks the rows of `shape` (its last dimension, the other three of four right-aligned dimensions looped over),
    /// calling `body` with the row's offset in `shape` and in two operands whose broadcast strides are `sa` and `sb`.
    @inline(__always)
    static func forEachRow(
        of shape: Shape, _ sa: (Int, Int, Int, Int), _ sb: (Int, Int, Int, Int),
        _ body: (_ offset: Int, _ offsetA: Int, _ offsetB: Int) -> Void
    ) {
        let (o0, o1, o2, o3) = shape.padded4
        var offset = 0
        for i0 in 0..<o0 {
            for i1 in 0..<o1 {
                for i2 in 0..<o2 {
                    body(offset, i0 * sa.0 + i1 * sa.1 + i2 * sa.2, i0 * sb.0 + i1 * sb.1 + i2 * sb.2)
                    offset += o3
                }
            }
        }
    }

    /// Row-major strides of `shape` aligned to the four slots of `target`, 0 along broadcast dimensions.
    static func broadcastStrides(_ shape: Shape, to target: Shape) -> (Int, Int, Int, Int) {
        let (d0, d1, d2, d3) = shape.padded4
        let (t0, t1, t2, t3) = target.padded4
        let s3 = 1, s2 = d3, s1 = d3 * d2, s0 = d3 * d2 * d1
        return (d0 == t0 ? s0 : 0, d1 == t1 ? s1 : 0, d2 == t2 ? s2 : 0, d3 == t3 ? s3 : 0)
    }

    /// Sums this tensor down to `target`, the shape it was broadcast from (the reverse of broadcasting).
    func reduced(toShape target: Shape) -> Tensor {
        if shape == target { return self }
        precondition(
            Shape.broadcast(target, shape) == shape, "reduced(toShape:): \(target) does not broadcast to \(shape)")
        var out = Tensor.zeros(target)
        let po = out.storage.pointer, pg = storage.pointer
        let st = Tensor.broadcastStrides(target, to: shape)
        let rowLength = shape.padded4.3
        Tensor.forEachRow(of: shape, st, (0, 0, 0, 0)) { offG, offO, _ in
            if st.3 == 1 {
                addInto(po + offO, pg + offG, rowLength)
            } else {
                po[offO] += sumElements(pg + offG, rowLength)
            }
        }
        out.tracking = .none
        return out
    }

    /// `self += other` in place for equal shapes (used to accumulate gradients).
    mutating func addInPlace(_ other: Tensor) {
        precondition(shape == other.shape, "addInPlace: shapes \(shape) and \(other.shape) differ")
        makeUnique()
        addInto(storage.pointer, other.storage.pointer, count)
    }
}
