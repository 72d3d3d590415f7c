import Foundation
import TestSupport
import Testing
import TuneDiagnosis
@testable import TuneReport
import TuneSearch
import TuneTraining

/// The report's charts and sections rendered from hand-made inputs, in milliseconds: positions, labels and
/// escaping worked out by hand.
@Suite("HTML reports from hand-made inputs")
struct ReportRenderingTests {
    @Test func namesAreEscapedAndAnEmptyChartSaysSo() {
        let chart = HTMLReport.chart(
            title: "a <b> & c", xLabel: "x", series: [HTMLReport.Series(name: "s\"1", points: [], color: "#000")])
        #expect(chart.contains("a &lt;b&gt; &amp; c") && chart.contains("no data"))
        let one = HTMLReport.chart(
            title: "t", xLabel: "x",
            series: [HTMLReport.Series(name: "n", points: [(1, 2), (2, 3), (3, 1)], color: "#000")])
        // Three points across the plot: x from 56 to 628, y from 14 (the largest) to 224 (the smallest).
        #expect(one.contains("points=\"56.0,119.0 342.0,14.0 628.0,224.0\""))
    }

    @Test func aLogAxisPlacesDecadesEvenlyAndMarksFindTheirPlace() {
        // x from 1e-3 to 10: four decades over 572 px, 1e-1 in the middle.
        let c = HTMLReport.chart(
            title: "t", xLabel: "rate",
            series: [HTMLReport.Series(name: "n", points: [(1e-3, 1), (1e-1, 2), (10, 3)], color: "#000")],
            marks: [HTMLReport.Mark(x: 1e-2, label: "here")], logX: true)
        #expect(c.contains("points=\"56.0,224.0 342.0,119.0 628.0,14.0\""))
        // 1e-2 is a quarter of the way: 56 + 143.
        #expect(c.contains("<line class=\"mark\" x1=\"199.0\""))
        // Decades labelled: 0.001, 0.01, 0.1, 1, 10.
        for label in [">0.001<", ">0.01<", ">0.1<", ">1<", ">10<"] { #expect(c.contains(label), "\(label)") }
        // Each point has a tooltip with its values.
        #expect(c.contains("<title>n: rate 0.1, 2</title>"))
        // Marks at one x share a line.
        let two = HTMLReport.chart(
            title: "t", xLabel: "x", series: [HTMLReport.Series(name: "n", points: [(1, 1), (2, 2)], color: "#000")],
            marks: [HTMLReport.Mark(x: 2, label: "a"), HTMLReport.Mark(x: 2, label: "b")])
        #expect(two.components(separatedBy: "class=\"mark\"").count == 2 && two.contains(">a, b</text>"))
    }

    /// A run whose validation loss is lowest at epoch 4 and rises after while the training loss falls: the doctor's
    /// overfitting onset is marked on the loss chart; a run that keeps improving has no such mark.
    @Test func theOnsetOfOverfittingIsMarkedOnTheLossChart() throws {
        func history(train: [Double], validation: [Double]) throws -> History {
            let epochs = zip(train, validation).enumerated().map { i, l in
                "{\"epoch\": \(i + 1), \"trainLoss\": \(l.0), \"validationLoss\": \(l.1), \"metrics\": {\"auc\": 0.9}, \"learningRate\": 0.01, "
                    + "\"gradientNormMean\": 1, \"gradientNormMax\": 1, \"seconds\": 1, \"samplesPerSecond\": 1}"
            }
            let lowest = validation.firstIndex(of: validation.min()!)! + 1
            let json =
                "{\"epochs\": [\(epochs.joined(separator: ", "))], \"stepLosses\": [], \"stepsPerEpoch\": 2, \"status\": \"completed\", "
                + "\"reason\": \"\", \"monitor\": \"auc\", \"monitorHigherIsBetter\": true, \"bestEpoch\": 6, \"lowestValidationLossEpoch\": \(lowest)}"
            return try JSONDecoder().decode(History.self, from: Data(json.utf8))
        }
        let over = try history(
            train: [1.0, 0.8, 0.6, 0.45, 0.35, 0.25, 0.2, 0.15], validation: [1.0, 0.8, 0.6, 0.5, 0.55, 0.6, 0.7, 0.8])
        let found = Doctor().diagnose(Curves(history: over))
        #expect(found.first { $0.id == .overfitting }?.epochs == [4, 8])
        let html = HTMLReport.runCharts(over, findings: found, title: "")
        #expect(html.contains(">lowest loss (4), overfitting from 4</text>"))
        let figures = html.components(separatedBy: "<figure class=\"chart\">").dropFirst()
        #expect(
            figures.filter { $0.contains("overfitting from") }.map { $0.hasPrefix("<figcaption>loss</figcaption>") }
                == [true], "on the loss chart only")
        // Without per-step rates, the rate per epoch.
        #expect(reportCharts(html).contains { $0.caption == "learning rate per epoch" && $0.points == [8] })

        var fine = try history(
            train: [1.0, 0.8, 0.6, 0.45, 0.35, 0.25, 0.2, 0.15], validation: [1.0, 0.8, 0.6, 0.5, 0.45, 0.4, 0.38, 0.36]
        )
        fine.stepLearningRates = [
            0.01, 0.01, 0.005, 0.005, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001
        ]
        let plain = HTMLReport.runCharts(fine, findings: Doctor().diagnose(Curves(history: fine)), title: "")
        #expect(!plain.contains("overfitting from"))
        #expect(reportCharts(plain).contains { $0.caption == "learning rate per step" && $0.points == [16] })
    }

