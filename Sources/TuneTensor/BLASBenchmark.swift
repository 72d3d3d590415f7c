import Foundation
import TuneRandom

/// Measures BLAS speed in this process.
public enum BLASBenchmark {
    /// sgemm speed in GFLOP/s for an `m x k` by `k x n` product, repeated for about `seconds` after one warm-up;
    /// the best of the timed repetitions (the least disturbed by other work on the machine).
    public static func gflops(m: Int, n: Int, k: Int, seconds: Double) -> Double {
        var rng = PhiloxRandom(seed: 1)
        let a = Tensor.uniform([m, k], low: -1, high: 1, using: &rng)
        let b = Tensor.uniform([k, n], low: -1, high: 1, using: &rng)
        var c = Tensor.zeros([m, n])
        let run = {
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        BLAS.sgemm(
                            transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1, a: pa.baseAddress!,
                            lda: k,
                            b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                    }
                }
            }
        }
        run()
        var best = Double.infinity
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let start = DispatchTime.now().uptimeNanoseconds
            run()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        } while Date() < deadline
        return 2 * Double(m) * Double(n) * Double(k) / best / 1e9
    }
}
