import Foundation

extension HTMLReport {
    /// An SVG line chart, `logX` and `logY` for rates (decades labelled). Each series is a polyline with
    /// `data-points` giving its count; marks at the same x share one line, their labels on rows of their own. Up to
    /// `hoverPoints` points of each series that is not faded (evenly thinned beyond that, the last always kept) carry
    /// a tooltip with their x and y values, shown on hover without any script.
    public static func chart(
        title: String, xLabel: String, series: [Series], marks: [Mark] = [], logX: Bool = false, logY: Bool = false,
        hoverPoints: Int = 120
    ) -> String {
        // Each series' points as plotted (log10 where log) with the values they show.
        let plotted = series.map { s in
            s.points.compactMap { p in
                ChartFrame.scaled(p.x, logX).flatMap { x in
                    ChartFrame.scaled(p.y, logY).map { (x: x, y: $0, shown: p) }
                }
            }
        }
        let xs = plotted.flatMap { $0.map(\.x) }, ys = plotted.flatMap { $0.map(\.y) }
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else {
            return
                "<figure class=\"chart\"><figcaption>\(escape(title))</figcaption><p class=\"empty\">no data</p></figure>"
        }
        let frame = ChartFrame(x0: x0, x1: x1, y0: y0, y1: y1, logX: logX, logY: logY)
        var svg =
            "<svg viewBox=\"0 0 \(Int(frame.width)) \(Int(frame.height))\" role=\"img\" aria-label=\"\(escape(title))\">"
        svg += frame.axes(xLabel: xLabel)
        svg += frame.marks(marks)
        for (s, points) in zip(series, plotted) where !points.isEmpty {
            svg += frame.line(s, points.map { ($0.x, $0.y) })
        }
        if hoverPoints > 0 {
            var hover = ""
            for (s, points) in zip(series, plotted) where !s.faded && !points.isEmpty {
                hover += frame.hover(s, points, xLabel: xLabel, most: hoverPoints)
            }
            if !hover.isEmpty { svg += "<g class=\"hover\" fill-opacity=\"0\">\(hover)</g>" }
        }
        svg += "</svg>"
        let legend =
            series.count <= 8
            ? "<ul class=\"legend\">"
                + series.map { "<li><span style=\"background:\($0.color)\"></span>\(escape($0.name))</li>" }.joined()
                + "</ul>" : ""
        return "<figure class=\"chart\"><figcaption>\(escape(title))</figcaption>\(svg)\(legend)</figure>"
    }
}

/// The drawing area of a chart: its size and margins, the data's extent (in log10 on a log axis), and the SVG of its
/// parts.
struct ChartFrame {
    let width = 640.0, height = 260.0, left = 56.0, right = 12.0, top = 14.0, bottom = 36.0
    let x0: Double, x1: Double, y0: Double, y1: Double
    let logX: Bool, logY: Bool
    var xSpan: Double { x1 > x0 ? x1 - x0 : 1 }
    var ySpan: Double { y1 > y0 ? y1 - y0 : 1 }

    /// A value as plotted: log10 on a log axis (nil when not positive), nil when not finite.
    static func scaled(_ v: Double, _ log: Bool) -> Double? {
        log ? (v > 0 && v.isFinite ? Foundation.log10(v) : nil) : (v.isFinite ? v : nil)
    }

    func px(_ x: Double) -> Double { left + (x - x0) / xSpan * (width - left - right) }
    func py(_ v: Double) -> Double { top + (1 - (v - y0) / ySpan) * (height - top - bottom) }
    func f(_ v: Double) -> String { String(format: "%.1f", v) }
    func label(_ v: Double, _ log: Bool) -> String { HTMLReport.number(log ? Foundation.pow(10, v) : v) }

    /// The whole powers of ten within [lo, hi] (in log10), at most about 7 of them.
    func decades(_ lo: Double, _ hi: Double) -> [Double] {
        let first = Int((lo - 1e-9).rounded(.up)), last = Int((hi + 1e-9).rounded(.down))
        guard last - first >= 1 else { return [] }
        let step = (last - first + 1 + 6) / 7
        return stride(from: first, through: last, by: step).map(Double.init)
    }

