extension Tensor {
    /// The matrix product `op(self) * op(other)` of two rank-2 tensors through BLAS `sgemm`, where `op` transposes
    /// when asked (without copying).
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "matmul: needs two matrices, got shapes \(shape) and \(other.shape)")
        let m = transposeSelf ? shape[1] : shape[0], k = transposeSelf ? shape[0] : shape[1]
        let k2 = transposeOther ? other.shape[1] : other.shape[0], n = transposeOther ? other.shape[0] : other.shape[1]
        precondition(
            k == k2,
            "matmul: inner extents differ: \(shape)\(transposeSelf ? "ᵀ" : "") x \(other.shape)\(transposeOther ? "ᵀ" : "")"
        )
        var out = Tensor(uninitialized: [m, n])
        if k == 0 {
            out.storage.pointer.update(repeating: 0, count: m * n)
        } else if m > 0 && n > 0 {
            BLAS.sgemm(
                transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k, alpha: 1,
                a: storage.pointer, lda: shape[1], b: other.storage.pointer, ldb: other.shape[1],
                beta: 0, c: out.storage.pointer, ldc: n)
        }
        out.tracking = .none
        let a = self, b = other, ta = transposeSelf, tb = transposeOther
        Tensor.recordBinary(&out, a, b) { g in
            let ga: Tensor?, gb: Tensor?
            switch (ta, tb) {
            case (false, false):
                ga = a.tracking.isTracked ? g.matmul(b, transposeOther: true) : nil
                gb = b.tracking.isTracked ? a.matmul(g, transposeSelf: true) : nil
            case (true, false):
                ga = a.tracking.isTracked ? b.matmul(g, transposeOther: true) : nil
                gb = b.tracking.isTracked ? a.matmul(g) : nil
            case (false, true):
                ga = a.tracking.isTracked ? g.matmul(b) : nil
                gb = b.tracking.isTracked ? g.matmul(a, transposeSelf: true) : nil
            case (true, true):
                ga = a.tracking.isTracked ? b.matmul(g, transposeSelf: true, transposeOther: true) : nil
                gb = b.tracking.isTracked ? g.matmul(a, transposeSelf: true, transposeOther: true) : nil
            }
            return (ga, gb)
        }
        return out
    }
}
