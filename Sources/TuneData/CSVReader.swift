import CTuneKernels
import Foundation
import TuneTensor

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
    /// For each column, the rows whose cell spelled out NaN ("nan", "NaN"): missing as data, but a logged NaN in a
    /// training log means divergence.
    public let nanRows: [Set<Int>]

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

    struct Parser: @unchecked Sendable {
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
            let headerBytes = headerLine(from: start)
            let delimiter = requested ?? CSVReader.detectDelimiter(headerBytes)
            var position = start
            let header = try readHeader(&position, delimiter: delimiter)
            // The data rows, in parallel chunks split at line breaks when no quote can hide a line break.
            let chunks = parseChunks(from: position, width: header.count, delimiter: delimiter)
            return try merge(chunks, header: header, delimiter: delimiter)
        }

        /// The first line that is not blank from `start`, up to its first line break outside quotes.
        func headerLine(from start: Int) -> UnsafeBufferPointer<UInt8> {
            var headerStart = start
            while headerStart < bytes.count && (bytes[headerStart] == 0x0A || bytes[headerStart] == 0x0D) {
                headerStart += 1
            }
            var headerEnd = headerStart
            var quoted = false
            while headerEnd < bytes.count {
                let b = bytes[headerEnd]
                if b == 0x22 { quoted.toggle() } else if !quoted && (b == 0x0A || b == 0x0D) { break }
                headerEnd += 1
            }
            return UnsafeBufferPointer(rebasing: bytes[headerStart..<headerEnd])
        }

        /// Reads the header row at `position` (blank lines before it skipped) and checks that its names are unique.
        mutating func readHeader(_ position: inout Int, delimiter: UInt8) throws -> [String] {
            var cells: [Cell] = []
            // Blank lines before the header are skipped.
            repeat {
                cells.removeAll(keepingCapacity: true)
                guard try readRecord(&position, delimiter: delimiter, into: &cells) else {
                    throw DataError(path: path, "the file is empty: expected a header row and data rows")
                }
            } while cells.count == 1 && cells[0].isEmptyUnquoted
            let header = cells.map { text($0) }
            // D: a repeated name would make columns ambiguous (a feature could be read from the target's twin).
            var firstIndex: [String: Int] = [:]
            for (i, name) in header.enumerated() {
                if let j = firstIndex[name] {
                    throw DataError(
                        path: path, line: line - 1,
                        "columns \(j + 1) and \(i + 1) are both called '\(name)'; column names must be unique")
                }
                firstIndex[name] = i
            }
            return header
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
                            throw DataError(
                                path: path, line: openLine, "a quoted field opened on this line is never closed")
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
                    while q < n && bytes[q] == 0x20 && delimiter != 0x20 { q += 1 }
                    position = q
                } else {
                    let q = tune_scan_field(bytes.baseAddress!, p, n, delimiter)
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
                throw DataError(
                    path: path, line: line, column: "\(cells.count)", "unexpected text after a closing quote")
            }
        }
    }

    /// Collects one column: numbers, missing flags, and the text of cells that are neither.
    struct ColumnBuilder {
        var numbers: [Float] = []
        var missing: [Bool] = []
        var textCells: [(Int, String)] = []
        var nanRows: [Int] = []

        /// Sets `row` from a cell the fast path could not read as a plain decimal.
        mutating func resolve(_ cell: Parser.Cell, row: Int, parser: Parser) {
            if !cell.escaped, let value = FastFloat.parse(parser.bytes, cell.start, cell.end) {
                numbers[row] = value
                missing[row] = value.isNaN
                if value.isNaN { nanRows.append(row) }
                return
            }
            let text = parser.text(cell)
            numbers[row] = .nan
            if CSVReader.isMissing(text) {
                missing[row] = true
            } else {
                textCells.append((row, text))
            }
        }

        mutating func reserve(_ count: Int) {
            numbers.reserveCapacity(count)
            missing.reserveCapacity(count)
        }

        /// Appends another chunk's cells, its rows numbered after `rowOffset` rows.
        mutating func append(contentsOf other: ColumnBuilder, rowOffset: Int) {
            numbers += other.numbers
            missing += other.missing
            textCells += other.textCells.map { ($0.0 + rowOffset, $0.1) }
            nanRows += other.nanRows.map { $0 + rowOffset }
        }

        mutating func append(_ cell: Parser.Cell, row: Int, parser: Parser) {
            let bytes = parser.bytes
            if !cell.escaped, let value = FastFloat.parse(bytes, cell.start, cell.end) {
                if value.isNaN {
                    numbers.append(.nan)
                    missing.append(true)
                    nanRows.append(row)
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

/// Numbers straight from bytes: plain decimals through a C parser, anything else (inf, nan, hex, many digits)
/// through `strtod`; text that is no number gives nil.
enum FastFloat {
    @inline(__always)
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Float? {
        var value: Float = 0
        if tune_parse_decimal(bytes.baseAddress! + start, end - start, &value) != 0 { return value }
        return slow(bytes, start, end)
    }

    /// `strtod` on a copy of the bytes, accepted only when it consumes all of them; hexadecimal is text, as in pandas.
    static func slow(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Float? {
        let count = end - start
        guard count > 0, count < 256 else { return nil }
        if (start..<end).contains(where: { bytes[$0] == 0x78 || bytes[$0] == 0x58 }) { return nil }
        var buffer = [CChar](repeating: 0, count: count + 1)
        for k in 0..<count { buffer[k] = CChar(bitPattern: bytes[start + k]) }
        return buffer.withUnsafeBufferPointer { b -> Float? in
            var endPointer: UnsafeMutablePointer<CChar>?
            let value = strtod(b.baseAddress!, &endPointer)
            guard let endPointer, endPointer - UnsafeMutablePointer(mutating: b.baseAddress!) == count else {
                return nil
            }
            return Float(value)
        }
    }
}
