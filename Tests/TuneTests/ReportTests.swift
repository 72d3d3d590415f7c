import Foundation
import Testing
@testable import Tune
import TuneData
import TuneTensor

@Suite("HTML reports")
struct ReportTests {
    /// The SVG charts of a page: each figure's caption and the data points of each of its series.
    func charts(_ html: String) -> [(caption: String, points: [Int])] {
        html.components(separatedBy: "<figure class=\"chart\">").dropFirst().map { figure in
            let caption = figure.components(separatedBy: "<figcaption>").dropFirst().first?.components(separatedBy: "</figcaption>").first ?? ""
            let points = figure.components(separatedBy: "data-points=\"").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
            return (caption, points)
        }
    }

    @Test func aStudysReportIsSelfContainedAndEveryChartHasData() throws {
        let dir = scratchDirectory()
        let data = dir.appendingPathComponent("moons.csv").path
        var rng = PhiloxRandom(seed: 5)
        let (x, y) = Synthetic.twoMoons(count: 300, noise: 0.2, using: &rng)
        try writeAtomically(Data(Synthetic.csv(x: x, targets: y.map(String.init)).utf8), to: URL(fileURLWithPath: data))
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
        // Self-contained: no script, nothing fetched.
        for outside in ["<script", "src=", "href=", "@import", "url("] { #expect(!html.contains(outside), "\(outside)") }
        #expect(html.contains("prefers-color-scheme: dark") && html.contains("name=\"viewport\""))
        let found = charts(html)
        #expect(found.count >= 7, "\(found.map(\.caption))")
        for chart in found { #expect(!chart.points.isEmpty && chart.points.allSatisfy { $0 >= 1 }, "\(chart.caption) has data") }
        // Every trial has a curve, and the best-so-far line has one point per finished trial.
        let everyTrial = try #require(found.first { $0.caption.hasPrefix("validation auc per epoch") })
        #expect(everyTrial.points.count == summary.trials.count)
        let bestSoFar = try #require(found.first { $0.caption.hasPrefix("best validation auc against trials") })
        #expect(bestSoFar.points == [summary.trials.count])
        for section in ["Best so far", "Every trial", "Trials", "The recipe, stage by stage", "Single models and the ensemble", "The best model"] {
            #expect(html.contains("<h2>\(section)</h2>"), "\(section)")
        }
        // The best model's run directory has its own report.
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("search/best/report.html").path))
    }

    @Test func namesAreEscapedAndAnEmptyChartSaysSo() {
        let chart = HTMLReport.chart(title: "a <b> & c", xLabel: "x", series: [HTMLReport.Series(name: "s\"1", points: [], color: "#000")])
        #expect(chart.contains("a &lt;b&gt; &amp; c") && chart.contains("no data"))
        let one = HTMLReport.chart(title: "t", xLabel: "x", series: [HTMLReport.Series(name: "n", points: [(1, 2), (2, 3), (3, 1)], color: "#000")])
        // Three points across the plot: x from 56 to 628, y from 14 (the largest) to 224 (the smallest).
        #expect(one.contains("points=\"56.0,119.0 342.0,14.0 628.0,224.0\""))
    }

    @Test func aLogAxisPlacesDecadesEvenlyAndMarksFindTheirPlace() {
        // x from 1e-3 to 10: four decades over 572 px, 1e-1 in the middle.
        let c = HTMLReport.chart(title: "t", xLabel: "rate", series: [HTMLReport.Series(name: "n", points: [(1e-3, 1), (1e-1, 2), (10, 3)], color: "#000")],
                                 marks: [HTMLReport.Mark(x: 1e-2, label: "here")], logX: true)
        #expect(c.contains("points=\"56.0,224.0 342.0,119.0 628.0,14.0\""))
        // 1e-2 is a quarter of the way: 56 + 143.
        #expect(c.contains("<line class=\"mark\" x1=\"199.0\""))
        // Decades labelled: 0.001, 0.01, 0.1, 1, 10.
        for label in [">0.001<", ">0.01<", ">0.1<", ">1<", ">10<"] { #expect(c.contains(label), "\(label)") }
        // Each point has a tooltip with its values.
        #expect(c.contains("<title>n: rate 0.1, 2</title>"))
        // Marks at one x share a line.
        let two = HTMLReport.chart(title: "t", xLabel: "x", series: [HTMLReport.Series(name: "n", points: [(1, 1), (2, 2)], color: "#000")],
                                   marks: [HTMLReport.Mark(x: 2, label: "a"), HTMLReport.Mark(x: 2, label: "b")])
        #expect(two.components(separatedBy: "class=\"mark\"").count == 2 && two.contains(">a, b</text>"))
    }
}
