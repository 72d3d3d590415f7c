import Foundation
import TuneSearch

/// One vertical axis of a study's parallel-coordinates chart: a parameter and where each of its values sits, from 0
/// (the bottom) to 1 (the top).
struct ParallelAxis: Equatable {
    enum Scale: Equatable {
        /// Numbers from `low` (bottom) to `high` (top).
        case linear(low: Double, high: Double)
        /// Positive numbers on a log scale from `low` to `high`; with `zero`, values of 0 or less sit at the bottom
        /// under their own label and the positive ones above `ParallelAxis.zeroGap` (a weight decay of 0 is "off").
        case log(low: Double, high: Double, zero: Bool)
        /// Evenly spaced categories, bottom to top.
        case categories([ParameterValue])
    }

    var name: String
    var scale: Scale

    /// The share of the axis left below the positive values of a log axis that also holds zeros.
    static let zeroGap = 0.15

    /// Parameters searched on a log scale by convention: a learning rate and a weight decay (the recipe records its
    /// trials' values as fixed choices, so their distributions do not say).
    static let logNames: Set<String> = ["lr", "weight-decay", "weight_decay"]  // the last: studies of earlier versions

    /// The axis of parameter `name` over `values` (one per trial), or nil when it takes fewer than two values.
    /// Strings and booleans, and numbers drawn from a list of choices, are categories (numbers in numeric order,
    /// `false` before `true`, strings alphabetically); other numbers are on a log scale when a distribution says so
    /// or the name is in `logNames`, else linear.
    static func make(name: String, values: [ParameterValue], distributions: [Distribution]) -> ParallelAxis? {
        let distinct = Array(Set(values))
        guard distinct.count >= 2 else { return nil }
        let numbers = values.compactMap(\.double)
        let choices = distributions.contains {
            if case .categorical(let c) = $0 { return c.count > 1 }; return false
        }
        if numbers.count < values.count || choices {
            return ParallelAxis(name: name, scale: .categories(distinct.sorted(by: order)))
        }
        let logScale =
            logNames.contains(name)
            || distributions.contains {
                switch $0 {
                case let .float(_, _, log, _): return log
                case let .int(_, _, _, log): return log
                case .categorical: return false
                }
            }
        let positive = numbers.filter { $0 > 0 }
        if logScale, let low = positive.min(), let high = positive.max() {
            return ParallelAxis(name: name, scale: .log(low: low, high: high, zero: positive.count < numbers.count))
        }
        return ParallelAxis(name: name, scale: .linear(low: numbers.min()!, high: numbers.max()!))
    }

    /// Numbers before strings, numbers by value, `false` before `true`, strings alphabetically.
    static func order(_ a: ParameterValue, _ b: ParameterValue) -> Bool {
        switch (a.double, b.double) {
        case let (x?, y?) where x != y && !x.isNaN && !y.isNaN: return x < y
        case let (x?, y?) where x.isNaN != y.isNaN: return y.isNaN
        case (.some, .some): return a.description < b.description  // 1 and 1.0, or two NaNs: a total order all the same
        case (.some, nil): return true
        case (nil, .some): return false
        default:
            if let x = a.bool, let y = b.bool { return !x && y }
            return a.description < b.description
        }
    }

    /// Where `value` sits on the axis, in [0, 1]; nil when it does not belong to it.
    func position(_ value: ParameterValue) -> Double? {
        switch scale {
        case let .linear(low, high):
            guard let v = value.double else { return nil }
            return high > low ? (v - low) / (high - low) : 0.5
        case let .log(low, high, zero):
            guard let v = value.double else { return nil }
            if v <= 0 { return zero ? 0 : nil }
            let u = high > low ? Foundation.log(v / low) / Foundation.log(high / low) : 1
            return zero ? Self.zeroGap + (1 - Self.zeroGap) * u : u
        case .categories(let c):
            guard let i = c.firstIndex(of: value) else { return nil }
            return Double(i) / Double(max(c.count - 1, 1))
        }
    }

