import Foundation
import TuneTensor

extension Preprocessor {
    /// The model inputs for `rows` of `table` (every row when nil). Columns are found by name, so their order in the
    /// file does not matter; a column the model needs but the file lacks, a number that is not one, or a boolean
    /// that is not true/false is a `DataError`.
    public func transform(_ table: CSVTable, rows requested: [Int]? = nil) throws -> Tensor {
        let rows = requested ?? Array(0..<table.rowCount)
        let missingColumns = features.map(\.name).filter { table.columnIndex($0) == nil }
        guard missingColumns.isEmpty else {
            throw DataError(
                path: table.path,
                "the model needs the column\(missingColumns.count == 1 ? "" : "s") \(missingColumns.map { "'\($0)'" }.joined(separator: ", ")), which the file lacks; its columns are: \(table.header.joined(separator: ", "))"
            )
        }
        let width = inputSize
        var values = [Float](repeating: 0, count: rows.count * width)
        var offset = 0
        for feature in features {
            let column = table.columnIndex(feature.name)!
            let span = feature.outputNames.count
            for (r, row) in rows.enumerated() {
                let base = r * width + offset
                let isMissing = table.missing[column][row]
                if isMissing && options.missing == .fail {
                    throw DataError(
                        path: table.path, line: Int(table.rowLines[row]), column: feature.name,
                        "a missing value, and the missing-value policy is 'fail'")
                }
                try encode(
                    feature, table: table, column: column, row: row, isMissing: isMissing, into: &values, at: base)
                if feature.indicator && isMissing { values[base + span - 1] = 1 }
            }
            offset += span
        }
        return Tensor(shape: [rows.count, width], scalars: values)
    }

    /// Writes the model inputs of one cell (`row` of `column`) of `feature` into `values` from `base` on: the scaled
    /// number, 1 for true, or 1 at the category's place. A number that is not one, or a boolean that is not
    /// true/false, is a `DataError`.
    private func encode(
        _ feature: Feature, table: CSVTable, column: Int, row: Int, isMissing: Bool, into values: inout [Float],
        at base: Int
    ) throws {
        switch feature.kind {
        case .numeric:
            var v: Float
            if isMissing {
                v = feature.median ?? 0
            } else if let text = table.texts[column]?[row] {
                throw DataError(
                    path: table.path, line: Int(table.rowLines[row]), column: feature.name,
                    "'\(text)' is not a number")
            } else {
                v = table.numbers[column][row]
            }
            guard v.isFinite else {
                throw DataError(
                    path: table.path, line: Int(table.rowLines[row]), column: feature.name,
                    "\(v) is out of range: swift-tune computes in 32-bit floats (up to about 3.4e38)")
            }
            values[base] = (v - (feature.mean ?? 0)) / (feature.standardDeviation ?? 1)
        case .boolean:
            let text = (cellText(table, column: column, row: row) ?? feature.mode ?? "false").lowercased()
            if trueWords.contains(text) {
                values[base] = 1
            } else if !falseWords.contains(text) {
                throw DataError(
                    path: table.path, line: Int(table.rowLines[row]), column: feature.name,
                    "'\(text)' is not a boolean (true/false, yes/no, t/f, y/n)")
            }
        case .categorical:
            let text = cellText(table, column: column, row: row) ?? feature.mode ?? ""
            let categories = feature.categories ?? []
            if let k = categories.firstIndex(of: text) {
                values[base + k] = 1
            } else if feature.hasOther ?? false {
                values[base + categories.count] = 1
            }
        }
    }

    /// The encoded targets of `rows` of `table` (for evaluation): class numbers or standardised values. A class the
    /// model never saw, a missing target or a text target for regression is a `DataError`.
    public func encodeTargets(_ table: CSVTable, rows requested: [Int]? = nil) throws -> (
        classes: [Int]?, values: [Float]?
    ) {
        let rows = requested ?? Array(0..<table.rowCount)
        guard let column = table.columnIndex(target.name) else {
            throw DataError(
                path: table.path,
                "the target column '\(target.name)' is not in the file; its columns are: \(table.header.joined(separator: ", "))"
            )
        }
        if let row = rows.first(where: { table.missing[column][$0] }) {
            throw DataError(
                path: table.path, line: Int(table.rowLines[row]), column: target.name, "the target is missing")
        }
        if target.task == .regression {
            if let row = rows.first(where: { table.texts[column]?[$0] != nil }) {
                throw DataError(
                    path: table.path, line: Int(table.rowLines[row]), column: target.name,
                    "'\(table.texts[column]![row]!)' is not a number")
            }
            let mean = target.mean ?? 0, sd = target.standardDeviation ?? 1
            var values: [Float] = []
            for row in rows {
                guard let v = target.transformed(table.numbers[column][row]) else {
                    throw DataError(
                        path: table.path, line: Int(table.rowLines[row]), column: target.name,
                        "\(table.numbers[column][row]) is not positive, and the model was trained on the target's logarithm"
                    )
                }
                values.append((v - mean) / sd)
            }
            return (nil, values)
        }
        let index = Dictionary(uniqueKeysWithValues: (target.classes ?? []).enumerated().map { ($1, $0) })
        var classes: [Int] = []
        for row in rows {
            let label = cellText(table, column: column, row: row)!
            guard let c = index[label] else {
                throw DataError(
                    path: table.path, line: Int(table.rowLines[row]), column: target.name,
                    "class '\(label)' was not seen in training; the model knows \((target.classes ?? []).joined(separator: ", "))"
                )
            }
            classes.append(c)
        }
        return (classes, nil)
    }
}
