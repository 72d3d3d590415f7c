import Testing
@testable import TuneTensor

@Suite("The gradient tape")
struct GradientTapeTests {
    @Test func gradientOfAPolynomialByHand() {
        // f(x) = sum(x^3 + 2x), f'(x) = 3x^2 + 2.
        let (value, grad) = valueAndGradient(at: Tensor([1, 2, -1])) { x in (x * x * x + x * 2).sum() }
        #expect(value.scalar == 3 + 12 - 3)
        #expect(grad.scalars == [5, 14, 5])
    }

    @Test func inputsTheOutputIgnoresGetZeroGradients() {
        let (_, grads) = valueAndGradient(at: [Tensor([1, 2]), Tensor([3, 4])]) { p in (p[0] * 2).sum() }
        #expect(grads[0].scalars == [2, 2])
        #expect(grads[1].scalars == [0, 0])
        let (_, constant) = valueAndGradient(at: Tensor([1, 2])) { _ in Tensor(5) }
        #expect(constant.scalars == [0, 0])
    }

    @Test func noGradientScopeRecordsNothing() {
        let tape = GradientTape()
        tape.record {
            let x = tape.watch(Tensor([1, 2, 3]))
            let before = tape.nodeCount
            let y = withoutGradient { exp(x) * 2 }
            #expect(tape.nodeCount == before)
            #expect(!y.isTracked)
            let z = (x * 2).sum()
            #expect(z.isTracked)
            #expect(tape.gradient(of: z, withRespectTo: [x])[0].scalars == [2, 2, 2])
        }
    }

    @Test func detachedValuesStopTheGradient() {
        let (_, grad) = valueAndGradient(at: Tensor([3])) { x in (x * x.detached()).sum() }
        #expect(grad.scalars == [3], "only the tracked factor contributes")
    }

    @Test func operationsOutsideARecordingTapeAreNotTracked() {
        let tape = GradientTape()
        let x = tape.record { tape.watch(Tensor([1])) }
        let y = x * 2  // the tape no longer records here
        #expect(!y.isTracked)
    }

    @Test func seedsGiveVectorJacobianProducts() {
        let tape = GradientTape()
        tape.record {
            let x = tape.watch(Tensor([1, 2]))
            let y = x * x
            let g = tape.gradient(of: y, withRespectTo: [x], seed: Tensor([10, 100]))
            #expect(g[0].scalars == [20, 400])
        }
    }

    @Test func aValueUsedManyTimesAccumulatesItsGradient() {
        let (_, grad) = valueAndGradient(at: Tensor([2])) { x in
            let y = x * 3
            return (y + y + y * x).sum()  // 6x + 3x^2 -> 6 + 6x = 18
        }
        #expect(grad.scalars == [18])
    }

    @Test func tapesOnDifferentThreadsDoNotInterfere() async {
        let results = await withTaskGroup(of: [Float].self) { group in
            for k in 1...8 {
                group.addTask {
                    let (_, g) = valueAndGradient(at: Tensor([Float(k)])) { x in (x * x).sum() }
                    return g.scalars
                }
            }
            var all: [[Float]] = []
            for await r in group { all.append(r) }
            return all
        }
        #expect(Set(results.map { $0[0] }) == Set((1...8).map { Float(2 * $0) }))
    }
}
