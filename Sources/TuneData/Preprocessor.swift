import Foundation
import TuneTensor

/// What a column holds.
public enum ColumnKind: String, Codable, Sendable {
    case numeric, boolean, categorical
}

/// What a model predicts.
public enum TaskKind: String, Codable, Sendable, CaseIterable {
    case binary, multiclass, regression
    public var isClassification: Bool { self != .regression }
}

/// What a regression target is transformed by before it is standardised (and what predictions are turned back by).
public enum TargetTransform: String, Codable, Sendable, CaseIterable {
    /// The natural logarithm (a positive target): the network learns relative errors; predictions are exp'd back.
    case log
}

/// What to do with missing values in feature columns.
public enum MissingPolicy: String, Codable, Sendable, CaseIterable {
    /// Fill with the training median (numbers) or mode (categories, booleans) and add a 0/1 indicator column.
    case impute
    /// Drop rows with a missing feature.
    case drop
    /// Stop with an error naming the first missing cell.
    case fail
}

/// Options for turning a table into features.
public struct PreprocessingOptions: Codable, Sendable, Equatable {
    public var missing: MissingPolicy = .impute
    /// The most one-hot columns a categorical column gets; rarer categories share an "other" column.
    public var categoryLimit = 32
    /// Columns to leave out (identifiers and the like).
    public var ignore: [String] = []
    /// Whether numeric features are standardised (training mean and standard deviation).
    public var standardize = true
    public init() {}
}

/// The words a boolean column may hold (case-insensitive).
let trueWords: Set<String> = ["true", "t", "yes", "y"]
let falseWords: Set<String> = ["false", "f", "no", "n"]

/// The text of a cell of a column whose cells are partly numbers: numbers are written back as short decimals.
func cellText(_ table: CSVTable, column: Int, row: Int) -> String? {
    if table.missing[column][row] { return nil }
    if let text = table.texts[column]?[row] { return text }
    let v = table.numbers[column][row]
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return "\(v)"
}

/// The kind of a column, from its cells: numbers only (and missing) is numeric, booleans words only is boolean,
/// anything else categorical.
public func inferKind(_ table: CSVTable, column: Int) -> ColumnKind {
    guard let texts = table.texts[column] else { return .numeric }
    var hasNumbers = false
    for row in 0..<table.rowCount where !table.missing[column][row] && texts[row] == nil { hasNumbers = true; break }
    if !hasNumbers
        && texts.allSatisfy({
            $0 == nil || trueWords.contains($0!.lowercased()) || falseWords.contains($0!.lowercased())
        })
    {
        return .boolean
    }
    return .categorical
}

/// The fitted transform from a table's rows to a model's input features and targets. Fitted on the training rows
/// only and stored with the model, so that prediction applies exactly the same transform.
public struct Preprocessor: Codable, Sendable, Equatable {
    /// One input column and how it becomes feature columns.
    public struct Feature: Codable, Sendable, Equatable {
        public var name: String
        public var kind: ColumnKind
        /// Numeric: the training median (the fill for missing cells), mean and standard deviation.
        public var median: Float?
        public var mean: Float?
        public var standardDeviation: Float?
        /// Categorical: the categories with their own one-hot column, in order; whether an "other" column follows.
        public var categories: [String]?
        public var hasOther: Bool?
        /// Categorical and boolean: the fill for missing cells.
        public var mode: String?
        /// Whether a 0/1 missing-indicator column follows.
        public var indicator: Bool

        /// The names of the feature columns this input column becomes.
        public var outputNames: [String] {
            var names: [String]
            switch kind {
            case .numeric, .boolean: names = [name]
            case .categorical:
                names = (categories ?? []).map { "\(name)=\($0)" } + ((hasOther ?? false) ? ["\(name)=other"] : [])
            }
            if indicator { names.append("\(name)_missing") }
            return names
        }
    }

    /// How the target column is encoded.
    public struct Target: Codable, Sendable, Equatable {
        public var name: String
        public var task: TaskKind
        /// Classification: the class labels, index = class number. Binary: index 1 is the positive class.
        public var classes: [String]?
        /// Regression: the training mean and standard deviation the model's output is scaled by.
        public var mean: Float?
        public var standardDeviation: Float?
        /// Regression: the transform applied to the target before standardising (nil: none); `mean` and
        /// `standardDeviation` are those of the transformed target.
        public var transform: TargetTransform?

        public init(
            name: String, task: TaskKind, classes: [String]? = nil, mean: Float? = nil, standardDeviation: Float? = nil,
            transform: TargetTransform? = nil
        ) {
            self.name = name
            self.task = task
            self.classes = classes
            self.mean = mean
            self.standardDeviation = standardDeviation
            self.transform = transform
        }

        /// A raw target value on the scale the network learns before standardising (its logarithm under `log`),
        /// nil when the transform cannot take it.
        public func transformed(_ value: Float) -> Float? {
            switch transform {
            case nil: return value
            case .log: return value > 0 ? Foundation.log(value) : nil
            }
        }

        /// A standardised output back in the target's original units.
        public func original(_ standardized: Double) -> Double {
            let v = standardized * Double(standardDeviation ?? 1) + Double(mean ?? 0)
            return transform == .log ? Foundation.exp(v) : v
        }

        /// A standardised output back in the target's original units, in single precision.
        public func original(_ standardized: Float) -> Float {
            let v = standardized * (standardDeviation ?? 1) + (mean ?? 0)
            return transform == .log ? Foundation.exp(v) : v
        }
    }

    public var features: [Feature]
    public var target: Target
    public var options: PreprocessingOptions

    /// The feature column names, in the order of the model's inputs.
    public var featureNames: [String] { features.flatMap(\.outputNames) }
    /// The number of model inputs.
    public var inputSize: Int { featureNames.count }
    /// The number of model outputs.
    public var outputSize: Int { target.task == .multiclass ? (target.classes?.count ?? 0) : 1 }
}
