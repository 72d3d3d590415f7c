import Foundation
import Testing
import TuneTensor

/// Every differentiable operation, checked against central finite differences.
@Suite("Gradients match finite differences")
struct GradientTests {
    let a = uniform([3, 4], -1.5, 1.5, seed: 1)
    let b = uniform([3, 4], -1.5, 1.5, seed: 2)
    let positive = uniform([3, 4], 0.5, 2.0, seed: 3)
    let row = uniform([4], -1, 1, seed: 4)
    let column = uniform([3, 1], -1, 1, seed: 5)

    func expectPasses(_ result: GradientCheckResult, _ comment: Comment) {
        #expect(result.failures.isEmpty, "\(comment): \(result)")
        #expect(result.checked > 0)
    }

    @Test func addWithBroadcasting() {
        expectPasses(gradientCheck([a, b]) { $0[0] + $0[1] }, "a + b")
        expectPasses(gradientCheck([a, row]) { $0[0] + $0[1] }, "matrix + row")
        expectPasses(gradientCheck([a, column]) { $0[0] + $0[1] }, "matrix + column")
        expectPasses(gradientCheck([column, row]) { $0[0] + $0[1] }, "column + row (outer)")
        expectPasses(gradientCheck([a]) { $0[0] + 3 }, "a + scalar")
    }

    @Test func subtractWithBroadcasting() {
        expectPasses(gradientCheck([a, b]) { $0[0] - $0[1] }, "a - b")
        expectPasses(gradientCheck([a, row]) { $0[0] - $0[1] }, "matrix - row")
        expectPasses(gradientCheck([column, a]) { $0[0] - $0[1] }, "column - matrix")
        expectPasses(gradientCheck([a]) { 2 - $0[0] }, "scalar - a")
    }

    @Test func multiplyWithBroadcasting() {
        expectPasses(gradientCheck([a, b]) { $0[0] * $0[1] }, "a * b")
        expectPasses(gradientCheck([a, row]) { $0[0] * $0[1] }, "matrix * row")
        expectPasses(gradientCheck([column, a]) { $0[0] * $0[1] }, "column * matrix")
        expectPasses(gradientCheck([a]) { $0[0] * $0[0] }, "a * a (the same input twice)")
    }

    @Test func divideWithBroadcasting() {
        expectPasses(gradientCheck([a, positive]) { $0[0] / $0[1] }, "a / b")
        expectPasses(gradientCheck([positive, row]) { $0[1] / $0[0] }, "row / matrix")
        expectPasses(gradientCheck([positive]) { 1 / $0[0] }, "scalar / a")
    }

    @Test func negationAndSquare() {
        expectPasses(gradientCheck([a]) { -$0[0] }, "-a")
        expectPasses(gradientCheck([a]) { $0[0].squared() }, "a²")
    }

    @Test func exponentialsAndRoots() {
        expectPasses(gradientCheck([a]) { exp($0[0]) }, "exp")
        expectPasses(gradientCheck([positive]) { log($0[0]) }, "log")
        expectPasses(gradientCheck([positive]) { sqrt($0[0]) }, "sqrt")
        expectPasses(gradientCheck([awayFromZero([3, 4], seed: 9)]) { abs($0[0]) }, "abs")
    }

    @Test func powers() {
        expectPasses(gradientCheck([positive, a]) { pow($0[0], $0[1]) }, "pow(tensor, tensor)")
        expectPasses(gradientCheck([positive]) { pow($0[0], 2.5) }, "pow(tensor, 2.5)")
        expectPasses(gradientCheck([positive, row]) { pow($0[0], $0[1]) }, "pow with a broadcast exponent")
    }

    @Test func powersAtABaseOfZeroHaveFiniteGradients() {
        // d/dx x^0 = 0 everywhere, and d/db a^b = a^b log a is 0 at a = 0 for b > 0 (the limit), as in PyTorch.
        let (_, g0) = valueAndGradient(at: Tensor([0, 2])) { pow($0, 0).sum() }
        #expect(g0.scalars == [0, 0])
        let (_, gb) = valueAndGradient(at: Tensor([2, 2])) { b in pow(Tensor([0, 2]), b).sum() }
        #expect(gb.scalars[0] == 0)
        #expect(abs(gb.scalars[1] - 4 * Float(Foundation.log(2.0))) < 1e-5)
    }

    @Test func maximumAndMinimum() {
        // a and b are independent draws, so they never tie.
        expectPasses(gradientCheck([a, b]) { maximum($0[0], $0[1]) }, "maximum")
        expectPasses(gradientCheck([a, b]) { minimum($0[0], $0[1]) }, "minimum")
        expectPasses(gradientCheck([awayFromZero([3, 4], seed: 10)]) { maximum($0[0], 0) }, "maximum with a scalar")
    }

