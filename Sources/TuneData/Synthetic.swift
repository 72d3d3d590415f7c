import Foundation
import TuneTensor

/// Generated classification problems, seeded: the same generator state gives the same data.
public enum Synthetic {
    /// Two interleaving half circles (scikit-learn's `make_moons`): class 0 on the upper moon centred at (0, 0),
    /// class 1 on the lower one centred at (1, 0.5), `count` points in all, Gaussian `noise` added to both coordinates.
    public static func twoMoons(count: Int, noise: Float = 0.1, using rng: inout PhiloxRandom) -> (x: Tensor, y: [Int]) {
        precondition(count >= 2, "twoMoons: count must be at least 2, got \(count)")
        let outer = count / 2, inner = count - outer
        var values: [Float] = [], labels: [Int] = []
        values.reserveCapacity(2 * count)
        for i in 0..<outer {
            let angle = Float.pi * Float(i) / Float(max(outer - 1, 1))
            values += [cos(angle), sin(angle)]
            labels.append(0)
        }
        for i in 0..<inner {
            let angle = Float.pi * Float(i) / Float(max(inner - 1, 1))
            values += [1 - cos(angle), 0.5 - sin(angle)]
            labels.append(1)
        }
        if noise > 0 {
            for i in stride(from: 0, to: values.count, by: 2) {
                let (a, b) = rng.nextNormalPair()
                values[i] += noise * a
                values[i + 1] += noise * b
            }
        }
        return (Tensor(shape: [count, 2], scalars: values), labels)
    }

    /// Two interleaved spirals, one per class, `pointsPerClass` each: point i of a class lies at angle
    /// t * pi (+ pi for class 1) and radius t / 3.75, with t from 0.25 to 3.75, plus Gaussian `noise`.
    /// A problem no linear model solves.
    public static func twoSpirals(pointsPerClass n: Int, noise: Float = 0.02, using rng: inout PhiloxRandom) -> (x: Tensor, y: [Int]) {
        precondition(n >= 1, "twoSpirals: pointsPerClass must be at least 1, got \(n)")
        var values: [Float] = [], labels: [Int] = []
        values.reserveCapacity(4 * n)
        for cls in 0..<2 {
            for i in 0..<n {
                let t = 0.25 + 3.5 * Float(i) / Float(n)
                let angle = t * .pi + Float(cls) * .pi
                let r = t / 3.75
                let (e1, e2) = rng.nextNormalPair()
                values.append(r * cos(angle) + noise * e1)
                values.append(r * sin(angle) + noise * e2)
                labels.append(cls)
            }
        }
        return (Tensor(shape: [2 * n, 2], scalars: values), labels)
    }
}
