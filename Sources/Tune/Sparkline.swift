/// A small block-character chart of a series, for terminals.
public enum Sparkline {
    /// Draws `values` as columns of block characters, `height` rows tall, with the range on the left.
    public static func render(_ values: [Double], height: Int = 8) -> String {
        let finite = values.filter { $0.isFinite }
        guard let lo = finite.min(), let hi = finite.max(), height >= 1 else { return "" }
        let span = hi - lo
        let blocks: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        // Level of each value in eighths of a row, 0...height*8.
        let levels = values.map { v -> Int in
            guard v.isFinite else { return 0 }
            return span == 0 ? height * 4 : Int(((v - lo) / span * Double(height * 8)).rounded())
        }
        let labelWidth = max(formatted(hi).count, formatted(lo).count)
        var lines: [String] = []
        for row in stride(from: height - 1, through: 0, by: -1) {
            let label = row == height - 1 ? formatted(hi) : (row == 0 ? formatted(lo) : "")
            var line = String(repeating: " ", count: labelWidth - label.count) + label + " │"
            for level in levels {
                let fill = min(max(level - row * 8, 0), 8)
                line.append(blocks[fill])
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    private static func formatted(_ v: Double) -> String {
        let s = String(Float(v))
        return s.count > 8 ? String(s.prefix(8)) : s
    }
}
