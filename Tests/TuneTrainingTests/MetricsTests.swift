import Foundation
import Testing
import TuneNN
@testable import TuneTraining

enum MetricFixture {
    static let value: JSONValue = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/metrics.json")
        return try! JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
    }()
}

extension JSONValue {
    subscript(key: String) -> JSONValue {
        guard case .object(let o) = self, let v = o[key] else { fatalError("no field \(key)") }
        return v
    }
    var array: [JSONValue] { if case .array(let a) = self { return a }; fatalError("not an array") }
    var double: Double { if case .number(let n) = self { return n }; fatalError("not a number") }
    var int: Int { Int(double) }
    var string: String { if case .string(let s) = self { return s }; fatalError("not a string") }
    var ints: [Int] { array.map(\.int) }
    var doubles: [Double] { array.map(\.double) }
}

func close(_ a: Double?, _ b: Double, _ tolerance: Double = 1e-9) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= tolerance * max(1, abs(b))
}

@Suite("Metrics match scikit-learn")
struct MetricsTests {
    @Test(arguments: 0..<3)
    func binary(_ index: Int) {
        let c = MetricFixture.value["binary"].array[index]
        let truth = c["truth"].ints, scores = c["scores"].doubles, predicted = c["predicted"].ints
        #expect(close(Metrics.rocAUC(truth, scores), c["roc_auc"].double), "\(c["name"].string) roc auc")
        #expect(
            close(Metrics.averagePrecision(truth, scores), c["average_precision"].double),
            "\(c["name"].string) average precision")
        #expect(
            close(Metrics.logLoss(truth, scores.map { [1 - $0, $0] }), c["log_loss"].double, 1e-7),
            "\(c["name"].string) log loss")
        #expect(close(Metrics.accuracy(truth, predicted), c["accuracy"].double))
        #expect(close(Metrics.balancedAccuracy(truth, predicted, classes: 2), c["balanced_accuracy"].double))
        let prf = Metrics.precisionRecallF1(truth, predicted, positive: 1)
        #expect(
            close(prf.precision, c["precision"].double) && close(prf.recall, c["recall"].double)
                && close(prf.f1, c["f1"].double))
        #expect(Metrics.confusionMatrix(truth, predicted, classes: 2) == c["confusion"].array.map(\.ints))
    }

    @Test(arguments: 0..<2)
    func multiclass(_ index: Int) {
        let c = MetricFixture.value["multiclass"].array[index]
        let truth = c["truth"].ints, predicted = c["predicted"].ints, k = c["classes"].int
        let probabilities = c["probabilities"].array.map(\.doubles)
        #expect(
            close(Metrics.macroRocAUC(truth, probabilities, classes: k), c["roc_auc_ovr_macro"].double),
            "\(c["name"].string) auc")
        #expect(close(Metrics.logLoss(truth, probabilities), c["log_loss"].double, 1e-7))
        #expect(close(Metrics.accuracy(truth, predicted), c["accuracy"].double))
        #expect(close(Metrics.balancedAccuracy(truth, predicted, classes: k), c["balanced_accuracy"].double))
        let macro = Metrics.macroPrecisionRecallF1(truth, predicted, classes: k)
        #expect(close(macro.precision, c["precision_macro"].double) && close(macro.recall, c["recall_macro"].double))
        #expect(close(macro.f1, c["f1_macro"].double))
        #expect(Metrics.confusionMatrix(truth, predicted, classes: k) == c["confusion"].array.map(\.ints))
    }

    @Test(arguments: 0..<2)
    func regression(_ index: Int) {
        let c = MetricFixture.value["regression"].array[index]
        let truth = c["truth"].doubles, predicted = c["predicted"].doubles
        #expect(close(Metrics.rmse(truth, predicted), c["rmse"].double))
        #expect(close(Metrics.mae(truth, predicted), c["mae"].double))
        #expect(close(Metrics.r2(truth, predicted), c["r2"].double))
    }

    @Test func undefinedMetricsAreNilNeverNaN() {
        #expect(Metrics.rocAUC([1, 1, 1], [0.2, 0.5, 0.9]) == nil)
        #expect(Metrics.averagePrecision([0, 0], [0.2, 0.5]) == nil)
        #expect(Metrics.macroRocAUC([0, 0, 1], [[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]], classes: 3) == nil)
        #expect(Metrics.r2([2, 2, 2], [1, 2, 3]) == nil)
        #expect(Metrics.accuracy([], []) == nil)
        #expect(Metrics.rocAUC([0, 1], [0.5, .nan]) == nil)
        // By hand: one positive ranked above both negatives, one between: (2 + 1) / 4.
        #expect(Metrics.rocAUC([0, 1, 0, 1], [0.1, 0.9, 0.5, 0.3]) == 0.75)
    }
}
