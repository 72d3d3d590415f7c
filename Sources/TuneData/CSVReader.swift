import Foundation

/// A CSV file read into columns: every cell's number where it is one, and the text of the cells that are not.
///
/// Reading follows RFC 4180: fields may be quoted, quotes inside quoted fields are doubled, quoted fields may hold
/// delimiters and line breaks; lines end in LF or CRLF; a UTF-8 byte-order mark is skipped. The first row is the
/// header. Spaces around unquoted fields are trimmed.
public struct CSVTable: Sendable {
    /// The file the table came from, for messages.
    public let path: String
    public let header: [String]
    public let rowCount: Int
    /// The delimiter used.
    public let delimiter: UInt8
    /// The 1-based line each data row starts on.
    public let rowLines: [Int32]
    /// For each column, each cell as a number: NaN where the cell is missing or not a number.
    public let numbers: [[Float]]
    /// For each column, each cell's text where the cell is neither missing nor a number (nil for a column whose
    /// cells are all numbers or missing).
    public let texts: [[String?]?]
    /// For each column, whether each cell is missing (empty, NA, NaN, null or ?).
    public let missing: [[Bool]]

    /// The index of the column called `name`.
    public func columnIndex(_ name: String) -> Int? { header.firstIndex(of: name) }
}

/// The CSV reader.
public enum CSVReader {
    /// The tokens that mean "missing", compared case-insensitively after trimming.
    public static let missingTokens: Set<String> = ["", "na", "nan", "null", "?", "n/a", "none"]

