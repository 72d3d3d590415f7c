import Foundation
import TuneData
import TuneDiagnosis
import TuneSearch
import TuneTraining

/// `report.html`: one self-contained file (inline SVG and CSS, no script, no network) for a run directory of
/// `tune train` or an output directory of `tune search`. Light and dark mode follow the reader's setting; the palette
/// is Okabe and Ito's (colour-blind safe); charts scale from a phone's width to a desktop's (the parallel coordinates
/// scroll sideways on a phone); hovering a point of a line chart shows its values (SVG tooltips).
public enum HTMLReport {
    /// Okabe-Ito colours: blue, orange, bluish green, vermillion, reddish purple, sky blue.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"]

    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var color: String
        public var faded = false
    }

    /// A vertical mark on a chart (the best epoch, the lowest-loss epoch, the onset of overfitting, a suggested rate).
    public struct Mark {
        public var x: Double
        public var label: String
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func number(_ v: Double) -> String {
        guard v.isFinite else { return "-" }
        return abs(v) >= 1000 || (abs(v) < 0.001 && v != 0) ? String(format: "%.3g", v) : String(format: "%.4g", v)
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        "<div class=\"scroll\"><table><thead><tr>" + header.map { "<th>\(escape($0))</th>" }.joined()
            + "</tr></thead><tbody>"
            + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined()
            + "</tbody></table></div>"
    }

    static func page(title: String, sections: [String]) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        :root { --fg: #1b1b1b; --bg: #ffffff; --muted: #666; --line: #ccc; --bar: #0072B2; }
        @media (prefers-color-scheme: dark) { :root { --fg: #e8e8e8; --bg: #161616; --muted: #aaa; --line: #444; --bar: #56B4E9; } }
        body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; padding: 12px; max-width: 1100px; }
        h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid var(--line); }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 12px; }
        figure.chart { margin: 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
        svg { width: 100%; height: auto; } .axis { stroke: var(--muted); } .tick, .marklabel { fill: var(--muted); font-size: 11px; }
        .marklabel { paint-order: stroke; stroke: var(--bg); stroke-width: 3px; }
        .mark { stroke: var(--muted); stroke-dasharray: 4 3; } .grid { stroke: var(--line); stroke-width: 0.5; }
        .axisname { fill: var(--fg); font-size: 12px; font-weight: 600; }
        .hover circle { fill: var(--fg); } .hover circle:hover { fill-opacity: 0.6; }
        @media (max-width: 500px) { figure.chart > svg .tick, figure.chart > svg .marklabel { font-size: 18px; } }
        .legend { list-style: none; padding: 0; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 10px; font-size: 13px; }
        .legend span { display: inline-block; width: 12px; height: 3px; margin-right: 4px; vertical-align: middle; }
        .scroll { overflow-x: auto; } table { border-collapse: collapse; font-size: 13px; }
        td, th { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
        .empty, .note { color: var(--muted); }
        .importance td { white-space: nowrap; padding: 3px 6px; } .importance td.barcell { min-width: 70px; width: 50%; }
        .bar { position: relative; height: 12px; background: var(--line); }
        .bar span { display: block; height: 100%; background: var(--bar); }
        .bar i { position: absolute; top: -3px; bottom: -3px; width: 2px; margin-left: -1px; background: var(--fg); }
        </style></head><body>
        <h1>\(escape(title))</h1>
        \(sections.joined(separator: "\n"))
        </body></html>
        """
    }

    /// The curves of one run: losses with the selected and lowest-loss epochs marked, and the onset of overfitting
    /// when the doctor finds it (the epoch of the lowest validation loss, after which it rose while the training loss
    /// fell); the monitored metric; the learning rate of every step (of every epoch for a history without them).
    static func runCharts(_ h: History, findings found: [Finding], title: String) -> String {
        let epochs = h.epochs.map { Double($0.epoch) }
        var marks: [Mark] = []
        if let b = h.bestEpoch { marks.append(Mark(x: Double(b), label: "best \(h.monitor) (\(b))")) }
        if let l = h.lowestValidationLossEpoch, l != h.bestEpoch {
            marks.append(Mark(x: Double(l), label: "lowest loss (\(l))"))
        }
        var lossMarks = marks
        if let onset = found.first(where: { $0.id == .overfitting })?.epochs.first {
            lossMarks.append(Mark(x: Double(onset), label: "overfitting from \(onset)"))
        }
        let loss = chart(
            title: "\(title)loss", xLabel: "epoch",
            series: [
                Series(
                    name: "training loss", points: Array(zip(epochs, h.epochs.map(\.trainLoss))).map { ($0.0, $0.1) },
                    color: palette[0]),
                Series(
                    name: "validation loss",
                    points: Array(zip(epochs, h.epochs.map(\.validationLoss))).map { ($0.0, $0.1) }, color: palette[1])
            ], marks: lossMarks)
        let metricPoints = h.epochs.compactMap { r in r.metrics[h.monitor].map { (Double(r.epoch), $0) } }
        let metric = chart(
            title: "\(title)validation \(h.monitor)", xLabel: "epoch",
            series: [
                Series(
                    name: "validation \(h.monitor)", points: metricPoints.map { (x: $0.0, y: $0.1) }, color: palette[2])
            ], marks: marks)
        let rate: String
        if let steps = h.stepLearningRates, !steps.isEmpty {
            rate = chart(
                title: "\(title)learning rate per step", xLabel: "step",
                series: [
                    Series(
                        name: "learning rate",
                        points: steps.enumerated().map { (x: Double($0.offset + 1), y: $0.element) }, color: palette[4])
                ],
                logY: true)
        } else {
            rate = chart(
                title: "\(title)learning rate per epoch", xLabel: "epoch",
                series: [
                    Series(
                        name: "learning rate", points: h.epochs.map { (x: Double($0.epoch), y: $0.learningRate) },
                        color: palette[4])
                ], logY: true)
        }
        return "<div class=\"charts\">\(loss)\(metric)\(rate)</div>"
    }

    /// Findings as a list: id (and severity), explanation, next step; `none` when there are none.
    static func findings(_ found: [Finding], severity: Bool = false, none: String = "The doctor has no findings.")
        -> String
    {
        guard !found.isEmpty else { return "<p class=\"note\">\(none)</p>" }
        return "<ul>"
            + found.map {
                "<li><b>\(escape($0.id.rawValue))</b>\(severity ? " (\($0.severity.rawValue))" : ""): \(escape($0.explanation)) <i>Next:</i> \(escape($0.nextStep))</li>"
            }.joined() + "</ul>"
    }

    /// The LR range test's sweeps from `lr_range_test.csv` (seed, step, lr, loss, smoothed_loss), by seed in the
    /// file's order: each the smoothed loss against the rate, without the point where the sweep stopped (a smoothed
    /// loss not finite or past `divergenceFactor` times the lowest before it) and, past the lowest point,
    /// without the first point above the sweep's first value and all after it: the climb back towards where it
    /// started is drawn, not the blow-up, which would flatten the rest.
    static func rangeTestSweeps(_ csv: String, divergenceFactor factor: Double)
        -> [(seed: String, points: [(x: Double, y: Double)])]
    {
        var sweeps: [(seed: String, points: [(x: Double, y: Double)])] = []
        for line in csv.split(separator: "\n").dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == 5, let rate = Double(cells[2]), let smoothed = Double(cells[4]) else { continue }
            let seed = String(cells[0])
            if sweeps.last?.seed != seed { sweeps.append((seed, [])) }
            sweeps[sweeps.count - 1].points.append((rate, smoothed))
        }
        for i in sweeps.indices {
            guard let last = sweeps[i].points.last else { continue }
            let lowest = sweeps[i].points.dropLast().map(\.y).filter(\.isFinite).min()
            if !last.y.isFinite || lowest.map({ last.y > factor * $0 }) == true { sweeps[i].points.removeLast() }
            let ys = sweeps[i].points.map(\.y)
            guard let start = ys.first, let low = ys.indices.min(by: { ys[$0] < ys[$1] }),
                let back = ys.indices.first(where: { $0 > low && ys[$0] > start })
            else { continue }
            sweeps[i].points.removeSubrange(back...)
        }
        return sweeps
    }

    /// The LR range test section: each seed's sweep with the recipe's suggestion marked.
    static func rangeTest(_ test: StudyReport.RangeTest) -> String {
        let sweeps = rangeTestSweeps(test.csv, divergenceFactor: test.divergenceFactor), values = test.values
        let series = sweeps.enumerated().map {
            Series(
                name: "seed \($0.element.seed)", points: $0.element.points, color: palette[$0.offset % palette.count])
        }
        let suggestion = values?["suggestion"]
        let marks = suggestion.map { [Mark(x: $0, label: "suggestion \(number($0))")] } ?? []
        var text =
            "Each seed's sweep trains one short run while the learning rate grows exponentially from \(number(test.minimumRate)) "
            + "to \(number(test.maximumRate)), recording the training loss (smoothed: an exponential moving average); "
            + "a sweep stops when its smoothed loss passes \(number(test.divergenceFactor))x its lowest; it is drawn until its loss climbs back "
            + "above where it started. "
        if let suggestion {
            text +=
                "Each seed suggests a tenth of the rate at its lowest smoothed loss; the recipe starts stage 1 at their median (to 3 digits), \(number(suggestion))"
                + (values?["spread"].map { " (the seeds' suggestions differ \(String(format: "%.2f", $0))x)." } ?? ".")
        } else {
            text += "No sweep gave a suggestion: the recipe started from --lr."
        }
        return chart(
            title: "smoothed training loss against the learning rate, per seed", xLabel: "learning rate",
            series: series, marks: marks, logX: true) + "<p>\(escape(text))</p>"
    }

    /// The parameter-importance section: η² of each parameter over the complete trials, as bars, with the method
    /// and its limits.
    static func importance(_ trials: [FrozenTrial], monitor: String, recipe: Bool) -> String {
        let complete = trials.filter { $0.state == .complete && ($0.value?.isFinite ?? false) }
        let entries = ParameterImportance.eta2(complete.map { ($0.parameters, $0.value!) })
        let method =
            "<p class=\"note\">Method: the correlation ratio η² (eta squared) of each parameter over the \(complete.count) complete trials: "
            + "the share of the variance of the validation \(escape(monitor)) that lies between groups of trials sharing the parameter's value "
            + "(a numeric parameter with more than \(ParameterImportance.maximumBins) distinct values cut into \(ParameterImportance.maximumBins) quantile bins). "
            + "It takes one parameter at a time: parameters that changed together share credit"
            + (recipe
                ? " (the recipe changes a few at each stage, so a parameter's η² also carries what else its stage changed)"
                : "")
            + " and interactions are not separated. With few trials it is noisy "
            + "and biased upward: a parameter with no effect scores about (groups − 1) / (trials − 1), shown as chance (the tick on each bar).</p>"
        guard !entries.isEmpty else {
            return
                "<p class=\"empty\">No parameter took two values over at least 3 complete trials with different values of \(escape(monitor)).</p>"
                + method
        }
        let rows = entries.map { e -> String in
            let bar =
                "<div class=\"bar\"><span style=\"width:\(String(format: "%.1f", e.eta2 * 100))%\" data-eta2=\"\(String(format: "%.4f", e.eta2))\"></span>"
                + "<i style=\"left:\(String(format: "%.1f", e.chance * 100))%\" title=\"chance \(String(format: "%.2f", e.chance))\"></i></div>"
            let fewer = e.trials < complete.count ? " (\(e.trials) trials)" : ""
            return
                "<tr><td>\(escape(e.name))</td><td class=\"barcell\">\(bar)</td><td>\(String(format: "%.2f", e.eta2))</td>"
                + "<td>\(e.groups) \(e.binned ? "bins" : "values")\(fewer)</td><td>\(String(format: "%.2f", e.chance))</td></tr>"
        }
        return
            "<div class=\"scroll\"><table class=\"importance\"><thead><tr><th>parameter</th><th colspan=\"2\">η²</th><th>groups</th><th>chance</th></tr></thead><tbody>"
            + rows.joined() + "</tbody></table></div>" + method
    }

    /// The report of a run from what it holds in memory; `name` titles it.
    public static func run(history h: History, summary m: RunSummary?, name: String) -> String {
        let found = Doctor().diagnose(Curves(history: h))
        var sections = ["<h2>Curves</h2>" + runCharts(h, findings: found, title: "")]
        sections.append("<h2>The doctor</h2>" + findings(found))
        if let m {
            sections.append(
                "<h2>Metrics</h2>"
                    + table(
                        ["split", "metrics"],
                        [
                            [
                                "validation (epoch \(m.bestEpoch.map(String.init) ?? "-"))",
                                m.validation.keys.sorted().map { "\($0) \(number(m.validation[$0]!))" }.joined(
                                    separator: ", ")
                            ],
                            [
                                "test",
                                m.test.keys.sorted().map { "\($0) \(number(m.test[$0]!))" }.joined(separator: ", ")
                            ]
                        ]))
        }
        return page(title: "swift-tune run: \(name)", sections: sections)
    }
}