    @Test func theRangeTestsSweepsAreReadWithoutTheirStoppingPoint() {
        let csv = """
            seed,step,lr,loss,smoothed_loss
            0,0,1e-07,0.7,0.7
            0,1,1e-05,0.6,0.6
            0,2,0.001,0.5,0.5
            0,3,0.1,3,2.5
            1,0,1e-07,0.7,0.7
            1,1,1e-05,0.6,0.65
            1,2,0.001,0.5,0.6
            1,3,0.01,0.9,0.72
            1,4,0.1,1.5,0.9
            1,5,1,2,1.1
            2,0,1e-07,0.7,0.7
            2,1,1e-05,inf,inf

            """
        let sweeps = HTMLReport.rangeTestSweeps(csv, divergenceFactor: 4)
        // Seed 0 stopped at 2.5 > 4 x 0.5: left out. Seed 1 ran out of steps (1.1 < 4 x 0.6): drawn up to its lowest,
        // 0.6, as after it 0.72 is above where it started (0.7). Seed 2 stopped at inf.
        #expect(sweeps.map(\.seed) == ["0", "1", "2"])
        #expect(sweeps.map { $0.points.map(\.x) } == [[1e-7, 1e-5, 1e-3], [1e-7, 1e-5, 1e-3], [1e-7]])
        #expect(sweeps[1].points.map(\.y) == [0.7, 0.65, 0.6])
        let section = HTMLReport.rangeTest(
            StudyReport.RangeTest(
                csv: csv, values: ["suggestion": 1e-4, "spread": 2], minimumRate: 1e-7, maximumRate: 10,
                divergenceFactor: 4))
        // 1e-4 is 3/4 of the way from 1e-7 to 1e-3: 56 + 429.
        #expect(section.contains("<line class=\"mark\" x1=\"485.0\"") && section.contains("suggestion 0.0001"))
        #expect(section.contains("differ 2.00x"))
    }

    /// η² by hand. Six trials with objective 1, 1, 2, 2, 3, 3: `a` (x x y y z z) fixes it, `b` (p q p q p q) has the
    /// same mean 2 in both groups, `c` (u u u v v v) has group means 4/3 and 8/3: between 3(2/3)² + 3(2/3)² = 8/3,
    /// total 4, η² = 2/3. `d` takes one value and is left out.
    @Test func parameterImportanceIsTheCorrelationRatio() {
        let a = ["x", "x", "y", "y", "z", "z"], b = ["p", "q", "p", "q", "p", "q"], c = ["u", "u", "u", "v", "v", "v"]
        let objective = [1.0, 1, 2, 2, 3, 3]
        let trials = (0..<6).map { i -> (parameters: [String: ParameterValue], value: Double) in
            (["a": .string(a[i]), "b": .string(b[i]), "c": .string(c[i]), "d": .bool(true)], objective[i])
        }
        let entries = ParameterImportance.eta2(trials)
        #expect(entries.map(\.name) == ["a", "c", "b"])
        #expect(entries[0].eta2 == 1 && entries[0].groups == 3 && entries[0].chance == 2.0 / 5)
        #expect(abs(entries[1].eta2 - 2.0 / 3) < 1e-12 && entries[1].groups == 2 && entries[1].chance == 1.0 / 5)
        #expect(abs(entries[2].eta2) < 1e-12)
        #expect(!entries.contains { $0.binned })

        // Ten distinct numbers, 1 to 10, with objective equal to them: five quantile bins of two, means 1.5, 3.5, ...,
        // 9.5 around 5.5: between 2(16 + 4 + 0 + 4 + 16) = 80, total 82.5, η² = 32/33.
        let numeric = (1...10).map { (parameters: ["lr": ParameterValue.double(Double($0) * 1e-3)], value: Double($0)) }
        let binned = ParameterImportance.eta2(numeric)
        #expect(binned.count == 1 && binned[0].binned && binned[0].groups == 5)
        #expect(abs(binned[0].eta2 - 32.0 / 33) < 1e-12)
        // Equal values share a bin: sorted 1 1 1 2 3 4 5 6 start at positions 0, 3, 4, 5, 6, 7: bins 0, 1, 2, 3, 3, 4.
        let keys = ParameterImportance.groupKeys(
            [1, 1, 1, 2, 3, 4, 5, 6].map { ParameterValue.int($0) }, maximumBins: 5)
        #expect(keys.keys == ["bin 0", "bin 0", "bin 0", "bin 1", "bin 2", "bin 3", "bin 3", "bin 4"] && keys.binned)
        // No spread in the objective: nothing to explain.
        #expect(ParameterImportance.eta2(trials.map { ($0.parameters, 1.0) }).isEmpty)
    }