    /// The labelled points of the axis: its ends (and 0 of a log axis with zeros), or every category (the first,
    /// the last and about 8 between when there are more).
    var ticks: [(position: Double, label: String)] {
        switch scale {
        case let .linear(low, high):
            return [(0, HTMLReport.number(low)), (1, HTMLReport.number(high))]
        case let .log(low, high, zero):
            let bottom = zero ? Self.zeroGap : 0
            return (zero ? [(0, "0")] : []) + [(bottom, HTMLReport.number(low)), (1, HTMLReport.number(high))]
        case .categories(let c):
            let step = max(1, (c.count + 7) / 8)
            return c.indices.filter { $0 % step == 0 || $0 == c.count - 1 }.map {
                (position(c[$0])!, c[$0].description)
            }
        }
    }
}

/// The geometry of a parallel-coordinates chart of `count` axes.
struct ParallelFrame {
    let count: Int
    let gap = 110.0, left = 40.0, right = 90.0, top = 40.0, bottom = 14.0, height = 300.0
    var width: Double { left + gap * Double(count - 1) + right }
    func x(_ i: Int) -> Double { left + gap * Double(i) }
    func y(_ u: Double) -> Double { top + (1 - u) * (height - top - bottom) }
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

extension HTMLReport {
    /// The parallel-coordinates chart of a study's complete trials: one axis per parameter that varies, then the
    /// objective; each trial a polyline through its values, its opacity the share of the other trials it beats or
    /// ties (so trials tied at the best value are all strongest), the best trial (`best`, else the first with the
    /// best value) in orange on top. Trials without a value on some axis are left out (and counted in the caption).
    static func parallelCoordinates(_ trials: [FrozenTrial], monitor: String, higherIsBetter: Bool, best: Int? = nil)
        -> String
    {
        let complete = trials.filter { $0.state == .complete && ($0.value?.isFinite ?? false) }
        let names = Set(complete.flatMap { $0.parameters.keys }).sorted()
        let axes = names.compactMap { name in
            ParallelAxis.make(
                name: name, values: complete.compactMap { $0.parameters[name] },
                distributions: complete.compactMap { $0.distributions[name] })
        }
        let title = "parameters of every complete trial, and its validation \(monitor)"
        let values = complete.map { $0.value! }
        guard !axes.isEmpty, let low = values.min(), let high = values.max() else {
            return
                "<figure class=\"chart\"><figcaption>\(escape(title))</figcaption><p class=\"empty\">no parameter varies across the complete trials</p></figure>"
        }
        let objective = ParallelAxis(name: monitor, scale: .linear(low: low, high: high))
        let all = axes + [objective]
        let frame = ParallelFrame(count: all.count)
        var svg =
            "<svg viewBox=\"0 0 \(Int(frame.width)) \(Int(frame.height))\" style=\"min-width:\(all.count * 72)px; max-width:\(Int(frame.width * 1.25))px\" role=\"img\" aria-label=\"\(escape(title))\">"
        svg += parallelAxes(all, frame: frame, higherIsBetter: higherIsBetter)
        let (lines, drawn) = parallelLines(
            complete, axes: axes, objective: objective, frame: frame, monitor: monitor,
            higherIsBetter: higherIsBetter, best: best)
        svg += lines + "</svg>"
        let leftOut = complete.count - drawn
        let caption =
            "\(escape(title)) (\(drawn) trials\(leftOut > 0 ? ", \(leftOut) without a value on some axis left out" : ""))"
        return "<figure class=\"chart\"><figcaption>\(caption)</figcaption><div class=\"scroll\">\(svg)</div>"
            + "<p class=\"note\">One axis per parameter that varies, then the objective. Each line is a trial: the better its \(escape(monitor)), "
            + "the stronger the line; the best in orange.\(parallelScaleNote(axes))</p></figure>"
    }

