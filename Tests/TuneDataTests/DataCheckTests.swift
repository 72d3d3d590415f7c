import Foundation
import Testing
import TuneDiagnosis
import TuneTensor
@testable import TuneData
import TuneRandom

/// Hand-made tables, each with one thing wrong (or one thing that looks wrong and is not); the expected findings
/// follow from how each table was built, not from the check's code.
@Suite("The data check: identifiers, leaks, order, duplicates, imbalance, columns, the target")
struct DataCheckTests {
    struct Generator {
        var rng: PhiloxRandom
        init(_ seed: UInt64) { rng = PhiloxRandom(seed: seed) }
        mutating func normal() -> Double { Double(rng.nextNormalPair().0) }
        mutating func uniform() -> Double { Double(rng.nextUniformFloat()) }
    }

    func check(
        _ header: [String], _ rows: [[String]], target: String,
        options: DataCheckOptions = DataCheckOptions(stopOnLeak: false),
        split: String? = nil
    ) throws -> DataCheckReport {
        let text = ([header] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        let table = try CSVReader.parse(Data(text.utf8), path: "t.csv")
        return try DataPreparation.prepare(table, target: target, splitColumn: split, check: options).dataCheck!
    }

    func ids(_ r: DataCheckReport) -> [String] { r.findings.map(\.id.rawValue) }
    func f(_ x: Double) -> String { String(format: "%.6f", x) }

    /// A regression on three honest features: y = 2a + sin(3b) + c + noise (sd 0.3), rows in random order.
    func honestRegression(_ n: Int, seed: UInt64 = 1) -> (rows: [[Double]], y: [Double]) {
        var g = Generator(seed)
        var rows: [[Double]] = [], y: [Double] = []
        for _ in 0..<n {
            let a = g.normal(), b = g.normal(), c = g.normal()
            rows.append([a, b, c])
            y.append(2 * a + sin(3 * b) + c + 0.3 * g.normal())
        }
        return (rows, y)
    }

    // MARK: identifiers

    @Test func aRowNumberAnUnnamedIndexAndUUIDsAreIdentifiersButAMeasurementIsNot() throws {
        var g = Generator(2)
        var rows: [[String]] = []
        for i in 0..<200 {
            let uuid = String(format: "%08x-%04x-%04x-%04x-%012x", i * 7919, i, 0x4000 + i, 0x8000 + i, i * 104729)
            // A measurement unique per row, integers unique per row in no order (i * 37 mod 211), a label.
            let measurement = 10 + g.normal()
            rows.append([String(i), String(i + 1), uuid, f(measurement), String((i * 37) % 211), String(i % 2)])
        }
        let r = try check(["Unnamed: 0", "row", "token", "length", "population", "y"], rows, target: "y")
        #expect(Set(r.excluded) == ["Unnamed: 0", "row", "token"], "\(r.findings)")
        #expect(r.findings.filter { $0.id == .identifier }.count == 3)
        #expect(r.columns.first { $0.name == "length" }?.role == "feature")
        #expect(r.columns.first { $0.name == "population" }?.role == "feature")
    }

    @Test func datesOnePerRowAreIdentifiersNamedAsDates() throws {
        let rows: [[String]] = (0..<60).map { (i: Int) -> [String] in
            let day = String(format: "2020-%02d-%02d", 1 + i / 28, 1 + i % 28)
            return [day, String(Double(i % 9)), String(i % 2)]
        }
        let r = try check(["day", "x", "y"], rows, target: "y")
        #expect(
            r.excluded == ["day"] && r.findings.first { $0.id == .identifier }?.explanation.contains("dates") == true)
        #expect(
            DataCheck.isDate("31/01/2024") && DataCheck.isDate("2024-01") && DataCheck.isDate("2024-01-31T12:00:00"))
        #expect(!DataCheck.isDate("1986.5") && !DataCheck.isDate("12-34") && !DataCheck.isDate("abc"))
    }

    @Test func aCurveOfOneFeatureIsNotALeak() throws {
        // weight = 180 - 0.3 days + noise, the only feature: nothing to judge it against.
        var g = Generator(11)
        let rows = (0..<200).map { d in [String(d * 2), f(180 - 0.3 * Double(d) + 0.2 * g.normal())] }
        let r = try check(["days", "weight"], rows, target: "weight")
        #expect(
            r.leaks.isEmpty && r.findings.first { $0.id == .strongSingleColumn }?.severity == .warning, "\(r.findings)")
    }

    @Test func aTimeIndexThatIsTheOnlyFeatureStays() throws {
        let rows: [[String]] = (0..<100).map { (i: Int) -> [String] in
            let sales = Double(i) * 0.5 + Double(i % 5)
            return [String(i + 1), String(sales)]
        }
        let r = try check(["time", "sales"], rows, target: "sales")
        #expect(r.excluded.isEmpty && r.findings.first { $0.id == .identifier }?.severity == .info, "\(r.findings)")
    }

    @Test func keepKeepsAnIdentifierAsAFeature() throws {
        let rows = (0..<100).map { [String($0), String($0 % 7), String($0 % 2)] }
        let r = try check(
            ["id", "x", "y"], rows, target: "y", options: DataCheckOptions(keep: ["id"], stopOnLeak: false))
        #expect(r.excluded.isEmpty)
        #expect(r.findings.first { $0.id == .identifier }?.severity == .info)
    }

    // MARK: leaks

    @Test func aNoisyCopyOfTheTargetIsALeakAndStopsTheRun() throws {
        let (x, y) = honestRegression(600)
        var g = Generator(3)
        let sd = (y.map { $0 * $0 }.reduce(0, +) / Double(y.count)).squareRoot()
        let rows = x.indices.map { i in x[i].map(f) + [f(y[i] + 0.05 * sd * g.normal()), f(y[i])] }
        let header = ["a", "b", "c", "y_reported", "y"]
        let r = try check(header, rows, target: "y")
        #expect(r.leaks == ["y_reported"], "\(r.findings)")
        #expect(r.findings.first { $0.id == .leak }?.severity == .critical)
        // Training stops with the leak named, unless allowed.
        let text = ([header] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
        let table = try CSVReader.parse(Data(text.utf8), path: "t.csv")
        #expect(throws: DataLeakError.self) {
            try DataPreparation.prepare(table, target: "y", check: DataCheckOptions())
        }
        let allowed = try DataPreparation.prepare(
            table, target: "y", check: DataCheckOptions(allowLeak: ["y_reported"]))
        #expect(
            allowed.dataCheck?.leaks == [] && allowed.dataCheck?.findings.first { $0.id == .leak }?.severity == .warning
        )
        #expect(allowed.preprocessor.features.map(\.name).contains("y_reported"))
    }

    @Test func aStrongHonestFeatureIsNotALeak() throws {
        // y = 2a + ...: a alone explains about 4 / (4 + 0.43 + 1 + 0.09) of the variance, far from a leak.
        let (x, y) = honestRegression(600)
        let r = try check(["a", "b", "c", "y"], x.indices.map { x[$0].map(f) + [f(y[$0])] }, target: "y")
        #expect(!ids(r).contains("leak") && !ids(r).contains("strong_single_column"), "\(r.findings)")
    }

    @Test func aClassCodeInAnotherFormLeaksAClassification() throws {
        // 'status' spells the label out ("approved"/"denied"), with 1 row in 200 wrong.
        var g = Generator(4)
        var rows: [[String]] = []
        for i in 0..<500 {
            let a = g.normal(), b = g.normal()
            let label = a + 0.5 * b + g.normal() > 0 ? 1 : 0
            let status = (label == 1) != (i % 200 == 0) ? "approved" : "denied"
            rows.append([f(a), f(b), status, String(label)])
        }
        let r = try check(["a", "b", "status", "label"], rows, target: "label")
        #expect(r.leaks == ["status"], "\(r.findings)")
    }

    @Test func aColumnThatIsAFunctionOfTheTargetLeaksThoughItCannotPredictIt() throws {
        // dist = (y - 0)^2 on a symmetric target: y cannot be read back from it (the sign is lost), yet it is
        // computed from the target.
        let (x, y) = honestRegression(600, seed: 5)
        let rows = x.indices.map { x[$0].map(f) + [f(y[$0] * y[$0]), f(y[$0])] }
        let r = try check(["a", "b", "c", "dist", "y"], rows, target: "y")
        #expect(r.leaks == ["dist"], "\(r.findings)")
    }

    @Test func aSumOfTheOtherColumnsIsNotALeakButTwoCopiesOfTheTargetAre() throws {
        // y = a + b + c exactly, and total = y + tiny noise: total alone is near perfect, and so are a, b and c
        // together (a linear model): an easy task, not a leak.
        var g = Generator(6)
        var rows: [[String]] = [], copies: [[String]] = []
        for _ in 0..<400 {
            let a = g.normal(), b = g.normal(), c = g.normal(), y = a + b + c
            rows.append([f(a), f(b), f(c), f(y + 0.01 * g.normal()), f(y)])
            // Two copies of a target that the other columns predict poorly (y2 = a + 3 noise): both leak.
            let y2 = a + 3 * g.normal()
            copies.append([f(a), f(b), f(y2 * 1.1), f(y2 + 0.01 * g.normal()), f(y2)])
        }
        let easy = try check(["a", "b", "c", "total", "y"], rows, target: "y")
        #expect(easy.leaks.isEmpty, "\(easy.findings)")
        #expect(easy.findings.first { $0.id == .strongSingleColumn }?.columns == ["total"])
        let leaked = try check(["a", "b", "y_eur", "y_usd", "y"], copies, target: "y")
        #expect(Set(leaked.leaks) == ["y_eur", "y_usd"], "\(leaked.findings)")
    }

    // MARK: order

    @Test func aSortedTargetIsSaidAndASortedFileWhoseTargetDoesNotFollowIsNot() throws {
        let (x, y) = honestRegression(300, seed: 7)
        let byTarget = y.indices.sorted { y[$0] < y[$1] }
        let sorted = try check(["a", "b", "c", "y"], byTarget.map { x[$0].map(f) + [f(y[$0])] }, target: "y")
        #expect(
            sorted.findings.first { $0.id == .sortedTarget }?.evidence["rank_correlation"].map { $0 > 0.99 } == true)
        // Sorted by b, which y barely depends on (through sin(3b), whose rank correlation with b is near 0).
        let byB = y.indices.sorted { x[$0][1] < x[$1][1] }
        let other = try check(["a", "b", "c", "y"], byB.map { x[$0].map(f) + [f(y[$0])] }, target: "y")
        #expect(!ids(other).contains("sorted_target"), "\(other.findings)")
        // Classes in blocks: 0 x 100 then 1 x 100.
        let blocks = try check(
            ["a", "y"], (0..<200).map { [f(Double($0 % 17)), String($0 < 100 ? 0 : 1)] }, target: "y")
        #expect(blocks.findings.first { $0.id == .sortedTarget }?.evidence["class_changes"] == 1)
        // Alternating classes change at every row: not sorted.
        let alternating = try check(["a", "y"], (0..<200).map { [f(Double($0 % 17)), String($0 % 2)] }, target: "y")
        #expect(!ids(alternating).contains("sorted_target"))
    }

    // MARK: duplicates

    @Test func duplicatesAndConflictingLabelsAreCounted() throws {
        // 100 distinct rows; rows 0-9 written twice more (20 exact repeats); rows 10-14 again with the label flipped.
        var rows: [[String]] = []
        for i in 0..<100 { rows.append([String(i % 10), String(i / 10), String(i % 2)]) }
        for i in 0..<10 { rows.append(rows[i]); rows.append(rows[i]) }
        for i in 10..<15 { rows.append([rows[i][0], rows[i][1], String(1 - i % 2)]) }
        let r = try check(["a", "b", "y"], rows, target: "y")
        let dup = try #require(r.findings.first { $0.id == .duplicateRows })
        #expect(dup.evidence["duplicate_rows"] == 20)
        let conflict = try #require(r.findings.first { $0.id == .conflictingLabels })
        #expect(conflict.evidence["groups"] == 5 && conflict.evidence["rows"] == 10)
    }

    @Test func aTableWithoutRepeatsHasNoDuplicateFinding() throws {
        let rows = (0..<100).map { [String($0 % 10), String($0 / 10), String($0 % 2)] }
        #expect(!ids(try check(["a", "b", "y"], rows, target: "y")).contains("duplicate_rows"))
    }

    // MARK: imbalance

    @Test func aRareClassIsAWarningAndACommonOneIsNot() throws {
        var g = Generator(8)
        func rows(rare: Int) -> [[String]] {
            (0..<1000).map { i in [f(g.normal()), String(i % 1000 < rare ? 1 : 0)] }.shuffledByIndex()
        }
        let rare = try check(["a", "y"], rows(rare: 30), target: "y")
        let finding = try #require(rare.findings.first { $0.id == .imbalance })
        #expect(finding.evidence["minority_share"] == 0.03 && finding.severity == .warning)
        #expect(finding.nextStep.contains("average_precision"))
        #expect(!ids(try check(["a", "y"], rows(rare: 100), target: "y")).contains("imbalance"))
    }

    // MARK: columns

    @Test func constantNearConstantMissingWideAndNumericTextColumns() throws {
        var rows: [[String]] = []
        for i in 0..<400 {
            let constant = "5"
            let rare = i < 2 ? "1" : "0"  // 99.5% zeros
            let mostlyMissing = i % 4 == 0 ? String(i) : ""  // 75% missing
            let city = "c\(i % 60)"  // 60 levels, over the 32 one-hot columns
            let price = i % 50 == 0 ? "n.a." : "$\(1000 + i)"
            rows.append([constant, rare, mostlyMissing, city, price, String(Double(i % 13)), String(i % 7 < 3 ? 1 : 0)])
        }
        let r = try check(["constant", "rare", "sparse", "city", "price", "x", "y"], rows, target: "y")
        #expect(r.findings.first { $0.id == .constantColumn }?.columns == ["constant"])
        #expect(r.findings.first { $0.id == .nearConstantColumn }?.columns == ["rare"])
        #expect(r.findings.first { $0.id == .mostlyMissing }?.evidence["missing_share"] == 0.75)
        #expect(r.findings.first { $0.id == .highCardinality }?.evidence["levels"] == 60)
        #expect(r.findings.first { $0.id == .numericAsText }?.columns == ["price"])
        #expect(r.findings.filter { $0.columns.contains("x") }.isEmpty)
        // Codes are categories, not numbers: "001"-style ids, and whole-number group ids with many levels.
        let codes: [[String]] = (0..<400).map { (i: Int) -> [String] in
            let family = String(format: "%03d", i / 4) + (i == 9 ? "A" : "")
            let subject = String(i / 3) + (i == 5 ? "b" : "")
            return [family, subject, String(i % 7 < 3 ? 1 : 0)]
        }
        let coded = try check(["family", "subject", "y"], codes, target: "y")
        #expect(!coded.findings.contains { $0.id == .numericAsText }, "\(coded.findings)")
    }

    // MARK: the target

    @Test func aSkewedPositiveTargetSuggestsItsLogarithmAndASymmetricOneDoesNot() throws {
        var g = Generator(9)
        var skewed: [[String]] = [], symmetric: [[String]] = []
        for _ in 0..<500 {
            let a = g.normal()
            skewed.append([f(a), f(exp(1.5 * a + 0.5 * g.normal() + 6))])  // log-normal, from about 20 to 50,000
            symmetric.append([f(a), f(100 + 10 * a + g.normal())])
        }
        let r = try check(["a", "price"], skewed, target: "price")
        let finding = try #require(r.findings.first { $0.id == .skewedTarget })
        #expect(finding.evidence["skewness"]! > 1 && abs(finding.evidence["log_skewness"]!) < 0.5)
        #expect(!ids(try check(["a", "y"], symmetric, target: "y")).contains("skewed_target"))
        // Trained on its logarithm, the finding goes; the targets are the standardised logarithms.
        let text = (["a,price"] + skewed.map { $0.joined(separator: ",") }).joined(separator: "\n") + "\n"
        let table = try CSVReader.parse(Data(text.utf8), path: "t.csv")
        let logged = try DataPreparation.prepare(
            table, target: "price", targetTransform: .log, check: DataCheckOptions())
        #expect(!(logged.dataCheck?.findings.map(\.id.rawValue).contains("skewed_target") ?? true))
        let t = logged.preprocessor.target
        #expect(t.transform == .log)
        let first = Double(table.numbers[1][0])
        let encoded = t.transformed(Float(first)).map { Double(($0 - t.mean!) / t.standardDeviation!) }
        #expect(try #require(encoded).isFinite)
        #expect(abs(t.original(encoded!) - first) / first < 1e-4)
    }

    @Test func aLogTransformOfANonPositiveTargetNamesTheRow() throws {
        let table = try CSVReader.parse(Data("a,y\n1,3\n2,0\n3,5\n4,6\n5,7\n".utf8), path: "t.csv")
        #expect { try DataPreparation.prepare(table, target: "y", task: .regression, targetTransform: .log) } throws: {
            error in
            "\(error)".contains("t.csv:3 (column y)") && "\(error)".contains("not positive")
        }
    }
}

extension Array {
    /// A fixed scramble of the rows (every 7th of a prime-length cycle), so that no test depends on file order.
    func shuffledByIndex() -> [Element] {
        indices.sorted { ($0 * 7919) % 10007 < ($1 * 7919) % 10007 }.map { self[$0] }
    }
}
