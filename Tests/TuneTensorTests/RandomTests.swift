import Testing
@testable import TuneTensor
import TuneRandom

@Suite("Seeded random numbers")
struct RandomTests {
    /// Random123's known-answer vectors for Philox4x32-10 (tests/kat_vectors: counter, key, expected output).
    @Test func philoxMatchesRandom123KnownAnswers() {
        let cases: [((UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32), [UInt32])] = [
            ((0, 0, 0, 0), (0, 0), [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
            (
                (0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), (0xffff_ffff, 0xffff_ffff),
                [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
            ),
            (
                (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), (0xa409_3822, 0x299f_31d0),
                [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
            )
        ]
        for (counter, key, expected) in cases {
            let out = PhiloxRandom.block(counter: counter, key: key)
            #expect([out.0, out.1, out.2, out.3] == expected)
        }
    }

    @Test func theStreamStartsAtCounterZeroUnderTheSeed() {
        var rng = PhiloxRandom(seed: 0)
        #expect(
            [rng.next32(), rng.next32(), rng.next32(), rng.next32()] == [
                0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8
            ])
    }

    @Test func bulkUniformDrawsEqualOneByOneDraws() {
        // Start mid-block (3 values drawn) so that the buffered values, whole blocks and a partial tail all take part.
        for stream: UInt64 in [0, 1 << 40] {
            var a = PhiloxRandom(seed: 77, stream: stream), b = a
            for _ in 0..<3 { _ = a.nextUniformFloat(); _ = b.nextUniformFloat() }
            var bulk = [Float](repeating: 0, count: 103)
            bulk.withUnsafeMutableBufferPointer { a.fillUniform($0) }
            let single = (0..<103).map { _ in b.nextUniformFloat() }
            #expect(bulk == single)
            #expect(a.next32() == b.next32(), "both generators continue from the same place")
        }
    }

    @Test func sameSeedSameValuesOtherSeedOtherValues() {
        var a = PhiloxRandom(seed: 123), b = PhiloxRandom(seed: 123), c = PhiloxRandom(seed: 124)
        let x = Tensor.normal([100], using: &a), y = Tensor.normal([100], using: &b),
            z = Tensor.normal([100], using: &c)
        #expect(x.scalars == y.scalars)
        #expect(x.scalars != z.scalars)
        var s0 = PhiloxRandom(seed: 5, stream: 0), s1 = PhiloxRandom(seed: 5, stream: 1)
        #expect(s0.next32() != s1.next32())
    }

    @Test func uniformNeverReturnsItsUpperBound() {
        // The largest draw, 1 - 2^-24, scaled into [1, 2) rounds to 2 in Float arithmetic: it must be capped below 2.
        let largest = Float(0xFF_FFFF) * 0x1p-24
        #expect(Float(1) + Float(1) * largest == 2, "the rounding this test guards against")
        #expect(Tensor.scaledUniform(largest, low: 1, high: 2) == Float(2).nextDown)
        #expect(Tensor.scaledUniform(largest, low: -1, high: 1) < 1)
        #expect(Tensor.scaledUniform(0, low: 1, high: 2) == 1)
    }

    @Test func uniformAndNormalHaveTheirMoments() {
        var rng = PhiloxRandom(seed: 2024)
        let n = 200_000
        let u = Tensor.uniform([n], low: -1, high: 3, using: &rng).scalars
        #expect(u.allSatisfy { $0 >= -1 && $0 < 3 })
        let uMean = u.reduce(0.0) { $0 + Double($1) } / Double(n)
        // Mean 1, standard error sqrt(16/12/n) ≈ 0.0026: 5 standard errors.
        #expect(abs(uMean - 1) < 0.013)
        let z = Tensor.normal([n], mean: 2, standardDeviation: 0.5, using: &rng).scalars.map(Double.init)
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        #expect(abs(mean - 2) < 0.006)
        #expect(abs(variance.squareRoot() - 0.5) < 0.005)
    }
}
