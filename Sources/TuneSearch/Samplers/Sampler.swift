import Foundation
import TuneRandom

/// Proposes a value for a parameter of a trial. One method is required; the study asks it for every parameter as
/// the objective suggests it (define-by-run).
public protocol Sampler: Sendable {
    func sample(study: Study, trial: FrozenTrial, name: String, distribution: Distribution) throws -> ParameterValue
}

/// FNV-1a, 64 bits: a stable digest of bytes (Swift's Hasher is seeded per process).
public func fnv1a<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
    bytes.reduce(0xCBF2_9CE4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
}

/// A stable 64-bit hash of a parameter name, so that draws do not depend on the order names appear in.
func nameHash(_ name: String) -> UInt64 { fnv1a(name.utf8) }

/// A uniform double in [0, 1) with 53 random bits.
func uniformDouble(_ rng: inout PhiloxRandom) -> Double {
    Double((UInt64(rng.next32()) << 21) ^ UInt64(rng.next32() >> 11)) * 0x1p-53
}

/// The generator for one (trial, parameter) draw of a sampler seeded with `seed`.
func generator(seed: UInt64, trial: Int, name: String, salt: UInt64 = 0) -> PhiloxRandom {
    PhiloxRandom(seed: seed ^ nameHash(name) ^ salt, stream: UInt64(trial))
}

/// Independent uniform draws (uniform on the log scale for log parameters). The draw of a parameter depends only on
/// the seed, the trial number and the parameter's name.
public struct RandomSampler: Sampler {
    public let seed: UInt64
    public init(seed: UInt64) { self.seed = seed }

    public func sample(study: Study, trial: FrozenTrial, name: String, distribution: Distribution) throws
        -> ParameterValue
    {
        var rng = generator(seed: seed, trial: trial.number, name: name)
        return distribution.value(atUnit: uniformDouble(&rng))
    }
}

/// Every combination of the given values, one per trial, in a seeded order; after the last, the grid starts again.
public struct GridSampler: Sampler {
    public let space: [(name: String, values: [ParameterValue])]
    let order: [Int]

    public init(_ space: [String: [ParameterValue]], seed: UInt64 = 0) {
        self.space = space.keys.sorted().map { ($0, space[$0]!) }
        let total = self.space.reduce(1) { $0 * max($1.values.count, 1) }
        var rng = PhiloxRandom(seed: seed, stream: 0x6121D)
        order = Array(0..<total).shuffled(using: &rng)
    }

    /// The number of grid points.
    public var count: Int { order.count }

    /// Powers of ten from `low` to `high` (a 10x grid for learning rates): 1e-5...1e-1 gives five values.
    public static func logGrid(_ low: Double, _ high: Double, perDecade: Int = 1) -> [Double] {
        let a = Foundation.log10(low), b = Foundation.log10(high)
        let steps = Int(((b - a) * Double(perDecade)).rounded())
        // Within the range (a rounded count of decades may overshoot its end), ending at its end.
        var values = (0...max(steps, 0)).map { Foundation.pow(10, a + Double($0) / Double(perDecade)) }
            .filter { $0 >= low * (1 - 1e-12) && $0 <= high * (1 + 1e-12) }
        if values.last.map({ $0 < high * (1 - 1e-9) }) ?? true { values.append(high) }
        return values
    }

    public func sample(study: Study, trial: FrozenTrial, name: String, distribution: Distribution) throws
        -> ParameterValue
    {
        guard let axis = space.firstIndex(where: { $0.name == name }), !order.isEmpty else {
            var rng = generator(seed: 0, trial: trial.number, name: name)
            return distribution.value(atUnit: uniformDouble(&rng))
        }
        var point = order[trial.number % order.count]
        for a in (axis + 1)..<space.count { point /= max(space[a].values.count, 1) }
        return space[axis].values[point % space[axis].values.count]
    }
}

/// A low-discrepancy sequence (Halton, one prime base per parameter in the order parameters first appear, shifted by
/// a seeded random rotation): it covers the space more evenly than random draws.
public final class QuasiRandomSampler: Sampler, @unchecked Sendable {
    public let seed: UInt64
    private var dimensions: [String: Int] = [:]
    private let lock = NSLock()
    static let primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97]

    public init(seed: UInt64) { self.seed = seed }

    /// The Halton value of `index` (from 1) in base `base`.
    static func halton(_ index: Int, base: Int) -> Double {
        var f = 1.0, r = 0.0, i = index
        while i > 0 {
            f /= Double(base)
            r += f * Double(i % base)
            i /= base
        }
        return r
    }

    public func sample(study: Study, trial: FrozenTrial, name: String, distribution: Distribution) throws
        -> ParameterValue
    {
        lock.lock()
        let dimension = dimensions[name] ?? dimensions.count
        dimensions[name] = dimension
        lock.unlock()
        var rng = PhiloxRandom(seed: seed ^ nameHash(name), stream: 0xC0FFEE)
        let shift = uniformDouble(&rng)
        let base = Self.primes[dimension % Self.primes.count]
        let u = (Self.halton(trial.number + 1, base: base) + shift).truncatingRemainder(dividingBy: 1)
        return distribution.value(atUnit: u)
    }
}
