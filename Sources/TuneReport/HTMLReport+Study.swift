import Foundation
import TuneDiagnosis
import TuneSearch

extension HTMLReport {
    /// The report of a study: best so far against trials and against epochs, every trial's curve (pruned ones
    /// faded), parallel coordinates and parameter importance (η²) over the complete trials, the parameters of each
    /// trial, the LR range test when there is one, the recipe's stages and the ensemble when there are, and the best
    /// model's curves.
    public static func study(_ input: StudyReport) -> String {
        let trials = input.trials.filter { $0.state.isFinished }
        let monitor = input.monitor
        var sections = [
            "<h2>Best so far</h2>" + bestSoFar(trials, monitor: monitor, higherIsBetter: input.higherIsBetter),
            "<h2>Every trial</h2>" + everyTrial(trials, monitor: monitor),
            "<h2>Parallel coordinates</h2>"
                + parallelCoordinates(trials, monitor: monitor, higherIsBetter: input.higherIsBetter, best: input.best),
            "<h2>Parameter importance</h2>" + importance(trials, monitor: monitor, recipe: input.stages != nil),
            "<h2>Trials</h2>" + trialTable(trials, monitor: monitor)
        ]
        if let test = input.rangeTest {
            sections.append("<h2>LR range test</h2>" + rangeTest(test))
        }
        if let check = input.dataCheck { sections.append("<h2>Data</h2>" + data(check)) }
        if let stages = input.stages {
            sections.append(
                "<h2>The recipe, stage by stage</h2>"
                    + table(
                        ["stage", "trials", "decision", "why"],
                        stages.map { ["\($0.number) \($0.name)", "\($0.trials)", $0.decision, $0.why] }))
            if let e = input.ensemble { sections.append("<h2>Single models and the ensemble</h2>" + ensemble(e)) }
        }
        // The best model's curves.
        if let h = input.bestHistory {
            let found = Doctor().diagnose(Curves(history: h))
            sections.append("<h2>The best model</h2>" + runCharts(h, findings: found, title: "") + findings(found))
        }
        return page(title: "swift-tune study: \(input.name)", sections: sections)
    }

    /// The best value so far against the trials' numbers and against the epochs trained.
    static func bestSoFar(_ trials: [FrozenTrial], monitor: String, higherIsBetter higher: Bool) -> String {
        var best: Double?, spent = 0.0
        var byTrial: [(x: Double, y: Double)] = [], byEpoch: [(x: Double, y: Double)] = []
        for t in trials.sorted(by: { $0.number < $1.number }) {
            spent += Double(t.intermediate.count)
            if t.state == .complete, let v = t.value, best.map({ higher ? v > $0 : v < $0 }) ?? true { best = v }
            if let best {
                byTrial.append((Double(t.number), best))
                byEpoch.append((spent, best))
            }
        }
        return "<div class=\"charts\">"
            + chart(
                title: "best validation \(monitor) against trials", xLabel: "trial",
                series: [Series(name: "best so far", points: byTrial, color: palette[0])])
            + chart(
                title: "best validation \(monitor) against epochs", xLabel: "epochs trained",
                series: [Series(name: "best so far", points: byEpoch, color: palette[1])])
            + "</div>"
    }

    /// Every trial's validation curve; pruned and failed trials faded.
    static func everyTrial(_ trials: [FrozenTrial], monitor: String) -> String {
        let curves = trials.map { t in
            Series(
                name: "trial \(t.number) (\(t.state.rawValue))",
                points: t.intermediate.keys.sorted().compactMap { k in
                    t.intermediate[k].flatMap { $0.isFinite ? (Double(k), $0) : nil }
                }, color: t.state == .complete ? palette[t.number % 3] : palette[3], faded: t.state != .complete)
        }
        return chart(
            title: "validation \(monitor) per epoch (pruned and failed trials faded)", xLabel: "epoch",
            series: curves, hoverPoints: 0)
    }

    /// Each trial's state, value and parameters.
    static func trialTable(_ trials: [FrozenTrial], monitor: String) -> String {
        let names = Array(Set(trials.flatMap { $0.parameters.keys })).sorted()
        return table(
            ["trial", "state", monitor] + names,
            trials.map { t in
                ["\(t.number)", t.state.rawValue, t.value.map(number) ?? "-"]
                    + names.map { t.parameters[$0].map { $0.description } ?? "" }
            })
    }

    /// Each member's value, their mean and the ensemble's, with the sentence that compares them.
    static func ensemble(_ e: EnsembleReport) -> String {
        let members = e.members.enumerated().map { (x: Double($0.offset + 1), y: $0.element) }
        return chart(
            title: "\(e.split) \(e.monitor): each member, their mean and the ensemble", xLabel: "member",
            series: [
                Series(name: "members", points: members, color: palette[0]),
                Series(name: "mean", points: members.map { ($0.x, e.mean) }, color: palette[1]),
                Series(name: "ensemble", points: members.map { ($0.x, e.ensemble) }, color: palette[2])
            ]) + "<p>\(escape(e.sentence))</p>"
    }
}