    /// Each axis with its name (the objective's saying which way is better) and its ticks.
    static func parallelAxes(_ all: [ParallelAxis], frame: ParallelFrame, higherIsBetter: Bool) -> String {
        var svg = ""
        for (i, axis) in all.enumerated() {
            let x = frame.f(frame.x(i))
            svg +=
                "<line class=\"axis\" x1=\"\(x)\" y1=\"\(frame.f(frame.y(1)))\" x2=\"\(x)\" y2=\"\(frame.f(frame.y(0)))\"/>"
            let label =
                i == all.count - 1 ? "\(axis.name) (\(higherIsBetter ? "higher" : "lower") is better)" : axis.name
            svg +=
                "<text class=\"axisname\" x=\"\(x)\" y=\"\(i % 2 == 0 ? 12 : 25)\" text-anchor=\"middle\">\(escape(label))</text>"
            for t in axis.ticks {
                svg +=
                    "<text class=\"tick\" x=\"\(frame.f(frame.x(i) + 4))\" y=\"\(frame.f(frame.y(t.position) + 4))\">\(escape(t.label))</text>"
            }
        }
        return svg
    }

    /// One polyline per trial with a value on every axis, worst first and the best last (on top); how many were drawn.
    static func parallelLines(
        _ complete: [FrozenTrial], axes: [ParallelAxis], objective: ParallelAxis, frame: ParallelFrame,
        monitor: String, higherIsBetter: Bool, best: Int?
    ) -> (svg: String, drawn: Int) {
        let values = complete.map { $0.value! }
        func better(_ a: Double, _ b: Double) -> Bool { higherIsBetter ? a > b : a < b }
        let bestValue = values.reduce(values[0]) { better($1, $0) ? $1 : $0 }
        let bestNumber =
            best.flatMap { b in complete.contains { $0.number == b } ? b : nil }
            ?? complete.filter { $0.value! == bestValue }.map(\.number).min()
        // Worst first and the best trial last, so that the best lines are drawn on top.
        let ordered = complete.sorted { a, b in
            if (a.number == bestNumber) != (b.number == bestNumber) { return b.number == bestNumber }
            return a.value! != b.value! ? better(b.value!, a.value!) : a.number < b.number
        }
        var svg = "", drawn = 0
        for t in ordered {
            let positions =
                axes.map { a in t.parameters[a.name].flatMap { a.position($0) } } + [
                    objective.position(.double(t.value!))
                ]
            guard positions.allSatisfy({ $0 != nil }) else { continue }
            drawn += 1
            let isBest = t.number == bestNumber
            let beatenOrTied = values.filter { !better($0, t.value!) }.count - 1
            let strength = complete.count > 1 ? Double(beatenOrTied) / Double(complete.count - 1) : 1.0
            let opacity: Double = isBest ? 1 : 0.12 + 0.7 * strength
            let points = positions.enumerated().map {
                "\(frame.f(frame.x($0.offset))),\(frame.f(frame.y($0.element!)))"
            }
            .joined(separator: " ")
            let settings = axes.compactMap { a in t.parameters[a.name].map { "\(a.name)=\($0.compactDescription)" }
            }.joined(separator: " ")
            svg +=
                "<polyline fill=\"none\" stroke=\"\(isBest ? palette[1] : palette[0])\" stroke-width=\"\(isBest ? "3" : "1.5")\""
                + " stroke-opacity=\"\(String(format: "%.2f", opacity))\" data-points=\"\(axes.count + 1)\" points=\"\(points)\">"
                + "<title>trial \(t.number): \(escape(monitor)) \(number(t.value!))\(isBest ? " (best)" : "")\n\(escape(settings))</title></polyline>"
        }
        return (svg, drawn)
    }

    /// The note on the axes' scales: evenly spaced categories, and which axes are on a log scale.
    static func parallelScaleNote(_ axes: [ParallelAxis]) -> String {
        var scales: [String] = []
        if axes.contains(where: {
            if case .categories = $0.scale { return true }; return false
        }) {
            scales.append("categories and booleans are evenly spaced")
        }
        let logs = axes.compactMap { a -> String? in
            if case let .log(_, _, zero) = a.scale { return zero ? "\(a.name) (0 at the bottom)" : a.name }; return nil
        }
        if !logs.isEmpty { scales.append("on a log scale: " + logs.joined(separator: ", ")) }
        let sentence = scales.joined(separator: "; ")
        return sentence.isEmpty ? "" : " " + escape(sentence.prefix(1).uppercased() + sentence.dropFirst()) + "."
    }
}
