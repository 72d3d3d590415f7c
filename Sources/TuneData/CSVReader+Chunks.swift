import CTuneKernels
import Foundation
import TuneTensor

// The data rows of a CSV file: split into chunks at line breaks, parsed (in parallel for large files without
// quotes), and merged back in file order.
extension CSVReader.Parser {
    /// Parses the data rows from `dataStart` to the end: in parallel chunks split at line breaks when the data is
    /// over 4 MiB and holds no quote (which could hide a line break), else as one chunk.
    func parseChunks(from dataStart: Int, width: Int, delimiter: UInt8) -> [Chunk?] {
        let end = bytes.count
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
        return chunks
    }

    /// The table of parsed chunks, merged in file order; the first chunk's error, if any, is thrown with its line
    /// counted in the file.
    func merge(_ chunks: [Chunk?], header: [String], delimiter: UInt8) throws -> CSVTable {
        let width = header.count
        // Merge in file order; line numbers of later chunks count on from the earlier ones.
        var columns = (0..<width).map { _ in CSVReader.ColumnBuilder() }
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
        var columns: [CSVReader.ColumnBuilder]
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
        var parser = CSVReader.Parser(bytes: UnsafeBufferPointer(rebasing: bytes[0..<end]), path: path)
        parser.line = firstLine
        var position = start
        var columns = (0..<width).map { _ in CSVReader.ColumnBuilder() }
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
        var columns: [CSVReader.ColumnBuilder] = (0..<width).map { c in
            CSVReader.ColumnBuilder(
                numbers: Array(numbers[(c * capacity)..<(c * capacity + n)]),
                missing: [Bool](repeating: false, count: n), textCells: [])
        }
        var parser = CSVReader.Parser(bytes: UnsafeBufferPointer(rebasing: bytes[0..<end]), path: path)
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
}
