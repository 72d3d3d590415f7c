import Foundation
import TuneTensor

/// Model-ready rows: features and targets (class numbers or scaled values).
public struct LabeledData: Sendable {
    public let x: Tensor
    /// Classification: the class number of each row.
    public let classes: [Int]?
    /// Regression: the target of each row, standardised with the training mean and deviation.
    public let values: [Float]?
    public var count: Int { x.shape[0] }

    public init(x: Tensor, classes: [Int]? = nil, values: [Float]? = nil) {
        self.x = x
        self.classes = classes
        self.values = values
    }

    /// The rows at `indices`, in that order.
    public func rows(_ indices: [Int]) -> LabeledData {
        LabeledData(
            x: x.gathering(rows: indices), classes: classes.map { c in indices.map { c[$0] } },
            values: values.map { v in indices.map { v[$0] } })
    }
}

/// A table split, encoded and scaled for training.
public struct PreparedData: Sendable {
    public let preprocessor: Preprocessor
    public let train: LabeledData
    public let validation: LabeledData
    public let test: LabeledData
    /// Things the user should know (rows dropped, the task chosen, ...), one sentence each.
    public let notes: [String]
    /// What the data check found (nil when it was not asked for).
    public var dataCheck: DataCheckReport? = nil

    /// The data check's findings, one line each, as notes to print.
    public var checkMessages: [String] { (dataCheck?.lines ?? []).map { "data check " + $0 } }
    /// Everything to tell the user before training: the notes, then the data check's findings.
    public var messages: [String] { notes + checkMessages }
}

/// Turns a CSV table into model-ready splits, and fitted preprocessors into features for new tables.
public enum DataPreparation {
    /// The largest number of distinct integer targets still taken as classes when the task is left to detection.
    public static let maximumDetectedClasses = 20

    /// The parts a split column names: `train`, `validation` (or `valid`, `val`) or `test` on every used row.
    static func givenSplit(_ table: CSVTable, column: Int, rows: [Int]) throws -> (
        train: [Int], validation: [Int], test: [Int]
    ) {
        var train: [Int] = [], validation: [Int] = [], test: [Int] = []
        let name = table.header[column]
        for (i, row) in rows.enumerated() {
            let text =
                table.texts[column]?[row] ?? (table.missing[column][row] ? nil : String(table.numbers[column][row]))
            switch text?.lowercased() {
            case "train": train.append(i)
            case "validation", "valid", "val": validation.append(i)
            case "test": test.append(i)
            default:
                throw DataError(
                    path: table.path, line: Int(table.rowLines[row]), column: name,
                    "expected train, validation or test in the split column, got '\(text ?? "")'")
            }
        }
        guard !train.isEmpty, !validation.isEmpty else {
            throw DataError(
                path: table.path, column: name,
                "the split column needs at least one train and one validation row (found \(train.count) and \(validation.count))"
            )
        }
        return (train, validation, test)
    }

