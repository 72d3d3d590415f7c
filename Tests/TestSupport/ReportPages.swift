import Foundation

/// The SVG charts of a report page: each figure's caption and the data points of each of its series.
public func reportCharts(_ html: String) -> [(caption: String, points: [Int])] {
    html.components(separatedBy: "<figure class=\"chart\">").dropFirst().map { figure in
        let caption =
            figure.components(separatedBy: "<figcaption>").dropFirst().first?.components(separatedBy: "</figcaption>")
            .first ?? ""
        let points = figure.components(separatedBy: "data-points=\"").dropFirst().compactMap {
            Int($0.prefix { $0.isNumber })
        }
        return (caption, points)
    }
}

/// The HTML of one section of a report: from its heading to the next.
public func reportSection(_ name: String, of html: String) -> String {
    let after = html.components(separatedBy: "<h2>\(name)</h2>").dropFirst().first ?? ""
    return after.components(separatedBy: "<h2>").first ?? ""
}
