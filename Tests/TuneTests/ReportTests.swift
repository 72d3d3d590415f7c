import Foundation
import TestSupport
import Testing
@testable import Tune
@testable import TuneEngine
@testable import TuneReport
@testable import TuneRun
import TuneData
import TuneDiagnosis
import TuneSearch
import TuneTensor
import TuneTraining

@Suite("HTML reports of a trained study")
struct ReportTests {
    @Test func aStudysReportIsSelfContainedAndEveryChartHasData() throws {
        let (dir, data) = try moons(seed: 5)
        var s = TrainSettings()
        s.data = data
        s.target = "label"
        s.epochs = 8
        s.out = dir.appendingPathComponent("search").path
        let recipe = RecipeRun(settings: s)
        recipe.members = 3
        let summary = try recipe.run()
        let html = try String(contentsOf: dir.appendingPathComponent("search/report.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!doctype html>") && html.contains("</html>"))
        // Self-contained: no script, nothing fetched (tooltips are SVG titles).
        for outside in ["<script", "src=", "href=", "@import", "url("] {
            #expect(!html.contains(outside), "\(outside)")
        }
        #expect(html.contains("prefers-color-scheme: dark") && html.contains("name=\"viewport\""))
        let found = reportCharts(html)
        #expect(found.count >= 9, "\(found.map(\.caption))")
        // The data check's report: every column of the file, in summary.json and in the report.
        let check = try #require(summary.data)
        #expect(check.columns.map(\.name) == (try CSVReader.read(path: data)).header)
        #expect(reportSection("Data", of: html).contains("<td>label</td>"))
        for chart in found {
            #expect(!chart.points.isEmpty && chart.points.allSatisfy { $0 >= 1 }, "\(chart.caption) has data")
        }
        // Every trial has a curve, and the best-so-far line has one point per finished trial.
        let everyTrial = try #require(found.first { $0.caption.hasPrefix("validation auc per epoch") })
        #expect(everyTrial.points.count == summary.trials.count)
        let bestSoFar = try #require(found.first { $0.caption.hasPrefix("best validation auc against trials") })
        #expect(bestSoFar.points == [summary.trials.count])
        for section in [
            "Best so far", "Every trial", "Parallel coordinates", "Parameter importance", "Trials", "LR range test",
            "The recipe, stage by stage", "Single models and the ensemble", "The best model", "Data"
        ] {
            #expect(html.contains("<h2>\(section)</h2>"), "\(section)")
        }
        // Parallel coordinates: a line per complete trial, through one axis per parameter that varies and the objective.
        let complete = summary.trials.filter { $0.value != nil }
        let varying = RecipeCandidate.parameterNames.filter { name in
            Set(complete.map { $0.candidate.parameters[name]! }).count > 1
        }
        let parallel = try #require(found.first { $0.caption.hasPrefix("parameters of every complete trial") })
        #expect(parallel.points == Array(repeating: varying.count + 1, count: complete.count))
        #expect(!varying.isEmpty)
        // Parameter importance: a bar per varying parameter, and the method named.
        let importance = reportSection("Parameter importance", of: html)
        #expect(importance.components(separatedBy: "data-eta2=").count - 1 == varying.count)
        #expect(
            importance.contains("Method: the correlation ratio η²") && importance.contains("one parameter at a time"))
        // The LR range test: the sweeps of 3 seeds from lr_range_test.csv, the suggestion marked.
        let csv = try String(contentsOf: dir.appendingPathComponent("search/lr_range_test.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("seed,step,lr,loss,smoothed_loss\n"))
        let range = try #require(
            found.first { $0.caption.hasPrefix("smoothed training loss against the learning rate") })
        #expect(range.points.count == 3 && range.points.allSatisfy { $0 > 10 })
        let suggestion = try #require(summary.rangeTest["suggestion"])
        #expect(reportSection("LR range test", of: html).contains("suggestion \(HTMLReport.number(suggestion))"))
        // The best model's learning rate, one point per step.
        let best = try jsonDecoder().decode(
            History.self, from: Data(contentsOf: dir.appendingPathComponent("search/best/history.json")))
        let steps = try #require(best.stepLearningRates)
        #expect(steps.count == best.stepLosses.count)
        let rate = try #require(found.first { $0.caption == "learning rate per step" })
        #expect(rate.points == [steps.count])
        // The best model's run directory has its own report.
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("search/best/report.html").path))
        // Filled under a temporary name and renamed, it is titled with its own.
        let bestReport = try String(contentsOf: dir.appendingPathComponent("search/best/report.html"), encoding: .utf8)
        #expect(bestReport.contains("<title>swift-tune run: best</title>"))
    }
}