    /// Validates `table` against the request, splits it (stratified for classification), fits the preprocessing on
    /// the training rows and encodes every part. Every problem is a `DataError` naming the file, line and column.
    public static func prepare(
        _ table: CSVTable, target: String, task requested: TaskKind? = nil,
        split fractions: SplitFractions = .standard, seed: UInt64 = 0,
        options: PreprocessingOptions = PreprocessingOptions(),
        splitColumn: String? = nil, targetTransform: TargetTransform? = nil,
        check: DataCheckOptions? = nil
    ) throws -> PreparedData {
        let (targetColumn, splitIndex, chosenFeatures) = try resolveColumns(
            table, target: target, options: options, splitColumn: splitColumn, check: check)
        var featureColumns = chosenFeatures
        var notes: [String] = []

        // Rows: those with a target, and under the drop policy those with every feature.
        let rows = try usableRows(
            table, target: target, targetColumn: targetColumn, featureColumns: featureColumns, options: options,
            notes: &notes)

        // The target: task and encoding.
        let (targetEncoding, rawTargets, taskNote) = try encodeTarget(
            table, column: targetColumn, rows: rows, requested: requested)
        if let taskNote { notes.append(taskNote) }

        // The split, stratified for classification.
        let parts = try splitRows(
            table, rows: rows, splitIndex: splitIndex, target: target, encoding: targetEncoding, encoded: rawTargets,
            fractions: fractions, seed: seed)

        // The data check, before anything is fitted: identifiers leave the features, a leak stops here.
        var report: DataCheckReport?
        if let check {
            let input = DataCheck.Input(
                table: table, targetColumn: targetColumn, featureColumns: featureColumns,
                ignored: options.ignore.compactMap { table.columnIndex($0) }, splitColumn: splitIndex,
                rows: rows, encoded: rawTargets, task: targetEncoding.task, classes: targetEncoding.classes,
                train: parts.train, validation: parts.validation, test: parts.test,
                splitGiven: splitIndex != nil, categoryLimit: options.categoryLimit,
                targetTransformed: targetTransform != nil)
            let found = DataCheck.run(input, options: check)
            if check.stopOnLeak && !found.leaks.isEmpty { throw DataLeakError(report: found) }
            featureColumns.removeAll { found.excluded.contains(table.header[$0]) }
            report = found
        }

        // Fit on the training rows only, then encode every part.
        let (target, encoded) = try fitTarget(
            targetEncoding, encoded: rawTargets, table: table, rows: rows, train: parts.train,
            transform: targetTransform)
        let trainRows = parts.train.map { rows[$0] }
        let features = featureColumns.map { fitFeature(table, column: $0, rows: trainRows, options: options) }
        let preprocessor = Preprocessor(features: features, target: target, options: options)
        func encode(_ part: [Int]) throws -> LabeledData {
            try labeled(part, table: table, rows: rows, encoded: encoded, target: target, preprocessor: preprocessor)
        }
        return PreparedData(
            preprocessor: preprocessor, train: try encode(parts.train), validation: try encode(parts.validation),
            test: try encode(parts.test), notes: notes, dataCheck: report)
    }

    /// The columns `prepare` works on: the target's, the split column's (if named) and the features (every other
    /// column not ignored). An unknown column name, a split column that is the target, or no feature left is a
    /// `DataError`.
    private static func resolveColumns(
        _ table: CSVTable, target: String, options: PreprocessingOptions, splitColumn: String?,
        check: DataCheckOptions?
    ) throws -> (target: Int, split: Int?, features: [Int]) {
        let path = table.path
        guard let targetColumn = table.columnIndex(target) else {
            throw DataError(
                path: path,
                "unknown target column '\(target)'; the columns are: \(table.header.joined(separator: ", "))")
        }
        for name in options.ignore where table.columnIndex(name) == nil {
            throw DataError(
                path: path,
                "unknown column '\(name)' to ignore; the columns are: \(table.header.joined(separator: ", "))")
        }
        var splitIndex: Int?
        if let splitColumn {
            guard let c = table.columnIndex(splitColumn) else {
                throw DataError(
                    path: path,
                    "unknown split column '\(splitColumn)'; the columns are: \(table.header.joined(separator: ", "))")
            }
            guard c != targetColumn else {
                throw DataError(path: path, column: splitColumn, "the split column cannot be the target")
            }
            splitIndex = c
        }
        for name in (check?.keep ?? []) + (check?.allowLeak ?? []) where table.columnIndex(name) == nil {
            throw DataError(
                path: path,
                "unknown column '\(name)' (--keep or --allow-leak); the columns are: \(table.header.joined(separator: ", "))"
            )
        }
        let featureColumns = (0..<table.header.count).filter {
            $0 != targetColumn && $0 != splitIndex && !options.ignore.contains(table.header[$0])
        }
        guard !featureColumns.isEmpty else {
            throw DataError(path: path, "no feature columns are left besides the target '\(target)'")
        }
        return (targetColumn, splitIndex, featureColumns)
    }

