import Foundation

/// Identifiers: columns with a value per row that name rows rather than describe them.
extension DataCheck {
    /// Why a column is an identifier, or nil: unique per row and either named like one, a row number, UUIDs or
    /// hashes, or a text unique to every row. A unique float (a measurement) or unique integers in no order are not.
    static func identifierReason(_ input: Input, column c: Int) -> String? {
        let t = input.table, rows = input.rows
        guard rows.count >= Rule.identifierRows, !rows.contains(where: { t.missing[c][$0] }) else { return nil }
        guard Set(input.cells.of(c, input)).count == rows.count else { return nil }
        let name = t.header[c].trimmingCharacters(in: .whitespaces)
        let lower = name.lowercased()
        if lower.isEmpty || lower.hasPrefix("unnamed") {
            return "an unnamed column of unique values (a saved row index)"
        }
        let idWords: Set<String> = [
            "id", "index", "idx", "rowid", "row_id", "row", "key", "uuid", "guid", "#", "no", "number"
        ]
        if idWords.contains(lower) || lower.hasSuffix("_id") || lower.hasSuffix(" id") || name.hasSuffix("ID")
            || name.hasSuffix("Id")
        {
            return "unique values under an identifier's name"
        }
        if t.texts[c] == nil {
            let values = rows.map { Double(t.numbers[c][$0]) }
            guard values.allSatisfy({ $0 == $0.rounded() }), values.count >= 2 else { return nil }
            // A row number: steps of exactly one from row to row, starting at the row's position (0 or 1 based).
            var up = 0, down = 0
            for i in 1..<values.count {
                if values[i] - values[i - 1] == 1 { up += 1 }
                if values[i] - values[i - 1] == -1 { down += 1 }
            }
            let steps = Double(max(up, down)) / Double(values.count - 1)
            let offset = values[0] - Double(rows[0])
            if steps >= Rule.rowNumberSteps && (offset == 0 || offset == 1 || down > up) {
                return "integers that follow the row order (a row number)"
            }
            return nil
        }
        // Text: UUIDs, hashes, or any text unique to every row.
        let texts = rows.map { cellText(t, column: c, row: $0)! }
        if texts.allSatisfy(isUUID) { return "UUIDs" }
        if texts.allSatisfy(isDate) {
            return
                "dates (read as text, one per row: turn them into numbers such as the year, month, day of week or "
                + "days since a start to use them)"
        }
        let length = texts[0].count
        if length >= 8, texts.allSatisfy({ $0.count == length && $0.allSatisfy(\.isHexDigit) }) {
            return "hexadecimal hashes"
        }
        return "a text unique to every row (one-hot encoding can learn nothing from it)"
    }

    /// A date or a date and time as files write them: 2024-01-31, 2024-01, 2024-01-31T12:00, 31/01/2024, 1/31/24,
    /// 31.01.2024; 1986.5 is not (a number).
    static func isDate(_ s: String) -> Bool {
        let head = s.split(whereSeparator: { $0 == "T" || $0 == " " }).first.map(String.init) ?? s
        let parts = head.split(
            omittingEmptySubsequences: false, whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." })
        guard (2...3).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy(\.isNumber) })
        else { return false }
        if head.contains(".") && parts.count != 3 { return false }  // 1986.5 is a number, 31.01.2024 a date
        return parts.contains { $0.count == 4 } || (parts.count == 3 && head.contains("/"))
    }

    static func isUUID(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        return parts.map(\.count) == [8, 4, 4, 4, 12] && parts.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}