    /// Reads the CSV file at `path`. `delimiter` nil detects `,`, `;` or tab from the header line.
    public static func read(path: String, delimiter: UInt8? = nil) throws -> CSVTable {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw DataError(path: path, "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(data, path: path, delimiter: delimiter)
    }

    /// Parses CSV text held in `data`; `path` names it in messages.
    public static func parse(_ data: Data, path: String, delimiter: UInt8? = nil) throws -> CSVTable {
        try data.withUnsafeBytes { raw -> CSVTable in
            var parser = Parser(bytes: raw.bindMemory(to: UInt8.self), path: path)
            return try parser.run(delimiter: delimiter)
        }
    }

    /// The delimiter of a header line: the most frequent of `,` `;` tab outside quotes (`,` on a tie or none).
    static func detectDelimiter(_ line: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var counts: [UInt8: Int] = [0x2C: 0, 0x3B: 0, 0x09: 0]
        var quoted = false
        for b in line {
            if b == 0x22 { quoted.toggle() } else if !quoted, counts[b] != nil { counts[b]! += 1 }
        }
        let best = [UInt8(0x2C), 0x3B, 0x09].max { counts[$0]! < counts[$1]! }!
        return counts[best]! > 0 ? best : 0x2C
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let path: String
        var line = 1

        init(bytes: UnsafeBufferPointer<UInt8>, path: String) {
            self.bytes = bytes
            self.path = path
        }

        mutating func run(delimiter requested: UInt8?) throws -> CSVTable {
            var start = 0
            if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { start = 3 }
            try checkText(from: start)
            // The header line (up to the first line break outside quotes) decides the delimiter.
            var headerEnd = start
            var quoted = false
            while headerEnd < bytes.count {
                let b = bytes[headerEnd]
                if b == 0x22 { quoted.toggle() } else if !quoted && (b == 0x0A || b == 0x0D) { break }
                headerEnd += 1
            }
            let delimiter = requested ?? CSVReader.detectDelimiter(UnsafeBufferPointer(rebasing: bytes[start..<headerEnd]))
            var position = start
            var cells: [Cell] = []
            guard try readRecord(&position, delimiter: delimiter, into: &cells), !(cells.count == 1 && cells[0].isEmptyUnquoted) else {
                throw DataError(path: path, "the file is empty: expected a header row and data rows")
            }
            let header = cells.map { text($0) }
            let width = header.count
            var columns = (0..<width).map { _ in ColumnBuilder() }
            var rowLines: [Int32] = []
            var rows = 0
            while true {
                let recordLine = line
                cells.removeAll(keepingCapacity: true)
                guard try readRecord(&position, delimiter: delimiter, into: &cells) else { break }
                if cells.count == 1 && cells[0].isEmptyUnquoted { continue }  // a blank line
                guard cells.count == width else {
                    throw DataError(path: path, line: recordLine, "expected \(width) columns (as in the header), found \(cells.count)")
                }
                for (c, cell) in cells.enumerated() { columns[c].append(cell, row: rows, parser: self) }
                rowLines.append(Int32(clamping: recordLine))
                rows += 1
            }
            if rows == 0 { throw DataError(path: path, "the file has a header but no data rows") }
            return CSVTable(path: path, header: header, rowCount: rows, delimiter: delimiter, rowLines: rowLines,
                            numbers: columns.map(\.numbers), texts: columns.map { $0.texts(rows: rows) },
                            missing: columns.map(\.missing))
        }

        /// Refuses files that are not text: a NUL byte or invalid UTF-8 in the first 64 KiB.
        func checkText(from start: Int) throws {
            let end = min(bytes.count, start + 65_536)
            let sample = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if sample.contains(0) {
                throw DataError(path: path, "this is not a text file (it contains NUL bytes); expected CSV text")
            }
            // Cut at the last complete character before validating a sample that ends mid-file.
            var cut = sample.count
            if end < bytes.count {
                while cut > 0 && (sample[cut - 1] & 0xC0) == 0x80 { cut -= 1 }
                if cut > 0 && sample[cut - 1] >= 0xC0 { cut -= 1 }
            }
            if String(validating: UnsafeBufferPointer(rebasing: sample[0..<cut]), as: UTF8.self) == nil {
                throw DataError(path: path, "this is not UTF-8 text; expected a CSV file in UTF-8")
            }
        }

        /// A field: a byte range, whether it was quoted and whether it holds doubled quotes.
        struct Cell {
            var start: Int
            var end: Int
            var quoted: Bool
            var escaped: Bool
            var isEmptyUnquoted: Bool { !quoted && start == end }
        }

        func text(_ cell: Cell) -> String {
            var s = String(decoding: UnsafeBufferPointer(rebasing: bytes[cell.start..<cell.end]), as: UTF8.self)
            if cell.escaped { s = s.replacingOccurrences(of: "\"\"", with: "\"") }
            return s
        }

        /// Reads one record into `cells`; false at the end of the input.
        mutating func readRecord(_ position: inout Int, delimiter: UInt8, into cells: inout [Cell]) throws -> Bool {
            let n = bytes.count
            if position >= n { return false }
            while true {
                // Skip leading spaces of an unquoted field (not when the delimiter is a space or tab).
                var p = position
                while p < n && bytes[p] == 0x20 && delimiter != 0x20 { p += 1 }
                if p < n && bytes[p] == 0x22 {
                    let openLine = line
                    var q = p + 1
                    var escaped = false
                    while true {
                        guard q < n else {
                            throw DataError(path: path, line: openLine, "a quoted field opened on this line is never closed")
                        }
                        let b = bytes[q]
                        if b == 0x22 {
                            if q + 1 < n && bytes[q + 1] == 0x22 { escaped = true; q += 2; continue }
                            break
                        }
                        if b == 0x0A { line += 1 }
                        q += 1
                    }
                    cells.append(Cell(start: p + 1, end: q, quoted: true, escaped: escaped))
                    q += 1
                    while q < n && bytes[q] == 0x20 { q += 1 }
                    position = q
                } else {
                    var q = p
                    while q < n {
                        let b = bytes[q]
                        if b == delimiter || b == 0x0A || b == 0x0D { break }
                        q += 1
                    }
                    var e = q
                    while e > p && bytes[e - 1] == 0x20 { e -= 1 }
                    cells.append(Cell(start: p, end: e, quoted: false, escaped: false))
                    position = q
                }
                if position >= n { return true }
                let b = bytes[position]
                if b == delimiter {
                    position += 1
                    continue
                }
                if b == 0x0D {
                    position += 1
                    if position < n && bytes[position] == 0x0A { position += 1 }
                    line += 1
                    return true
                }
                if b == 0x0A {
                    position += 1
                    line += 1
                    return true
                }
                // Text after a closing quote and before the delimiter.
                throw DataError(path: path, line: line, column: "\(cells.count)", "unexpected text after a closing quote")
            }
        }
    }

    /// Collects one column: numbers, missing flags, and the text of cells that are neither.
    struct ColumnBuilder {
        var numbers: [Float] = []
        var missing: [Bool] = []
        var textCells: [(Int, String)] = []

        mutating func append(_ cell: Parser.Cell, row: Int, parser: Parser) {
            let bytes = parser.bytes
            if !cell.escaped, let value = FastFloat.parse(bytes, cell.start, cell.end) {
                if value.isNaN {
                    numbers.append(.nan)
                    missing.append(true)
                } else {
                    numbers.append(value)
                    missing.append(false)
                }
                return
            }
            let text = parser.text(cell)
            numbers.append(.nan)
            if CSVReader.isMissing(text) {
                missing.append(true)
            } else {
                missing.append(false)
                textCells.append((row, text))
            }
        }

        func texts(rows: Int) -> [String?]? {
            guard !textCells.isEmpty else { return nil }
            var result = [String?](repeating: nil, count: rows)
            for (row, text) in textCells { result[row] = text }
            return result
        }
    }

    static func isMissing(_ text: String) -> Bool {
        let t = text.trimmingCharacters(in: .whitespaces)
        return t.count <= 4 && missingTokens.contains(t.lowercased())
    }
}

/// Decimal numbers straight from bytes: `[+-]digits[.digits][(e|E)[+-]digits]`, computed in double precision then
/// rounded to Float. Anything else (inf, hex, too many digits) goes through `strtod`; text that is no number gives nil.
enum FastFloat {
    static let powers: [Double] = (0...22).map { Foundation.pow(10, Double($0)) }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Float? {
        var i = start
        guard i < end else { return nil }
        var negative = false
        if bytes[i] == 0x2D { negative = true; i += 1 } else if bytes[i] == 0x2B { i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0, fractionDigits = 0
        let digitsStart = i
        while i < end, case let d = bytes[i] &- 0x30, d < 10 {
            mantissa = mantissa &* 10 &+ UInt64(d)
            digits += 1
            i += 1
        }
        if i < end && bytes[i] == 0x2E {
            i += 1
            while i < end, case let d = bytes[i] &- 0x30, d < 10 {
                mantissa = mantissa &* 10 &+ UInt64(d)
                digits += 1
                fractionDigits += 1
                i += 1
            }
        }
        guard digits > 0 else { return slow(bytes, start, end) }
        var exponent = 0
        if i < end && (bytes[i] == 0x65 || bytes[i] == 0x45) {
            i += 1
            var negativeExponent = false
            if i < end && bytes[i] == 0x2D { negativeExponent = true; i += 1 } else if i < end && bytes[i] == 0x2B { i += 1 }
            let expStart = i
            while i < end, case let d = bytes[i] &- 0x30, d < 10 {
                if exponent < 10_000 { exponent = exponent * 10 + Int(d) }
                i += 1
            }
            guard i > expStart else { return nil }
            if negativeExponent { exponent = -exponent }
        }
        guard i == end else { return slow(bytes, start, end) }
        _ = digitsStart
        exponent -= fractionDigits
        // Up to 15 significant digits and a power of ten in the table: one correctly rounded operation in double.
        guard digits <= 15, exponent >= -22, exponent <= 22 else { return slow(bytes, start, end) }
        var value = Double(mantissa)
        value = exponent < 0 ? value / powers[-exponent] : value * powers[exponent]
        return Float(negative ? -value : value)
    }

    /// `strtod` on a copy of the bytes, accepted only when it consumes all of them.
    static func slow(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Float? {
        let count = end - start
        guard count > 0, count < 256 else { return nil }
        var buffer = [CChar](repeating: 0, count: count + 1)
        for k in 0..<count { buffer[k] = CChar(bitPattern: bytes[start + k]) }
        return buffer.withUnsafeBufferPointer { b -> Float? in
            var endPointer: UnsafeMutablePointer<CChar>?
            let value = strtod(b.baseAddress!, &endPointer)
            guard let endPointer, endPointer - UnsafeMutablePointer(mutating: b.baseAddress!) == count else { return nil }
            return Float(value)
        }
    }
}
