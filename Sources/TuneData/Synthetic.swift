import Foundation
import TuneTensor
import TuneRandom

/// Generated classification problems, seeded: the same generator state gives the same data.
public enum Synthetic {
    /// Two interleaving half circles (scikit-learn's `make_moons`): class 0 on the upper moon centred at (0, 0),
    /// class 1 on the lower one centred at (1, 0.5), `count` points in all, Gaussian `noise` added to both coordinates.
    public static func twoMoons(count: Int, noise: Float = 0.1, using rng: inout PhiloxRandom) -> (x: Tensor, y: [Int])
    {
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
    public static func twoSpirals(pointsPerClass n: Int, noise: Float = 0.02, using rng: inout PhiloxRandom) -> (
        x: Tensor, y: [Int]
    ) {
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

    /// A checkerboard of `cells` x `cells` squares on [-1, 1]^2, alternating classes, `count` uniform points.
    public static func checkerboard(count: Int, cells: Int = 4, using rng: inout PhiloxRandom) -> (x: Tensor, y: [Int])
    {
        precondition(count >= 1 && cells >= 2, "checkerboard: count must be at least 1 and cells at least 2")
        var values: [Float] = [], labels: [Int] = []
        for _ in 0..<count {
            let a = rng.nextUniformFloat(), b = rng.nextUniformFloat()
            values += [a * 2 - 1, b * 2 - 1]
            labels.append((Int(a * Float(cells)) + Int(b * Float(cells))) % 2)
        }
        return (Tensor(shape: [count, 2], scalars: values), labels)
    }

    /// A classification problem in the manner of scikit-learn's `make_classification`: each class is a Gaussian
    /// cloud around a vertex of a hypercube of side 2 * `separation` in the `informative` dimensions; `redundant`
    /// features are random linear combinations of the informative ones; `noise` features are pure noise.
    /// `weights` sets the class proportions (imbalance); a fraction `labelNoise` of the labels is replaced at random.
    public static func classification(
        count: Int, classes: Int = 2, informative: Int = 4, redundant: Int = 2, noise: Int = 4,
        weights: [Double]? = nil, labelNoise: Double = 0.01, separation: Float = 1,
        using rng: inout PhiloxRandom
    ) -> (x: Tensor, y: [Int]) {
        precondition(
            count >= classes && classes >= 2 && informative >= 1,
            "classification: needs count >= classes >= 2 and informative >= 1")
        precondition(
            classes <= 1 << min(informative, 20),
            "classification: \(classes) classes need more than \(informative) informative features")
        let weights = weights ?? [Double](repeating: 1, count: classes)
        precondition(
            weights.count == classes && weights.allSatisfy { $0 > 0 }, "classification: one positive weight per class")
        // Distinct hypercube vertices, one per class.
        var vertices: [[Float]] = []
        var used = Set<Int>()
        while vertices.count < classes {
            let code = Int(rng.next32()) % (1 << min(informative, 20))
            guard used.insert(code).inserted else { continue }
            vertices.append((0..<informative).map { (code >> ($0 % 20)) & 1 == 1 ? separation : -separation })
        }
        let mixing = (0..<(informative * redundant)).map { _ in rng.nextUniformFloat() * 2 - 1 }
        let total = weights.reduce(0, +)
        var counts = weights.map { Int(Double(count) * $0 / total) }
        counts[0] += count - counts.reduce(0, +)
        let width = informative + redundant + noise
        var rows: [([Float], Int)] = []
        for (c, n) in counts.enumerated() {
            for _ in 0..<n {
                var features = vertices[c].map { $0 + rng.nextNormalPair().0 }
                for r in 0..<redundant {
                    var v: Float = 0
                    for i in 0..<informative { v += features[i] * mixing[r * informative + i] }
                    features.append(v)
                }
                for _ in 0..<noise { features.append(rng.nextNormalPair().0) }
                var label = c
                if Double(rng.nextUniformFloat()) < labelNoise { label = Int(rng.next32() % UInt32(classes)) }
                rows.append((features, label))
            }
        }
        rows.shuffle(using: &rng)
        return (Tensor(shape: [count, width], scalars: rows.flatMap(\.0)), rows.map(\.1))
    }

    /// A regression problem: y = x . w + Gaussian noise of deviation `noise`, with `informative` of the `features`
    /// inputs carrying non-zero weights (uniform in [-3, 3]) and a bias.
    public static func regression(
        count: Int, features: Int = 8, informative: Int = 4, noise: Float = 0.5,
        using rng: inout PhiloxRandom
    ) -> (x: Tensor, y: [Float]) {
        precondition(
            count >= 1 && features >= 1 && informative <= features,
            "regression: needs count, features >= 1 and informative <= features")
        let weights = (0..<features).map { i -> Float in i < informative ? rng.nextUniformFloat() * 6 - 3 : 0 }
        let bias = rng.nextUniformFloat() * 2 - 1
        var values: [Float] = [], targets: [Float] = []
        for _ in 0..<count {
            let row = (0..<features).map { _ in rng.nextNormalPair().0 }
            values += row
            targets.append(zip(row, weights).reduce(bias) { $0 + $1.0 * $1.1 } + noise * rng.nextNormalPair().0)
        }
        return (Tensor(shape: [count, features], scalars: values), targets)
    }

    /// The table as CSV text: feature columns `x0, x1, ...` and the target column `name` last.
    public static func csv(x: Tensor, targets: [String], targetName: String = "label") -> String {
        let width = x.shape[1]
        var lines = [((0..<width).map { "x\($0)" } + [targetName]).joined(separator: ",")]
        let values = x.scalars
        for r in 0..<x.shape[0] {
            lines.append(((0..<width).map { String(values[r * width + $0]) } + [targets[r]]).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
