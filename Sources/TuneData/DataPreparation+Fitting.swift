import Foundation
import TuneTensor

// Fitting the preprocessing for `DataPreparation.prepare`: the target's task and encoding, its transform and scale,
// each feature column, and the model-ready rows of each part.
extension DataPreparation {
    /// The target as the model is fitted on it: a regression target transformed (when asked) and standardised with
    /// the mean and deviation of the `train` part; the encoded targets transformed alike. A transform of a
    /// classification target, or of a value it cannot take, is a `DataError`.
    static func fitTarget(
        _ encoding: Preprocessor.Target, encoded rawTargets: [Float], table: CSVTable, rows: [Int], train: [Int],
        transform targetTransform: TargetTransform?
    ) throws -> (Preprocessor.Target, [Float]) {
        let path = table.path
        var target = encoding
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
            let values = train.map { Double(encoded[$0]) }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count, 1))
            target.mean = Float(mean)
            target.standardDeviation = Float(variance > 0 ? variance.squareRoot() : 1)
        }
        return (target, encoded)
    }

    /// The model-ready rows of one part (indices into `rows`): features through `preprocessor`, and class numbers or
    /// standardised values from `encoded`.
    static func labeled(
        _ part: [Int], table: CSVTable, rows: [Int], encoded: [Float], target: Preprocessor.Target,
        preprocessor: Preprocessor
    ) throws -> LabeledData {
        let tableRows = part.map { rows[$0] }
        let x = try preprocessor.transform(table, rows: tableRows)
        if target.task.isClassification { return LabeledData(x: x, classes: part.map { Int(encoded[$0]) }) }
        let mean = target.mean!, sd = target.standardDeviation!
        return LabeledData(x: x, values: part.map { (encoded[$0] - mean) / sd })
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
