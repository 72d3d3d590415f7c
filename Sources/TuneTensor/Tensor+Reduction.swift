/// A tensor seen as `[outer, length, inner]` around one axis, the layout every axis reduction walks.
struct AxisView {
    let outer: Int, length: Int, inner: Int
    init(_ shape: Shape, axis: Int) {
        var o = 1, i = 1
        for d in 0..<axis { o *= shape[d] }
        for d in (axis + 1)..<shape.rank { i *= shape[d] }
        outer = o; length = shape[axis]; inner = i
    }
}

extension Tensor {
    /// The sum of all elements, as a scalar tensor.
    public func sum() -> Tensor {
        var out = Tensor(sumElements(storage.pointer, count))
        let shape = self.shape
        Tensor.recordUnary(&out, self) { g in g.expanded(to: shape) }
        return out
    }

    /// The mean of all elements, as a scalar tensor.
    public func mean() -> Tensor {
        sum() / Float(Swift.max(count, 1))
    }

    /// The sum along `axis` (negative counts from the end); `keepingDimension` leaves it with extent 1.
    public func sum(axis: Int, keepingDimension: Bool = false) -> Tensor {
        let ax = shape.axis(axis)
        let view = AxisView(shape, axis: ax)
        var out = Tensor.zeros(shape.removing(axis: ax, keepingDimension: keepingDimension))
        let px = storage.pointer, po = out.storage.pointer
        for o in 0..<view.outer {
            let base = px + o * view.length * view.inner
            if view.inner == 1 {
                po[o] = sumElements(base, view.length)
            } else {
                let row = po + o * view.inner
                for l in 0..<view.length { addInto(row, base + l * view.inner, view.inner) }
            }
        }
        let shape = self.shape, kept = shape.removing(axis: ax, keepingDimension: true)
        Tensor.recordUnary(&out, self) { g in g.reshaped(kept).expanded(to: shape) }
        return out
    }

    /// The mean along `axis` (negative counts from the end).
    public func mean(axis: Int, keepingDimension: Bool = false) -> Tensor {
        sum(axis: axis, keepingDimension: keepingDimension) / Float(Swift.max(shape[shape.axis(axis)], 1))
    }

    /// The maximum along `axis`; the gradient goes to the first position holding the maximum.
    public func max(axis: Int, keepingDimension: Bool = false) -> Tensor {
        let ax = shape.axis(axis)
        let view = AxisView(shape, axis: ax)
        precondition(view.length > 0, "max(axis:): axis \(axis) of shape \(shape) is empty")
        let indices = argmaxIndices(view)
        var out = Tensor(uninitialized: shape.removing(axis: ax, keepingDimension: keepingDimension))
        let px = storage.pointer, po = out.storage.pointer
        for o in 0..<view.outer {
            for i in 0..<view.inner {
                po[o * view.inner + i] = px[(o * view.length + indices[o * view.inner + i]) * view.inner + i]
            }
        }
        out.tracking = .none
        let shape = self.shape
        Tensor.recordUnary(&out, self) { g in
            var gx = Tensor.zeros(shape)
            let pg = g.storage.pointer, pgx = gx.storage.pointer
            for o in 0..<view.outer {
                for i in 0..<view.inner {
                    pgx[(o * view.length + indices[o * view.inner + i]) * view.inner + i] = pg[o * view.inner + i]
                }
            }
            gx.tracking = .none
            return gx
        }
        return out
    }

    /// The index of the maximum along `axis` (the first one on ties; a NaN counts as the maximum), as `Float`s.
    public func argmax(axis: Int, keepingDimension: Bool = false) -> Tensor {
        let ax = shape.axis(axis)
        let view = AxisView(shape, axis: ax)
        precondition(view.length > 0, "argmax(axis:): axis \(axis) of shape \(shape) is empty")
        let indices = argmaxIndices(view)
        return Tensor(
            shape: shape.removing(axis: ax, keepingDimension: keepingDimension), scalars: indices.map { Float($0) })
    }

    private func argmaxIndices(_ view: AxisView) -> [Int] {
        var result = [Int](repeating: 0, count: view.outer * view.inner)
        let px = storage.pointer
        for o in 0..<view.outer {
            for i in 0..<view.inner {
                var best = px[o * view.length * view.inner + i], bestIndex = 0
                if !best.isNaN {
                    for l in 1..<Swift.max(view.length, 1) {
                        let v = px[(o * view.length + l) * view.inner + i]
                        if v.isNaN { bestIndex = l; break }
                        if v > best { best = v; bestIndex = l }
                    }
                }
                result[o * view.inner + i] = bestIndex
            }
        }
        return result
    }
}
