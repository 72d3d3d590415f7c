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
        var featureColumns = (0..<table.header.count).filter {
            $0 != targetColumn && $0 != splitIndex && !options.ignore.contains(table.header[$0])
        }
        guard !featureColumns.isEmpty else {
            throw DataError(path: path, "no feature columns are left besides the target '\(target)'")
        }
        var notes: [String] = []

        // Rows: those with a target, and under the drop policy those with every feature.
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

        // The target: task and encoding.
        let (targetEncoding, rawTargets, taskNote) = try encodeTarget(
            table, column: targetColumn, rows: rows, requested: requested)
        if let taskNote { notes.append(taskNote) }

        // The split, stratified for classification.
        let strata: [Int]? = targetEncoding.task.isClassification ? rawTargets.map { Int($0) } : nil
        if splitColumn == nil, let strata, let classes = targetEncoding.classes {
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
        let parts: (train: [Int], validation: [Int], test: [Int])
        if let splitIndex {
            parts = try givenSplit(table, column: splitIndex, rows: rows)
        } else {
            parts = Splitter.split(count: rows.count, fractions: fractions, seed: seed, strata: strata)
        }

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
        var target = targetEncoding
        var encoded = rawTargets
        if target.task == .regression, let transform = targetTransform {
            target.transform = transform
            for (i, row) in rows.enumerated() {
                guard let v = target.transformed(encoded[i]) else {
                    throw DataError(
                        path: path, line: Int(table.rowLines[row]), column: target.name,
                        "\(encoded[i]) is not positive, and --target-transform \(transform.rawValue) needs positive targets"
                    )
                }
                encoded[i] = v
            }
        } else if let transform = targetTransform {
            throw DataError(
                path: "--target-transform",
                "\(transform.rawValue) applies to a regression target, and '\(target.name)' is \(target.task.rawValue)")
        }
        if target.task == .regression {
            let values = parts.train.map { Double(encoded[$0]) }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count, 1))
            target.mean = Float(mean)
            target.standardDeviation = Float(variance > 0 ? variance.squareRoot() : 1)
        }
        let trainRows = parts.train.map { rows[$0] }
        let features = featureColumns.map { fitFeature(table, column: $0, rows: trainRows, options: options) }
        let preprocessor = Preprocessor(features: features, target: target, options: options)
        func encode(_ part: [Int]) throws -> LabeledData {
            let tableRows = part.map { rows[$0] }
            let x = try preprocessor.transform(table, rows: tableRows)
            if target.task.isClassification { return LabeledData(x: x, classes: part.map { Int(encoded[$0]) }) }
            let mean = target.mean!, sd = target.standardDeviation!
            return LabeledData(x: x, values: part.map { (encoded[$0] - mean) / sd })
        }
        return PreparedData(
            preprocessor: preprocessor, train: try encode(parts.train), validation: try encode(parts.validation),
            test: try encode(parts.test), notes: notes, dataCheck: report)
    }

    /// The target's task and encoding, and each row's encoded target (class number, or raw value for regression).
    static func encodeTarget(_ table: CSVTable, column: Int, rows: [Int], requested: TaskKind?) throws
        -> (Preprocessor.Target, [Float], String?)
    {
        let name = table.header[column]
        let isText = table.texts[column] != nil
        var note: String?
        var task: TaskKind
        if let requested {
            task = requested
        } else if isText {
            task = .multiclass
        } else {
            let values = rows.map { table.numbers[column][$0] }
            let integral = values.allSatisfy { $0 == $0.rounded() }
            let distinct = Set(values).count
            task = integral && distinct <= maximumDetectedClasses ? .multiclass : .regression
            note =
                task == .regression
                ? "task: regression (the target '\(name)' has \(distinct) distinct values; pass --task to choose)"
                : nil
        }
        if task == .regression {
            if isText, let row = rows.first(where: { table.texts[column]![$0] != nil }) {
                throw DataError(
                    path: table.path, line: Int(table.rowLines[row]), column: name,
                    "'\(table.texts[column]![row]!)' is not a number, and regression needs numeric targets")
            }
            return (Preprocessor.Target(name: name, task: .regression), rows.map { table.numbers[column][$0] }, note)
        }
        // Classification: labels as text, numbers written back as integers.
        if !isText, let row = rows.first(where: { table.numbers[column][$0] != table.numbers[column][$0].rounded() }) {
            throw DataError(
                path: table.path, line: Int(table.rowLines[row]), column: name,
                "\(table.numbers[column][row]) is not a whole number, and class labels must be (use --task regression)")
        }
        let labels = rows.map { cellText(table, column: column, row: $0)! }
        let distinct = Set(labels)
        let classes: [String]
        if !isText {
            classes = distinct.sorted { Double($0)! < Double($1)! }
        } else {
            classes = distinct.sorted()
        }
        guard classes.count >= 2 else {
            throw DataError(
                path: table.path, column: name,
                "the target has only one class ('\(classes.first ?? "")'); classification needs at least two")
        }
        if requested == nil {
            task = classes.count == 2 ? .binary : .multiclass
            note = "task: \(task.rawValue) classification of '\(name)' (\(classes.count) classes)"
        } else if task == .binary && classes.count != 2 {
            throw DataError(
                path: table.path, column: name,
                "--task binary needs exactly two classes, the target has \(classes.count)")
        }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        return (Preprocessor.Target(name: name, task: task, classes: classes), labels.map { Float(index[$0]!) }, note)
    }

    /// Fits one feature column on the training rows.
    static func fitFeature(_ table: CSVTable, column: Int, rows: [Int], options: PreprocessingOptions)
        -> Preprocessor.Feature
    {
        let name = table.header[column]
        let kind = inferKind(table, column: column)
        let hasMissing = rows.contains { table.missing[column][$0] }
        var feature = Preprocessor.Feature(name: name, kind: kind, indicator: hasMissing && options.missing == .impute)
        switch kind {
        case .numeric:
            let values = rows.compactMap { table.missing[column][$0] ? nil : Double(table.numbers[column][$0]) }
                .sorted()
            let median =
                values.isEmpty
                ? 0
                : (values.count % 2 == 1
                    ? values[values.count / 2]
                    : (values[values.count / 2 - 1] + values[values.count / 2]) / 2)
            // Mean and deviation of the imputed column, as the model will see it.
            let filled = rows.map { table.missing[column][$0] ? median : Double(table.numbers[column][$0]) }
            let mean = filled.reduce(0, +) / Double(max(filled.count, 1))
            let variance = filled.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(filled.count, 1))
            feature.median = Float(median)
            feature.mean = options.standardize ? Float(mean) : 0
            feature.standardDeviation = options.standardize && variance > 0 ? Float(variance.squareRoot()) : 1
        case .boolean, .categorical:
            var counts: [String: Int] = [:]
            for row in rows {
                guard let text = cellText(table, column: column, row: row) else { continue }
                let key = kind == .boolean ? (trueWords.contains(text.lowercased()) ? "true" : "false") : text
                counts[key, default: 0] += 1
            }
            let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            feature.mode = ranked.first?.key ?? (kind == .boolean ? "false" : "")
            if kind == .categorical {
                let limit = max(options.categoryLimit, 1)
                feature.categories = ranked.prefix(limit).map(\.key).sorted()
                feature.hasOther = ranked.count > limit
            }
        }
        return feature
    }
}
