/// Training and validation loss drawn together in the terminal with block characters, the chosen epoch marked.
public enum LossChart {
    /// A chart `height` rows tall, one column per epoch: `█` where the training loss reaches, `•` for the validation
    /// loss, and `^` under the marked epoch.
    public static func render(
        train: [Double], validation: [Double], marked: Int?, markLabel: String = "selected epoch",
        height: Int = 10
    ) -> String {
        let all = (train + validation).filter { $0.isFinite }
        guard let lo = all.min(), let hi = all.max(), height >= 2 else { return "" }
        let span = hi - lo
        func row(_ v: Double) -> Int? {
            guard v.isFinite else { return nil }
            return span == 0 ? height / 2 : Int(((v - lo) / span * Double(height - 1)).rounded())
        }
        let width = max(train.count, validation.count)
        var grid = [[Character]](repeating: [Character](repeating: " ", count: width), count: height)
        for (i, v) in train.enumerated() {
            guard let r = row(v) else { continue }
            for k in 0...r { grid[k][i] = k == r ? "▀" : "█" }
        }
        for (i, v) in validation.enumerated() {
            guard let r = row(v) else { continue }
            grid[r][i] = "•"
        }
        let hiLabel = String(format: "%.4g", hi), loLabel = String(format: "%.4g", lo)
        let labelWidth = max(hiLabel.count, loLabel.count)
        var lines: [String] = []
        for r in stride(from: height - 1, through: 0, by: -1) {
            let label = r == height - 1 ? hiLabel : (r == 0 ? loLabel : "")
            lines.append(String(repeating: " ", count: labelWidth - label.count) + label + " │" + String(grid[r]))
        }
        var axis = String(repeating: " ", count: labelWidth) + " └" + String(repeating: "─", count: width)
        if let marked, marked >= 1, marked <= width {
            var marker = [Character](repeating: " ", count: width)
            marker[marked - 1] = "^"
            axis +=
                "\n" + String(repeating: " ", count: labelWidth + 2) + String(marker)
                + "  (^ \(markLabel) \(marked); █ training loss, • validation loss)"
        } else {
            axis += "\n" + String(repeating: " ", count: labelWidth + 2) + "█ training loss, • validation loss"
        }
        lines.append(axis)
        return lines.joined(separator: "\n")
    }
}
