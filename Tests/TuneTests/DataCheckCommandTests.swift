import Foundation
import TestSupport
import Testing
import TuneData
import TuneTensor
import TuneRandom

/// A regression table as R writes a sorted data frame: an unnamed first column holding the row number, rows sorted
/// by the target, and (optionally) a copy of the target in another unit with 2% noise. price = 300 * exp(a + 0.5 b)
/// + 100 c + noise, so the honest features explain most of it but not all.
func writeSortedTable(_ dir: URL, leak: Bool, rows: Int = 400) throws -> String {
    var rng = PhiloxRandom(seed: 21)
    var records: [(a: Float, b: Float, c: Float, price: Float, noise: Float)] = []
    for _ in 0..<rows {
        let (a, b) = rng.nextNormalPair(), (c, e) = rng.nextNormalPair(), (n, _) = rng.nextNormalPair()
        let price = 300 * Foundation.exp(a + 0.5 * b) + 100 * c + 50 * e + 1000
        records.append((a, b, c, price, n))
    }
    records.sort { $0.price < $1.price }
    var lines = [leak ? "\"\",a,b,c,price_eur,price" : "\"\",a,b,c,price"]
    for (i, r) in records.enumerated() {
        let eur = r.price * 0.92 * (1 + 0.02 * r.noise)
        lines.append("\(i + 1),\(r.a),\(r.b),\(r.c)," + (leak ? "\(eur)," : "") + "\(r.price)")
    }
    let path = dir.appendingPathComponent(leak ? "sorted-leak.csv" : "sorted.csv").path
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("The data check from the command line", .serialized)
struct DataCheckCommandTests {
    @Test func searchNamesTheIndexTheOrderAndTheLeakAndStopsOnTheLeak() throws {
        let dir = scratchDirectory()
        let data = try writeSortedTable(dir, leak: true)
        let out = dir.appendingPathComponent("search").path
        let r = try runTune(["search", "--data", data, "--target", "price", "--out", out, "--budget", "3"])
        #expect(r.status == 2, "\(r.output)\(r.error)")
        #expect(
            r.error.contains("identifier: '' holds an unnamed column of unique values")
                && r.error.contains("Left out of the features"), "\(r.error)")
        #expect(r.error.contains("sorted_target: The target rises with the row order"), "\(r.error)")
        #expect(r.error.contains("[critical] leak: 'price_eur' gives the target away"), "\(r.error)")
        // Stopped before anything was written.
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func withTheLeakDroppedTrainingGoesOnWithoutTheIndex() throws {
        let dir = scratchDirectory()
        let data = try writeSortedTable(dir, leak: true)
        let out = dir.appendingPathComponent("run").path
        let r = try runTune([
            "train", "--data", data, "--target", "price", "--ignore", "price_eur", "--epochs", "2", "--out", out
        ])
        #expect(r.status == 0, "\(r.output)\(r.error)")
        #expect(
            r.output.contains("data check [warning] identifier")
                && r.output.contains("data check [info] sorted_target"), "\(r.output)")
        let model = try String(contentsOf: URL(fileURLWithPath: out + "/model/model.json"), encoding: .utf8)
        let features = try #require(try JSONSerialization.jsonObject(with: Data(model.utf8)) as? [String: Any])
        let names = ((features["preprocessing"] as? [String: Any])?["features"] as? [[String: Any]])?.compactMap {
            $0["name"] as? String
        }
        #expect(names == ["a", "b", "c"], "\(model.prefix(400))")
        // --allow-leak lets a leak train, reported as a warning.
        let allowed = try runTune([
            "train", "--data", data, "--target", "price", "--allow-leak", "price_eur", "--epochs", "1",
            "--out", dir.appendingPathComponent("allowed").path
        ])
        #expect(
            allowed.status == 0 && allowed.output.contains("data check [warning] leak: 'price_eur'"),
            "\(allowed.output)\(allowed.error)")
        // An unknown column to keep is an error naming it.
        let unknown = try runTune([
            "train", "--data", data, "--target", "price", "--keep", "nope", "--out",
            dir.appendingPathComponent("x").path
        ])
        #expect(unknown.status == 2 && unknown.error.contains("unknown column 'nope'"))
    }

    @Test func doctorChecksAFileOnItsOwnAsTextAndJSON() throws {
        let dir = scratchDirectory()
        let data = try writeSortedTable(dir, leak: true)
        let text = try runTune(["doctor", "--data", data, "--target", "price"])
        #expect(text.status == 0, "\(text.error)")
        #expect(
            text.output.contains("data check of \(data)") && text.output.contains("CRITICAL leak")
                && text.output.contains("(unnamed)"), "\(text.output)")
        let json = try runTune(["doctor", "--data", data, "--target", "price", "--json"])
        let report = try JSONDecoder().decode(DataCheckReport.self, from: Data(json.output.utf8))
        #expect(report.leaks == ["price_eur"] && report.excluded == [""] && report.rows == 400)
        #expect(report.findings.map(\.id.rawValue).contains("sorted_target"))
        #expect(report.columns.first { $0.name == "price" }?.role == "target")
        // Without the leak: no leak, and the honest features are not mistaken for one.
        let clean = try runTune([
            "doctor", "--data", try writeSortedTable(dir, leak: false), "--target", "price", "--json"
        ])
        let cleanReport = try JSONDecoder().decode(DataCheckReport.self, from: Data(clean.output.utf8))
        #expect(
            cleanReport.leaks.isEmpty && !cleanReport.findings.contains { $0.id == .strongSingleColumn },
            "\(cleanReport.findings)")
    }

    @Test func aSkewedTargetTrainsOnItsLogarithmWithMetricsInItsOwnUnits() throws {
        let dir = scratchDirectory()
        let data = try writeSortedTable(dir, leak: false)
        let plain = try runTune([
            "train", "--data", data, "--target", "price", "--epochs", "1", "--out",
            dir.appendingPathComponent("plain").path
        ])
        #expect(plain.output.contains("skewed_target"), "\(plain.output)")
        let out = dir.appendingPathComponent("log").path
        let r = try runTune([
            "train", "--data", data, "--target", "price", "--target-transform", "log", "--epochs", "5", "--out", out
        ])
        #expect(r.status == 0 && !r.output.contains("skewed_target"), "\(r.output)\(r.error)")
        // The predictions are prices: the RMSE computed here from `tune predict` equals `tune evaluate`'s.
        let predictions = dir.appendingPathComponent("p.csv").path
        #expect(try runTune(["predict", "--model", out, "--data", data, "--out", predictions]).status == 0)
        let predicted = try String(contentsOfFile: predictions, encoding: .utf8).split(separator: "\n").dropFirst().map
        { Double($0)! }
        let truth = try CSVReader.read(path: data).numbers[4].map(Double.init)
        let rmse = (zip(predicted, truth).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(truth.count)).squareRoot()
        let evaluated = try runTune(["evaluate", "--model", out, "--data", data])
        let metrics = try #require(
            try JSONSerialization.jsonObject(with: Data(evaluated.output.utf8)) as? [String: Double])
        #expect(abs(metrics["rmse"]! - rmse) / rmse < 1e-4, "\(metrics) \(rmse)")
        #expect(predicted.allSatisfy { $0 > 0 })
    }
}

