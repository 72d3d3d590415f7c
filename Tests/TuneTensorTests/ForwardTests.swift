import Foundation
import Testing
@testable import TuneTensor

/// Forward values against hand-derived cases and the C library's functions in double precision.
@Suite("Forward values")
struct ForwardTests {
    /// Relative error of `f` against `reference` over a dense sweep of `range`.
    func worstRelativeError(_ range: ClosedRange<Float>, _ f: (Tensor) -> Tensor, _ reference: (Double) -> Double)
        -> Double
    {
        let n = 20_001
        let xs = (0..<n).map { range.lowerBound + (range.upperBound - range.lowerBound) * Float($0) / Float(n - 1) }
        let ys = f(Tensor(xs)).scalars
        var worst = 0.0
        for (x, y) in zip(xs, ys) {
            let r = reference(Double(x))
            let error = abs(Double(y) - r) / max(abs(r), 1e-30)
            worst = max(worst, error)
        }
        return worst
    }

    @Test func vectorisedExpIsAccurateToAboutOneULP() {
        #expect(worstRelativeError(-87...88, exp, Foundation.exp) < 3e-7)
        let special = exp(Tensor([0, -Float.infinity, Float.infinity, .nan, -100, 100, 88.7, -87.3])).scalars
        #expect(special[0] == 1)
        #expect(special[1] == 0)
        #expect(special[2] == .infinity)
        #expect(special[3].isNaN)
        #expect(special[4] == 0)
        #expect(special[5] == .infinity)
        #expect(abs(Double(special[6]) / Foundation.exp(Double(Float(88.7))) - 1) < 3e-7)
        #expect(abs(Double(special[7]) / Foundation.exp(Double(Float(-87.3))) - 1) < 3e-7)
    }

    @Test func vectorisedTanhAndSigmoid() {
        #expect(worstRelativeError(-9...9, tanh, Foundation.tanh) < 2e-6)
        #expect(worstRelativeError(-30...30, sigmoid, { 1 / (1 + Foundation.exp(-$0)) }) < 2e-6)
        #expect(tanh(Tensor([.nan])).scalars[0].isNaN)
        #expect(sigmoid(Tensor([-200, 200])).scalars == [0, 1])
    }

