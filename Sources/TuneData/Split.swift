import TuneTensor
import TuneRandom

/// The fractions of rows for training, validation and test.
public struct SplitFractions: Codable, Sendable, Equatable {
    public var train: Double
    public var validation: Double
    public var test: Double

    public init(train: Double, validation: Double, test: Double) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    public static let standard = SplitFractions(train: 0.6, validation: 0.2, test: 0.2)

    /// Parses "0.6,0.2,0.2" (or two numbers, test then 0); nil with a reason when it is not three fractions summing to 1.
    public static func parse(_ text: String) -> Result<SplitFractions, DataError> {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ $0 != nil && $0! >= 0 }) else {
            return .failure(
                DataError(
                    path: "--split", "expected two or three non-negative fractions like 0.6,0.2,0.2, got '\(text)'"))
        }
        let values = parts.map { $0! } + (parts.count == 2 ? [0] : [])
        guard abs(values.reduce(0, +) - 1) < 1e-6, values[0] > 0, values[1] > 0 else {
            return .failure(
                DataError(
                    path: "--split",
                    "the fractions must sum to 1 with positive train and validation parts, got '\(text)'"))
        }
        return .success(SplitFractions(train: values[0], validation: values[1], test: values[2]))
    }
}

/// Seeded splits of row indices, stratified by class when classes are given.
public enum Splitter {
    /// Row indices for training, validation and test. With `strata` (a class per row) every class is split in the
    /// same proportions and appears in every part with a non-zero fraction.
    public static func split(count: Int, fractions: SplitFractions, seed: UInt64, strata: [Int]? = nil)
        -> (train: [Int], validation: [Int], test: [Int])
    {
        var rng = PhiloxRandom(seed: seed, stream: 0x5011)
        let groups = rowGroups(count: count, strata: strata)
        var train: [Int] = [], validation: [Int] = [], test: [Int] = []
        for group in groups {
            let rows = group.shuffled(using: &rng)
            let n = rows.count
            var nValidation = Int((Double(n) * fractions.validation).rounded())
            var nTest = Int((Double(n) * fractions.test).rounded())
            if fractions.validation > 0 { nValidation = max(nValidation, 1) }
            if fractions.test > 0 { nTest = max(nTest, 1) }
            while nValidation + nTest > n - 1 && (nValidation > 1 || nTest > 1) {
                if nValidation >= nTest { nValidation -= 1 } else { nTest -= 1 }
            }
            validation += rows[0..<nValidation]
            test += rows[nValidation..<min(nValidation + nTest, n)]
            train += rows[min(nValidation + nTest, n)...]
        }
        return (train.shuffled(using: &rng), validation.shuffled(using: &rng), test.shuffled(using: &rng))
    }

    /// The rows of each class in class order, or all rows as one group.
    static func rowGroups(count: Int, strata: [Int]?) -> [[Int]] {
        guard let strata else { return [Array(0..<count)] }
        var byClass: [Int: [Int]] = [:]
        for (row, c) in strata.enumerated() { byClass[c, default: []].append(row) }
        return byClass.keys.sorted().map { byClass[$0]! }
    }

    /// `k` folds: each row is in the validation part of exactly one fold; stratified when `strata` is given.
    public static func kFold(count: Int, k: Int, seed: UInt64, strata: [Int]? = nil) -> [(
        train: [Int], validation: [Int]
    )] {
        precondition(k >= 2 && k <= count, "kFold: k must be in 2...\(count), got \(k)")
        var rng = PhiloxRandom(seed: seed, stream: 0xF01D)
        var folds = [[Int]](repeating: [], count: k)
        let groups = rowGroups(count: count, strata: strata)
        var next = 0
        for group in groups {
            for row in group.shuffled(using: &rng) {
                folds[next % k].append(row)
                next += 1
            }
        }
        return (0..<k).map { i in
            (folds.enumerated().filter { $0.offset != i }.flatMap(\.element).sorted(), folds[i].sorted())
        }
    }
}
