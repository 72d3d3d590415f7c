import Foundation
import TuneData
import TuneNN
import TuneReport
import TuneTensor
import TuneTraining

/// A trained model with its preprocessing, loaded from a `tune train` run directory (or its `model` folder).
public struct Predictor {
    public let model: MLP
    public let preprocessor: Preprocessor
    public let description: ModelDescription

    /// Loads `path`: a run directory holding `model/`, or the model directory itself.
    public static func load(_ path: String) throws -> Predictor {
        var directory = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(
            atPath: directory.appendingPathComponent("model/\(Checkpoint.descriptionFile)").path)
        {
            directory = directory.appendingPathComponent("model")
        }
        let (model, description) = try Checkpoint.load(from: directory)
        guard let stored = description.preprocessing else {
            throw DataError(
                path: directory.appendingPathComponent(Checkpoint.descriptionFile).path,
                "the model has no preprocessing: it was not written by tune train")
        }
        let preprocessor: Preprocessor
        do {
            preprocessor = try stored.decoding(Preprocessor.self)
        } catch {
            throw DataError(
                path: directory.appendingPathComponent(Checkpoint.descriptionFile).path,
                "field 'preprocessing' cannot be read: \(error)")
        }
        let descriptionPath = directory.appendingPathComponent(Checkpoint.descriptionFile).path
        guard preprocessor.inputSize == model.specification.inputSize else {
            throw DataError(
                path: descriptionPath,
                "the preprocessing makes \(preprocessor.inputSize) inputs but the network takes \(model.specification.inputSize)"
            )
        }
        let target = preprocessor.target
        let classes = target.classes ?? []
        switch target.task {
        case .regression:
            guard model.specification.outputSize == 1 else {
                throw DataError(
                    path: descriptionPath,
                    "a regression model needs 1 output, the network has \(model.specification.outputSize)")
            }
        case .binary, .multiclass:
            guard Set(classes).count == classes.count else {
                throw DataError(path: descriptionPath, "field 'preprocessing.target.classes' repeats a class")
            }
            let expected = target.task == .binary ? 2 : model.specification.outputSize
            guard classes.count == expected, target.task != .binary || model.specification.outputSize == 1 else {
                throw DataError(
                    path: descriptionPath,
                    "a \(target.task.rawValue) model with \(model.specification.outputSize) outputs cannot have \(classes.count) classes"
                )
            }
        }
        model.eval()
        return Predictor(model: model, preprocessor: preprocessor, description: description)
    }

    /// The network's outputs for every row of `table`.
    public func outputs(_ table: CSVTable) throws -> Tensor {
        let x = try preprocessor.transform(table)
        return withoutGradient { model(x) }
    }

    /// Predictions as CSV text: for classification the predicted label and one probability column per class, for
    /// regression the predicted value, in the target's units.
    public func predictionsCSV(_ table: CSVTable) throws -> String {
        let y = try outputs(table)
        let target = preprocessor.target
        var lines: [String] = []
        switch target.task {
        case .binary, .multiclass:
            let classes = target.classes ?? []
            lines.append((["prediction"] + classes.map { "probability_\($0)" }).map(csvField).joined(separator: ","))
            for p in Evaluation.probabilities(y, task: target.task) {
                let best = p.indices.max { p[$0] < p[$1] }!
                lines.append(([csvField(classes[best])] + p.map { String(format: "%.6g", $0) }).joined(separator: ","))
            }
        case .regression:
            lines.append("prediction")
            for v in y.scalars { lines.append(String(format: "%.8g", Double(target.original(v)))) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The task's metrics on a table that holds the target column.
    public func evaluate(_ table: CSVTable) throws -> [String: Double] {
        let y = try outputs(table)
        let (classes, values) = try preprocessor.encodeTargets(table)
        return Evaluation.metrics(
            outputs: y, data: LabeledData(x: Tensor.zeros([table.rowCount, 0]), classes: classes, values: values),
            target: preprocessor.target)
    }
}

/// A CSV field, quoted when it holds a delimiter, quote or line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