    /// The axes, their ticks and the x axis's label. Ticks: the ends of a linear axis; the whole powers of ten of a
    /// log axis (its ends when it spans less).
    func axes(xLabel: String) -> String {
        var svg =
            "<line class=\"axis\" x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\"/>"
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\"/>"
        let yDecades = logY ? decades(y0, y1) : []
        for v in yDecades.isEmpty ? [y0, y1] : yDecades {
            if !yDecades.isEmpty {
                svg +=
                    "<line class=\"grid\" x1=\"\(left)\" y1=\"\(f(py(v)))\" x2=\"\(width - right)\" y2=\"\(f(py(v)))\"/>"
            }
            svg +=
                "<text class=\"tick\" x=\"\(left - 4)\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(label(v, logY))</text>"
        }
        let xDecades = logX ? decades(x0, x1) : []
        if xDecades.isEmpty {
            svg += "<text class=\"tick\" x=\"\(left)\" y=\"\(height - bottom + 14)\">\(label(x0, logX))</text>"
            svg +=
                "<text class=\"tick\" x=\"\(width - right)\" y=\"\(height - bottom + 14)\" text-anchor=\"end\">\(label(x1, logX))</text>"
        }
        for v in xDecades {
            let x = px(v), anchor = x - left < 20 ? "start" : (width - right - x < 20 ? "end" : "middle")
            svg += "<line class=\"grid\" x1=\"\(f(x))\" y1=\"\(top)\" x2=\"\(f(x))\" y2=\"\(height - bottom)\"/>"
            svg +=
                "<text class=\"tick\" x=\"\(f(x))\" y=\"\(height - bottom + 14)\" text-anchor=\"\(anchor)\">\(label(v, logX))</text>"
        }
        return svg
            + "<text class=\"tick\" x=\"\((left + width - right) / 2)\" y=\"\(height - 6)\" text-anchor=\"middle\">\(HTMLReport.escape(xLabel))</text>"
    }

    /// The vertical marks within the x extent; marks at the same x share one line, their labels on rows of their own.
    func marks(_ marks: [HTMLReport.Mark]) -> String {
        var merged: [(x: Double, labels: [String])] = []
        for m in marks {
            guard let x = Self.scaled(m.x, logX), x >= x0, x <= x1 else { continue }
            if let i = merged.firstIndex(where: { $0.x == x }) {
                merged[i].labels.append(m.label)
            } else {
                merged.append((x, [m.label]))
            }
        }
        var svg = ""
        for (row, m) in merged.enumerated() {
            let x = px(m.x), text = HTMLReport.escape(m.labels.joined(separator: ", "))
            let onLeft = x > (left + width - right) / 2
            svg +=
                "<line class=\"mark\" x1=\"\(f(x))\" y1=\"\(top)\" x2=\"\(f(x))\" y2=\"\(height - bottom)\"><title>\(text)</title></line>"
            svg +=
                "<text class=\"marklabel\" x=\"\(f(onLeft ? x - 3 : x + 3))\" y=\"\(f(top + 10 + 12 * Double(row)))\"\(onLeft ? " text-anchor=\"end\"" : "")>\(text)</text>"
        }
        return svg
    }

    /// One series: a polyline, or a dot when it has one point.
    func line(_ s: HTMLReport.Series, _ points: [(x: Double, y: Double)]) -> String {
        let name = HTMLReport.escape(s.name)
        if points.count == 1 {
            return
                "<circle cx=\"\(f(px(points[0].x)))\" cy=\"\(f(py(points[0].y)))\" r=\"3\" fill=\"\(s.color)\" data-points=\"1\"><title>\(name)</title></circle>"
        }
        let opacity = s.faded ? " stroke-opacity=\"0.3\"" : ""
        let xy = points.map { "\(f(px($0.x))),\(f(py($0.y)))" }
        return
            "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"\(opacity) data-points=\"\(points.count)\" points=\"\(xy.joined(separator: " "))\"><title>\(name)</title></polyline>"
    }

    /// Invisible dots with a tooltip on up to `most` points of a series (evenly thinned, the last always kept).
    func hover(
        _ s: HTMLReport.Series, _ points: [(x: Double, y: Double, shown: (x: Double, y: Double))], xLabel: String,
        most: Int
    ) -> String {
        let every = (points.count + most - 1) / most
        var svg = ""
        for (i, p) in points.enumerated() where i % every == 0 || i == points.count - 1 {
            svg +=
                "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"5\"><title>\(HTMLReport.escape(s.name)): \(HTMLReport.escape(xLabel)) \(HTMLReport.number(p.shown.x)), \(HTMLReport.number(p.shown.y))</title></circle>"
        }
        return svg
    }
}
