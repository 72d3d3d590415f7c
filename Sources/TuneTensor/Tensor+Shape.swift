extension Tensor {
    /// The same elements with another shape of the same size. Shares the buffer: no copy.
    public func reshaped(_ newShape: Shape) -> Tensor {
        precondition(newShape.count == count, "reshaped: shape \(shape) (\(count) elements) cannot become \(newShape)")
        var out = Tensor(shape: newShape, storage: storage)
        let original = shape
        Tensor.recordUnary(&out, self) { g in g.reshaped(original) }
        return out
    }

    /// The same elements with the extents `dims`, one of which may be -1 and is then inferred.
    public func reshaped(_ dims: [Int]) -> Tensor {
        guard let unknown = dims.firstIndex(of: -1) else { return reshaped(Shape(dims)) }
        let known = dims.enumerated().filter { $0.offset != unknown }.reduce(1) { $0 * $1.element }
        precondition(known > 0 && count % known == 0, "reshaped: cannot infer -1 in \(dims) for \(count) elements")
        var inferred = dims
        inferred[unknown] = count / known
        return reshaped(Shape(inferred))
    }

    /// This tensor repeated along its broadcast dimensions to fill `target` (NumPy broadcasting made explicit).
    public func expanded(to target: Shape) -> Tensor {
        if shape == target { return self }
        precondition(
            Shape.broadcast(shape, target) == target, "expanded(to:): \(shape) does not broadcast to \(target)")
        var out = Tensor(uninitialized: target)
        let px = storage.pointer, po = out.storage.pointer
        let s = Tensor.broadcastStrides(shape, to: target)
        let rowLength = target.padded4.3
        Tensor.forEachRow(of: target, s, (0, 0, 0, 0)) { offO, offX, _ in
            if s.3 == 1 {
                (po + offO).update(from: px + offX, count: rowLength)
            } else {
                (po + offO).update(repeating: px[offX], count: rowLength)
            }
        }
        let original = shape
        Tensor.recordUnary(&out, self) { g in g.reduced(toShape: original) }
        return out
    }

    /// The axes reordered: axis `i` of the result is axis `axes[i]` of this tensor.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(
            axes.count == rank && Set(axes) == Set(0..<rank),
            "permuted: \(axes) is not a permutation of the \(rank) axes")
        let dims = axes.map { shape[$0] }
        var out = Tensor(uninitialized: Shape(dims))
        // Strides of the source, in the order of the result's axes, padded to four slots on the left.
        var srcStrides = [Int](repeating: 0, count: rank)
        var stride = 1
        for d in stride_(from: rank - 1) { srcStrides[d] = stride; stride *= shape[d] }
        let padding = 4 - rank
        var e = [1, 1, 1, 1], st = [0, 0, 0, 0]
        for (i, a) in axes.enumerated() { e[i + padding] = dims[i]; st[i + padding] = srcStrides[a] }
        let px = storage.pointer, po = out.storage.pointer
        var k = 0
        for i0 in 0..<e[0] {
            for i1 in 0..<e[1] {
                for i2 in 0..<e[2] {
                    let base = i0 * st[0] + i1 * st[1] + i2 * st[2]
                    let s3 = st[3]
                    for i3 in 0..<e[3] { po[k] = px[base + i3 * s3]; k += 1 }
                }
            }
        }
        out.tracking = .none
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        Tensor.recordUnary(&out, self) { g in g.permuted(inverse) }
        return out
    }

    /// The last two axes swapped (the matrix transpose for rank 2).
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transposed: needs rank 2 or more, got shape \(shape)")
        var axes = Array(0..<rank)
        axes.swapAt(rank - 1, rank - 2)
        return permuted(axes)
    }

    /// The elements whose index along `axis` lies in `range` (a copy).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = shape.axis(axis)
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[ax],
            "slice: range \(range) out of bounds for axis \(axis) of shape \(shape)")
        let view = AxisView(shape, axis: ax)
        var dims = shape.dimensions
        dims[ax] = range.count
        var out = Tensor(uninitialized: Shape(dims))
        let px = storage.pointer, po = out.storage.pointer
        let chunk = range.count * view.inner
        for o in 0..<view.outer {
            (po + o * chunk).update(from: px + (o * view.length + range.lowerBound) * view.inner, count: chunk)
        }
        out.tracking = .none
        let original = shape
        Tensor.recordUnary(&out, self) { g in
            let gx = Tensor.zeros(original)
            let pg = g.storage.pointer, pgx = gx.storage.pointer
            for o in 0..<view.outer {
                (pgx + (o * view.length + range.lowerBound) * view.inner).update(from: pg + o * chunk, count: chunk)
            }
            return gx
        }
        return out
    }

    /// The rows (entries along axis 0) at `indices`, in that order; indices may repeat.
    public func gathering(rows indices: [Int]) -> Tensor {
        precondition(rank >= 1, "gathering(rows:): needs rank 1 or more")
        let n = shape[0], rowSize = n == 0 ? 0 : count / n
        var dims = shape.dimensions
        dims[0] = indices.count
        var out = Tensor(uninitialized: Shape(dims))
        let px = storage.pointer, po = out.storage.pointer
        for (r, i) in indices.enumerated() {
            precondition(i >= 0 && i < n, "gathering(rows:): row \(i) out of range 0..<\(n)")
            (po + r * rowSize).update(from: px + i * rowSize, count: rowSize)
        }
        out.tracking = .none
        let original = shape
        Tensor.recordUnary(&out, self) { g in
            let gx = Tensor.zeros(original)
            let pg = g.storage.pointer, pgx = gx.storage.pointer
            for (r, i) in indices.enumerated() { addInto(pgx + i * rowSize, pg + r * rowSize, rowSize) }
            return gx
        }
        return out
    }

    /// `tensors` joined along `axis`; all other extents must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0].shape
        let ax = first.axis(axis)
        var dims = first.dimensions
        dims[ax] = 0
        for t in tensors {
            precondition(t.rank == first.rank, "concatenate: ranks differ (\(first) and \(t.shape))")
            for d in 0..<first.rank where d != ax {
                precondition(
                    t.shape[d] == first[d], "concatenate: shapes \(first) and \(t.shape) differ outside axis \(axis)")
            }
            dims[ax] += t.shape[ax]
        }
        var out = Tensor(uninitialized: Shape(dims))
        let outView = AxisView(out.shape, axis: ax)
        let po = out.storage.pointer
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            let v = AxisView(t.shape, axis: ax)
            let chunk = v.length * v.inner
            for o in 0..<v.outer {
                (po + (o * outView.length + offset) * outView.inner).update(
                    from: t.storage.pointer + o * chunk, count: chunk)
            }
            offsets.append(offset)
            offset += v.length
        }
        out.tracking = .none
        guard tensors.contains(where: { $0.tracking.isTracked }),
            let tape = AutodiffContext.current.tapes.last,
            AutodiffContext.current.noGradientDepth == 0,
            tensors.contains(where: { $0.tracking.tape == tape.id })
        else { return out }
        let lengths = tensors.map { $0.shape[ax] }
        out.tracking = tape.append(tensors) { g in
            zip(offsets, lengths).map { g.slice(axis: ax, $0..<($0 + $1)) }
        }
        return out
    }
}

/// `n-1, n-2, ..., 0`.
@inline(__always) private func stride_(from n: Int) -> StrideThrough<Int> { stride(from: n, through: 0, by: -1) }