    @Test func parallelAxesPlaceValuesByHand() throws {
        // lr on a log scale: 1e-4, 1e-3, 1e-2 at 0, 1/2, 1.
        let lr = try #require(
            ParallelAxis.make(name: "lr", values: [.double(1e-4), .double(1e-2), .double(1e-3)], distributions: []))
        #expect(lr.scale == .log(low: 1e-4, high: 1e-2, zero: false))
        #expect(
            abs(lr.position(.double(1e-3))! - 0.5) < 1e-12 && lr.position(.double(1e-4)) == 0
                && lr.position(.double(1e-2)) == 1)
        // A weight decay with zeros: 0 at the bottom, the positive values from 0.15 up; 1e-3 halfway: 0.15 + 0.85 / 2.
        let wd = try #require(
            ParallelAxis.make(
                name: "weight_decay", values: [.double(0), .double(1e-4), .double(1e-2)], distributions: []))
        #expect(wd.position(.double(0)) == 0 && wd.position(.double(1e-4)) == 0.15 && wd.position(.double(1e-2)) == 1)
        #expect(abs(wd.position(.double(1e-3))! - 0.575) < 1e-12)
        // A width on a linear scale: 16, 32, 64 at 0, 1/3, 1; on a log scale when its distribution says so.
        let width = try #require(
            ParallelAxis.make(
                name: "width", values: [.int(16), .int(32), .int(64)], distributions: [.categorical([.int(16)])]))
        #expect(width.position(.int(32)) == 1.0 / 3)
        let logWidth = try #require(
            ParallelAxis.make(
                name: "width", values: [.int(16), .int(64)],
                distributions: [.int(low: 16, high: 64, step: 1, log: true)]))
        #expect(abs(logWidth.position(.int(32))! - 0.5) < 1e-12)
        // Categories evenly spaced: strings alphabetically, false before true, choices of numbers in numeric order.
        let schedule = try #require(
            ParallelAxis.make(
                name: "schedule", values: [.string("step"), .string("constant"), .string("cosine")], distributions: []))
        #expect(schedule.scale == .categories([.string("constant"), .string("cosine"), .string("step")]))
        #expect(schedule.position(.string("cosine")) == 0.5 && schedule.position(.string("step")) == 1)
        let bn = try #require(
            ParallelAxis.make(name: "batchnorm", values: [.bool(true), .bool(false)], distributions: []))
        #expect(bn.position(.bool(false)) == 0 && bn.position(.bool(true)) == 1)
        let depth = try #require(
            ParallelAxis.make(
                name: "depth", values: [.int(3), .int(1), .int(2), .int(1)],
                distributions: [.categorical([.int(1), .int(2), .int(3)])]))
        #expect(depth.scale == .categories([.int(1), .int(2), .int(3)]))
        // One value: no axis.
        #expect(ParallelAxis.make(name: "dropout", values: [.double(0), .double(0)], distributions: []) == nil)
    }

    @Test func parallelCoordinatesDrawEachCompleteTrialThroughItsAxes() {
        func trial(_ n: Int, _ lr: Double, _ act: String, _ value: Double?, _ state: TrialState = .complete)
            -> FrozenTrial
        {
            var t = FrozenTrial(number: n, state: state)
            t.parameters = ["lr": .double(lr), "activation": .string(act), "depth": .int(2)]
            t.value = value
            return t
        }
        let trials = [
            trial(0, 1e-3, "relu", 0.8), trial(1, 1e-1, "swish", 0.9), trial(2, 1e-2, "relu", 0.7),
            trial(3, 1e-2, "relu", nil, .pruned)
        ]
        let html = HTMLReport.parallelCoordinates(trials, monitor: "auc", higherIsBetter: true)
        let found = reportCharts(html)
        // Three complete trials; axes activation, lr (depth does not vary), auc.
        #expect(found.count == 1 && found[0].points == [3, 3, 3])
        // Axes at x = 40, 150, 260; y from 40 (top) to 286 (bottom). Trial 2 (the worst, drawn first): relu at the
        // bottom, lr 1e-2 halfway (143 px up), auc 0.7 at the bottom.
        #expect(html.contains("points=\"40.0,286.0 150.0,163.0 260.0,286.0\""))
        // Trial 1, the best, last and orange: swish at the top, 1e-1 at the top, 0.9 at the top.
        let last = html.components(separatedBy: "<polyline").last ?? ""
        #expect(last.contains("stroke=\"#E69F00\"") && last.contains("points=\"40.0,40.0 150.0,40.0 260.0,40.0\""))
        // The worst trial is the faintest.
        #expect(html.contains("stroke-opacity=\"0.12\""))
        #expect(html.contains("on a log scale: lr"))
    }
}