    @Test func activations() {
        let x = awayFromZero([3, 5], seed: 11) * 2
        expectPasses(gradientCheck([x]) { relu($0[0]) }, "relu")
        expectPasses(gradientCheck([x]) { sigmoid($0[0]) }, "sigmoid")
        expectPasses(gradientCheck([x]) { tanh($0[0]) }, "tanh")
        expectPasses(gradientCheck([x]) { swish($0[0]) }, "swish")
        expectPasses(gradientCheck([x]) { softplus($0[0]) }, "softplus")
        expectPasses(gradientCheck([x]) { gelu($0[0]) }, "gelu (exact)")
        expectPasses(gradientCheck([x]) { gelu($0[0], approximate: .tanh) }, "gelu (tanh)")
    }

    @Test func softmaxFamily() {
        let x = uniform([3, 5], -3, 3, seed: 12)
        expectPasses(gradientCheck([x]) { softmax($0[0]) }, "softmax over the last axis")
        expectPasses(gradientCheck([x]) { softmax($0[0], axis: 0) }, "softmax over axis 0")
        expectPasses(gradientCheck([x]) { logSoftmax($0[0]) }, "logSoftmax")
        expectPasses(gradientCheck([x]) { logSumExp($0[0]) }, "logSumExp")
        expectPasses(gradientCheck([x]) { logSumExp($0[0], axis: 0, keepingDimension: true) }, "logSumExp over axis 0")
    }

    @Test func reductions() {
        let x = uniform([2, 3, 4], -1, 1, seed: 13)
        expectPasses(gradientCheck([x]) { $0[0].sum() }, "sum")
        expectPasses(gradientCheck([x]) { $0[0].mean() }, "mean")
        for axis in [0, 1, 2, -1] {
            expectPasses(gradientCheck([x]) { $0[0].sum(axis: axis) }, "sum over axis \(axis)")
            expectPasses(
                gradientCheck([x]) { $0[0].mean(axis: axis, keepingDimension: true) }, "mean over axis \(axis)")
            expectPasses(gradientCheck([x]) { $0[0].max(axis: axis) }, "max over axis \(axis)")
        }
    }

    @Test func shapeOperations() {
        let x = uniform([2, 3, 4], -1, 1, seed: 14)
        expectPasses(gradientCheck([x]) { $0[0].reshaped([6, 4]) * $0[0].reshaped([6, 4]) }, "reshape")
        expectPasses(gradientCheck([a]) { $0[0].transposed() * uniform([4, 3], -1, 1, seed: 15) }, "transpose")
        expectPasses(gradientCheck([x]) { $0[0].permuted([2, 0, 1]) }, "permute")
        expectPasses(gradientCheck([x]) { $0[0].slice(axis: 1, 1..<3) }, "slice")
        expectPasses(gradientCheck([a]) { $0[0].gathering(rows: [2, 0, 2, 1]) }, "row gather with a repeated row")
        expectPasses(
            gradientCheck([a, b]) { Tensor.concatenate([$0[0], $0[1], $0[0]], axis: 0) }, "concatenate on axis 0")
        expectPasses(
            gradientCheck([a, column]) { Tensor.concatenate([$0[0], $0[1]], axis: 1) }, "concatenate on axis 1")
        expectPasses(gradientCheck([row]) { $0[0].expanded(to: [3, 4]) }, "expand")
        expectPasses(gradientCheck([a, b]) { Tensor.select(a .> 0, $0[0], $0[1]) }, "select")
    }

    @Test func matrixProducts() {
        let x = uniform([3, 4], -1, 1, seed: 16), y = uniform([4, 5], -1, 1, seed: 17)
        expectPasses(gradientCheck([x, y]) { $0[0].matmul($0[1]) }, "x · y")
        expectPasses(gradientCheck([x.transposed(), y]) { $0[0].matmul($0[1], transposeSelf: true) }, "xᵀ · y")
        expectPasses(gradientCheck([x, y.transposed()]) { $0[0].matmul($0[1], transposeOther: true) }, "x · yᵀ")
        expectPasses(
            gradientCheck([x.transposed(), y.transposed()]) {
                $0[0].matmul($0[1], transposeSelf: true, transposeOther: true)
            }, "xᵀ · yᵀ")
    }

    @Test func aSmallNetworkEndToEnd() {
        let x = uniform([5, 3], -1, 1, seed: 18)
        let w1 = uniform([3, 4], -1, 1, seed: 19), b1 = uniform([4], -0.1, 0.1, seed: 20)
        let w2 = uniform([4, 2], -1, 1, seed: 21)
        let labels = Tensor([[1, 0], [0, 1], [1, 0], [1, 0], [0, 1]])
        expectPasses(
            gradientCheck([w1, b1, w2]) { p in
                let logits = swish(x.matmul(p[0]) + p[1]).matmul(p[2])
                return -(logSoftmax(logits) * labels).sum() / 5
            }, "two-layer network with cross-entropy")
    }
}

@Suite("The gradient checker itself")
struct GradientCheckerTests {
    @Test func detectsAGradientThatIgnoresAPath() {
        // x.detached() * x has derivative 2x, but the tape sees only one path (derivative x): the check must fail.
        let x = uniform([2, 3], 0.5, 1.5, seed: 30)
        let result = gradientCheck([x]) { $0[0].detached() * $0[0] }
        #expect(result.failures.count == 6, "\(result)")
    }
}