@Suite("The data check on the shared datasets")
struct SharedDataCheckTests {
    static let folder = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")

    /// What each file holds, established with pandas, not with the check: iris and wine are sorted by class (2 class
    /// changes in the file), iris repeats one row and segment 224; digits has 3 constant pixels (px0, px32, px39) and
    /// 7 more with one value on 99% of the rows. No file has an identifier, a leak or a class under 5%.
    static let expected: [(file: String, target: String, findings: Set<String>)] = [
        ("breast_cancer", "benign", []), ("digits", "digit", ["constant_column", "near_constant_column"]),
        ("wine", "cultivar", ["sorted_target"]), ("iris", "species", ["sorted_target", "duplicate_rows"]),
        ("diabetes", "progression", []), ("banana", "label", []), ("segment", "category", ["duplicate_rows"])
    ]

    @Test(.enabled(if: FileManager.default.fileExists(atPath: folder.path)), arguments: expected.map(\.file))
    func noFalseAlarm(_ file: String) throws {
        let entry = Self.expected.first { $0.file == file }!
        let table = try CSVReader.read(path: Self.folder.appendingPathComponent(file + ".csv").path)
        let report = try #require(
            try DataPreparation.prepare(table, target: entry.target, check: DataCheckOptions()).dataCheck)
        #expect(report.leaks.isEmpty && report.excluded.isEmpty)
        #expect(Set(report.findings.map(\.id.rawValue)) == entry.findings, "\(report.lines)")
        if file == "digits" {
            #expect(report.findings.first { $0.id == .constantColumn }?.columns == ["px0", "px32", "px39"])
        }
        if file == "segment" {
            #expect(report.findings.first { $0.id == .duplicateRows }?.evidence["duplicate_rows"] == 224)
        }
    }
}
