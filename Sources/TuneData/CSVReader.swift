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
            let delimiter =
                requested ?? CSVReader.detectDelimiter(UnsafeBufferPointer(rebasing: bytes[headerStart..<headerEnd]))
            var position = start
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
            let width = header.count
            // The data rows, in parallel chunks split at line breaks when no quote can hide a line break.
            let dataStart = position, end = bytes.count
            let threads =
                end - dataStart > 4 << 20 && memchr(bytes.baseAddress! + dataStart, 0x22, end - dataStart) == nil
                ? min(BLAS.threadCount, 8) : 1
            var bounds = [dataStart]
            for k in 1..<max(threads, 1) {
                var b = max(dataStart + (end - dataStart) * k / threads, bounds.last!)
                while b < end && bytes[b] != 0x0A { b += 1 }
                bounds.append(min(b + 1, end))
            }
            bounds.append(end)
            var chunks = [Chunk?](repeating: nil, count: bounds.count - 1)
            let parser = self, chunkBounds = bounds
            if chunks.count == 1 {
                chunks[0] = parser.parseChunk(bounds[0], bounds[1], width: width, delimiter: delimiter, firstLine: line)
            } else {
                let results = ChunkResults(count: chunks.count)
                DispatchQueue.concurrentPerform(iterations: chunks.count) { k in
                    results.set(
                        k,
                        parser.parseChunk(
                            chunkBounds[k], chunkBounds[k + 1], width: width, delimiter: delimiter, firstLine: 1))
                }
                chunks = results.values
            }
            // Merge in file order; line numbers of later chunks count on from the earlier ones.
            var columns = (0..<width).map { _ in ColumnBuilder() }
            var rowLines: [Int32] = []
            var rows = 0
            var lineBase = chunks.count == 1 ? 0 : line - 1
            for chunk in chunks.map({ $0! }) {
                if let error = chunk.error {
                    throw DataError(
                        path: error.path, line: error.line.map { $0 + lineBase }, column: error.column, error.message)
                }
                for c in 0..<width { columns[c].append(contentsOf: chunk.columns[c], rowOffset: rows) }
                rowLines += chunk.rowLines.map { $0 + Int32(clamping: lineBase) }
                rows += chunk.rowCount
                lineBase += chunk.lines
            }
            if rows == 0 { throw DataError(path: path, "the file has a header but no data rows") }
            return CSVTable(
                path: path, header: header, rowCount: rows, delimiter: delimiter, rowLines: rowLines,
                numbers: columns.map(\.numbers), texts: columns.map { $0.texts(rows: rows) },
                missing: columns.map(\.missing), nanRows: columns.map { Set($0.nanRows) })
        }

        /// The rows of one chunk, or the first error in it (its line counted from `firstLine`).
        struct Chunk: @unchecked Sendable {
            var columns: [ColumnBuilder]
            var rowLines: [Int32]
            var rowCount: Int
            /// Line breaks consumed.
            var lines: Int
            var error: DataError?
        }

        func parseChunk(_ start: Int, _ end: Int, width: Int, delimiter: UInt8, firstLine: Int) -> Chunk {
            if memchr(bytes.baseAddress! + start, 0x22, end - start) == nil {
                return parsePlainChunk(start, end, width: width, delimiter: delimiter, firstLine: firstLine)
            }
            var parser = Parser(bytes: UnsafeBufferPointer(rebasing: bytes[0..<end]), path: path)
            parser.line = firstLine
            var position = start
            var columns = (0..<width).map { _ in ColumnBuilder() }
            let estimate = (end - start) / max(width * 4, 1)
            for c in 0..<width { columns[c].reserve(estimate) }
            var rowLines: [Int32] = []
            var cells: [Cell] = []
            var rows = 0
            do {
                while true {
                    let recordLine = parser.line
                    cells.removeAll(keepingCapacity: true)
                    guard try parser.readRecord(&position, delimiter: delimiter, into: &cells) else { break }
                    if cells.count == 1 && cells[0].isEmptyUnquoted { continue }  // a blank line
                    guard cells.count == width else {
                        throw DataError(
                            path: path, line: recordLine,
                            "expected \(width) columns (as in the header), found \(cells.count)")
                    }
                    for (c, cell) in cells.enumerated() { columns[c].append(cell, row: rows, parser: parser) }
                    rowLines.append(Int32(clamping: recordLine))
                    rows += 1
                }
            } catch let error as DataError {
                return Chunk(
                    columns: columns, rowLines: rowLines, rowCount: rows, lines: parser.line - firstLine, error: error)
            } catch {
                return Chunk(
                    columns: columns, rowLines: rowLines, rowCount: rows, lines: parser.line - firstLine,
                    error: DataError(path: path, "\(error)"))
            }
            return Chunk(
                columns: columns, rowLines: rowLines, rowCount: rows, lines: parser.line - firstLine, error: nil)
        }

        /// A chunk without quote characters: numbers parsed in C straight into columns; the cells that are not plain
        /// decimals (missing tokens, text, unusual number forms) are looked at again here.
        func parsePlainChunk(_ start: Int, _ end: Int, width: Int, delimiter: UInt8, firstLine: Int) -> Chunk {
            let base = bytes.baseAddress!
            // Every row ends in a line break (LF, CR or CRLF) or at the end: at most LF + CR + 1 rows.
            let capacity =
                tune_count_byte(base + start, end - start, 0x0A) + tune_count_byte(base + start, end - start, 0x0D) + 1
            var numbers = [Float](repeating: 0, count: capacity * width)
            var flags = [UInt8](repeating: 0, count: capacity * width)
            var rowStarts = [Int64](repeating: 0, count: capacity)
            var rowLines = [Int32](repeating: 0, count: capacity)
            var badLine: Int64 = 0, badFields: Int64 = 0
            var stoppedAt = 0, linesConsumed: Int64 = 0
            let rows = tune_parse_plain_csv(
                base, start, end, delimiter, width, capacity, &numbers, &flags, &rowStarts, &rowLines,
                &badLine, &badFields, &stoppedAt, &linesConsumed)
            if rows < 0 {
                return Chunk(
                    columns: [], rowLines: [], rowCount: 0, lines: 0,
                    error: DataError(
                        path: path, line: firstLine + Int(badLine),
                        "expected \(width) columns (as in the header), found \(badFields)"))
            }
            precondition(
                stoppedAt == end,
                "tune_parse_plain_csv stopped at \(stoppedAt) of \(end) with room for \(capacity) rows")
            let n = Int(rows)
            var columns: [ColumnBuilder] = (0..<width).map { c in
                ColumnBuilder(
                    numbers: Array(numbers[(c * capacity)..<(c * capacity + n)]),
                    missing: [Bool](repeating: false, count: n), textCells: [])
            }
            var parser = Parser(bytes: UnsafeBufferPointer(rebasing: bytes[0..<end]), path: path)
            var cells: [Cell] = []
            for r in 0..<n {
                var flagged = false
                for c in 0..<width where flags[c * capacity + r] != 0 { flagged = true; break }
                guard flagged else { continue }
                var position = Int(rowStarts[r])
                cells.removeAll(keepingCapacity: true)
                _ = try? parser.readRecord(&position, delimiter: delimiter, into: &cells)
                for c in 0..<width where flags[c * capacity + r] != 0 && c < cells.count {
                    columns[c].resolve(cells[c], row: r, parser: parser)
                }
            }
            let lines = Int(linesConsumed)
            return Chunk(
                columns: columns, rowLines: rowLines.prefix(n).map { $0 + Int32(firstLine) }, rowCount: n, lines: lines,
                error: nil)
        }

        /// Results of chunks parsed concurrently, each written by one task.
        final class ChunkResults: @unchecked Sendable {
            var values: [Chunk?]
            private let lock = NSLock()
            init(count: Int) { values = [Chunk?](repeating: nil, count: count) }
            func set(_ k: Int, _ chunk: Chunk) {
                lock.lock()
                values[k] = chunk
                lock.unlock()
            }
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
