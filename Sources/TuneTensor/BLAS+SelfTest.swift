import Foundation
import TuneRandom

// BLAS's check of a backend's product, and the portable product used when no library passes it.
extension BLAS {
    /// Checks a backend's product against a double-precision reference on shapes that exercise the edge kernels,
    /// every transpose combination and (at 128 x 96 x 112) the blocked, threaded path.
    static func selfTest(_ backend: Backend) -> BLASSelfTest {
        var worst = 0.0
        let cases: [(Int, Int, Int, Bool, Bool)] = [
            (37, 29, 45, false, false), (19, 33, 27, true, false),
            (23, 17, 31, false, true), (13, 21, 40, true, true),
            (128, 96, 112, false, false)
        ]
        var rng = PhiloxRandom(seed: 0x5EED)
        for (m, n, k, ta, tb) in cases {
            let a = (0..<(m * k)).map { _ in rng.nextUniformFloat() * 2 - 1 }
            let b = (0..<(k * n)).map { _ in rng.nextUniformFloat() * 2 - 1 }
            var c = [Float](repeating: 0.5, count: m * n)
            let lda = ta ? m : k, ldb = tb ? k : n
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        backend.sgemm(
                            ta, tb, m, n, k, 1.5, pa.baseAddress!, lda, pb.baseAddress!, ldb, 0.25, pc.baseAddress!, n)
                    }
                }
            }
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0, scale = 0.0
                    for l in 0..<k {
                        let av = Double(ta ? a[l * lda + i] : a[i * lda + l])
                        let bv = Double(tb ? b[j * ldb + l] : b[l * ldb + j])
                        sum += av * bv
                        scale += abs(av * bv)
                    }
                    let expected = 1.5 * sum + 0.25 * 0.5
                    let error = abs(Double(c[i * n + j]) - expected) / (1.5 * scale + 0.125)
                    if !(error <= worst) { worst = error.isNaN ? .infinity : error }
                }
            }
        }
        return BLASSelfTest(passed: worst < 1e-5, maxRelativeError: worst)
    }

    /// The portable product, used when no BLAS library works. Loops ordered so the inner loop is contiguous.
    static func referenceSgemm(
        _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        var row = [Float](repeating: 0, count: n)
        for i in 0..<m {
            for j in 0..<n { row[j] = 0 }
            for l in 0..<k {
                let av = ta ? a[l * lda + i] : a[i * lda + l]
                if tb {
                    for j in 0..<n { row[j] += av * b[j * ldb + l] }
                } else {
                    let bl = b + l * ldb
                    for j in 0..<n { row[j] += av * bl[j] }
                }
            }
            let ci = c + i * ldc
            for j in 0..<n { ci[j] = alpha * row[j] + (beta == 0 ? 0 : beta * ci[j]) }
        }
    }
}