    @Test func activationValues() {
        let x = Tensor([-2, -0.5, 0, 0.5, 3])
        #expect(relu(x).scalars == [0, 0, 0, 0.5, 3])
        let s = swish(x).scalars
        for (v, xv) in zip(s, x.scalars) {
            let expected = Double(xv) / (1 + Foundation.exp(-Double(xv)))
            #expect(abs(Double(v) - expected) < 1e-6)
        }
        #expect(
            worstRelativeError(-20...30, softplus, { max($0, 0) + Foundation.log1p(Foundation.exp(-abs($0))) }) < 2e-6)
        // Softplus does not overflow where log(1 + exp(x)) would.
        #expect(softplus(Tensor([100])).scalars[0] == 100)
        #expect(
            worstRelativeError(-5...5, { gelu($0) }, { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) }) < 1e-5)
        let approx = gelu(Tensor([1]), approximate: .tanh).scalars[0]
        // 0.5 * (1 + tanh(sqrt(2/pi) * 1.044715)), by hand.
        let expected = 0.5 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * 1.044715))
        #expect(abs(Double(approx) - expected) < 1e-6)
    }

    @Test func softmaxIsStableAndNormalised() {
        let x = Tensor([[1000, 1001, 1002], [-1000, -1000, -1000], [0, 0, 5]])
        let p = softmax(x)
        for r in 0..<3 { #expect(abs(p.slice(axis: 0, r..<(r + 1)).sum().scalar - 1) < 1e-6) }
        // exp(0) : exp(1) : exp(2) normalised, by hand.
        let e = [1.0, Foundation.exp(1.0), Foundation.exp(2.0)]
        let z = e.reduce(0, +)
        for j in 0..<3 { #expect(abs(Double(p[0, j]) - e[j] / z) < 1e-6) }
        #expect(abs(p[1, 0] - 1.0 / 3) < 1e-6)
        let lse = logSumExp(Tensor([[1000, 1000]]))
        #expect(abs(lse.scalars[0] - (1000 + Float(Foundation.log(2.0)))) < 1e-3)
        // A row of -inf has log-sum-exp -inf, not NaN.
        #expect(logSumExp(Tensor([[-Float.infinity, -Float.infinity]])).scalars[0] == -.infinity)
    }

    @Test func arithmeticAndBroadcastingByHand() {
        let m = Tensor([[1, 2, 3], [4, 5, 6]])
        #expect((m + Tensor([10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
        #expect((m * Tensor([[2], [3]])).scalars == [2, 4, 6, 12, 15, 18])
        #expect((Tensor([[1], [2]]) - Tensor([1, 2, 3])).scalars == [0, -1, -2, 1, 0, -1])
        #expect((m / 2).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
        #expect((1 / Tensor([4])).scalars == [0.25])
        #expect(pow(Tensor([2, 3]), 3).scalars == [8, 27])
        #expect(maximum(Tensor([1, 5, .nan]), Tensor([3, 2, 0])).scalars[0...1] == [3, 5])
        #expect(maximum(Tensor([1, 5, .nan]), Tensor([3, 2, 0])).scalars[2].isNaN)
        #expect(minimum(Tensor([1, 5]), Tensor([3, 2])).scalars == [1, 2])
        #expect(sqrt(Tensor([4, 9])).scalars == [2, 3])
        #expect(abs(Tensor([-1.5, 2])).scalars == [1.5, 2])
        // Shapes [2, 1, 3] and [4, 1] broadcast to [2, 4, 3].
        let big = Tensor.ones([2, 1, 3]) + Tensor(shape: [4, 1], scalars: [0, 1, 2, 3])
        #expect(big.shape == [2, 4, 3])
        #expect(big[1, 2, 0] == 3)
        // Long rows exercise the vector loop and its scalar tail.
        let long = Tensor.arange(37) * Tensor.arange(37)
        #expect(long.scalars == (0..<37).map { Float($0 * $0) })
    }

    @Test func comparisonsAndMasks() {
        let x = Tensor([1, 2, 3]), y = Tensor([3, 2, 1])
        #expect((x .< y).scalars == [1, 0, 0])
        #expect((x .<= y).scalars == [1, 1, 0])
        #expect((x .> y).scalars == [0, 0, 1])
        #expect((x .>= y).scalars == [0, 1, 1])
        #expect((x .== y).scalars == [0, 1, 0])
        #expect((x .!= 2).scalars == [1, 0, 1])
        #expect(Tensor.select(x .> 1, x, Tensor(-1)).scalars == [-1, 2, 3])
        // An infinite value in the branch not taken does not turn into NaN.
        #expect(Tensor.select(Tensor([0, 1]), Tensor([.infinity, 1]), Tensor([2, 2])).scalars == [2, 1])
    }

    @Test func reductionsByHand() {
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        #expect(x.sum().scalar == 21)
        #expect(x.mean().scalar == 3.5)
        #expect(x.sum(axis: 0).scalars == [5, 7, 9])
        #expect(x.sum(axis: 1).scalars == [9, 12])
        #expect(x.sum(axis: 1, keepingDimension: true).shape == [2, 1])
        #expect(x.mean(axis: -1).scalars == [3, 4])
        #expect(x.max(axis: 0).scalars == [4, 5, 6])
        #expect(x.max(axis: 1).scalars == [5, 6])
        #expect(x.argmax(axis: 1).scalars == [1, 2])
        #expect(x.argmax(axis: 0).scalars == [1, 0, 1])
        #expect(Tensor([3, 7, 7, 1]).argmax(axis: 0).scalars == [1], "the first of tied maxima")
        let cube = Tensor.arange(24).reshaped([2, 3, 4])
        #expect(cube.sum(axis: 1).scalars == [12, 15, 18, 21, 48, 51, 54, 57])
        #expect(Tensor.arange(100).sum().scalar == 4950)
    }

    @Test func shapeOperationsByHand() {
        let x = Tensor.arange(6).reshaped([2, 3])
        #expect(x.transposed().scalars == [0, 3, 1, 4, 2, 5])
        #expect(x.transposed().shape == [3, 2])
        #expect(x.reshaped([3, -1]).shape == [3, 2])
        #expect(x.slice(axis: 1, 1..<3).scalars == [1, 2, 4, 5])
        #expect(x.gathering(rows: [1, 1, 0]).scalars == [3, 4, 5, 3, 4, 5, 0, 1, 2])
        #expect(Tensor.concatenate([x, x * 10], axis: 1).scalars == [0, 1, 2, 0, 10, 20, 3, 4, 5, 30, 40, 50])
        #expect(Tensor.concatenate([x, x], axis: 0).shape == [4, 3])
        let cube = Tensor.arange(24).reshaped([2, 3, 4])
        let p = cube.permuted([2, 0, 1])
        #expect(p.shape == [4, 2, 3])
        #expect(p[3, 1, 2] == cube[1, 2, 3])
        #expect(Tensor([1, 2]).expanded(to: [2, 2]).scalars == [1, 2, 1, 2])
    }

    @Test func matmulAgreesWithALoopForEveryTranspose() {
        let a = uniform([7, 5], -1, 1, seed: 40), b = uniform([5, 6], -1, 1, seed: 41)
        func naive(_ x: Tensor, _ y: Tensor) -> [Float] {
            var out: [Float] = []
            for i in 0..<x.shape[0] {
                for j in 0..<y.shape[1] {
                    var s = 0.0
                    for l in 0..<x.shape[1] { s += Double(x[i, l]) * Double(y[l, j]) }
                    out.append(Float(s))
                }
            }
            return out
        }
        let expected = Tensor(shape: [7, 6], scalars: naive(a, b))
        #expect(a.matmul(b).isClose(to: expected, tolerance: 1e-6))
        #expect(a.transposed().matmul(b, transposeSelf: true).isClose(to: expected, tolerance: 1e-6))
        #expect(a.matmul(b.transposed(), transposeOther: true).isClose(to: expected, tolerance: 1e-6))
        #expect(
            a.transposed().matmul(b.transposed(), transposeSelf: true, transposeOther: true).isClose(
                to: expected, tolerance: 1e-6))
        #expect(Tensor.zeros([3, 0]).matmul(Tensor.zeros([0, 2])).scalars == [0, 0, 0, 0, 0, 0])
    }

    @Test func copyOnWriteKeepsValuesIndependent() {
        var x = Tensor([1, 2, 3])
        let y = x
        x[1] = 20
        #expect(y.scalars == [1, 2, 3])
        #expect(x.scalars == [1, 20, 3])
        let r = x.reshaped([3, 1])
        x[0] = 10
        #expect(r.scalars == [1, 20, 3], "a reshaped view keeps its values when the original is written")
    }

    @Test func emptyTensorsAreValid() {
        let e = Tensor(shape: [0, 3], scalars: [])
        #expect(e.count == 0)
        #expect(e.scalars.isEmpty)
        #expect((e + Tensor([1, 2, 3])).shape == [0, 3])
        #expect(e.sum().scalar == 0)
        #expect(e.sum(axis: 0).scalars == [0, 0, 0])
    }

    @Test func shapeBroadcastRules() {
        #expect(Shape.broadcast([3, 1], [1, 4]) == [3, 4])
        #expect(Shape.broadcast([5, 3, 4], [4]) == [5, 3, 4])
        #expect(Shape.broadcast([], [2, 2]) == [2, 2])
        #expect(Shape.broadcast([3], [4]) == nil)
        #expect(Shape.broadcast([2, 3], [3, 3]) == nil)
        #expect(Shape([2, 3, 4]).count == 24)
        #expect(Shape.scalar.count == 1)
    }
}