    /// The rows to use: those with a target and, under the drop policy, with every feature; what was left out goes
    /// to `notes`. A missing value under the fail policy, a number beyond Float's range or fewer than 3 rows is a
    /// `DataError`.
    private static func usableRows(
        _ table: CSVTable, target: String, targetColumn: Int, featureColumns: [Int], options: PreprocessingOptions,
        notes: inout [String]
    ) throws -> [Int] {
        let path = table.path
        var rows: [Int] = []
        var missingTargets = 0, droppedForFeatures = 0
        for row in 0..<table.rowCount {
            if table.missing[targetColumn][row] {
                if options.missing == .fail {
                    throw DataError(path: path, line: Int(table.rowLines[row]), column: target, "the target is missing")
                }
                missingTargets += 1
                continue
            }
            if let c = featureColumns.first(where: { table.missing[$0][row] }) {
                switch options.missing {
                case .fail:
                    throw DataError(
                        path: path, line: Int(table.rowLines[row]), column: table.header[c],
                        "a missing value, and the missing-value policy is 'fail' (use impute or drop)")
                case .drop:
                    droppedForFeatures += 1
                    continue
                case .impute:
                    break
                }
            }
            rows.append(row)
        }
        if missingTargets > 0 { notes.append("\(missingTargets) rows without a target value were left out") }
        if droppedForFeatures > 0 { notes.append("\(droppedForFeatures) rows with missing values were dropped") }
        // Numbers beyond the range of Float (1e39, inf) would turn every statistic into inf or NaN.
        for c in featureColumns + [targetColumn] where table.texts[c] == nil {
            if let row = rows.first(where: { table.numbers[c][$0].isInfinite }) {
                throw DataError(
                    path: path, line: Int(table.rowLines[row]), column: table.header[c],
                    "\(table.numbers[c][row]) is out of range: swift-tune computes in 32-bit floats (up to about 3.4e38)"
                )
            }
        }
        guard rows.count >= 3 else {
            throw DataError(path: path, "only \(rows.count) usable rows; training, validation and test need at least 3")
        }
        return rows
    }

    /// The parts of `rows` (indices into it): as the split column at `splitIndex` names them, or else a seeded split,
    /// stratified for classification (every class must then have a row for each part).
    private static func splitRows(
        _ table: CSVTable, rows: [Int], splitIndex: Int?, target: String, encoding targetEncoding: Preprocessor.Target,
        encoded rawTargets: [Float], fractions: SplitFractions, seed: UInt64
    ) throws -> (train: [Int], validation: [Int], test: [Int]) {
        let strata: [Int]? = targetEncoding.task.isClassification ? rawTargets.map { Int($0) } : nil
        if splitIndex == nil, let strata, let classes = targetEncoding.classes {
            try checkStrata(strata, classes: classes, fractions: fractions, path: table.path, target: target)
        }
        let parts: (train: [Int], validation: [Int], test: [Int])
        if let splitIndex {
            parts = try givenSplit(table, column: splitIndex, rows: rows)
        } else {
            parts = Splitter.split(count: rows.count, fractions: fractions, seed: seed, strata: strata)
        }
        return parts
    }

    /// Checks that every class (`strata` holds each row's) has a row for each part of a stratified split.
    private static func checkStrata(
        _ strata: [Int], classes: [String], fractions: SplitFractions, path: String, target: String
    ) throws {
        let needed = 1 + (fractions.validation > 0 ? 1 : 0) + (fractions.test > 0 ? 1 : 0)
        var counts = [Int](repeating: 0, count: classes.count)
        for c in strata { counts[c] += 1 }
        if let rare = counts.indices.first(where: { counts[$0] < needed }) {
            throw DataError(
                path: path, column: target,
                "class '\(classes[rare])' has only \(counts[rare]) row\(counts[rare] == 1 ? "" : "s"); a stratified split into training, validation and test needs at least \(needed) of each class"
            )
        }
    }
}
