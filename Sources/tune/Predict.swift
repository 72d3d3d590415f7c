import ArgumentParser
import Foundation
import Tune

extension TuneCommand {
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Predict with a trained model: labels and class probabilities, or values, as CSV.")

        @Option(help: "The run directory of tune train (or its model/ folder).") var model: String
        @Option(
            help: "The CSV file to predict; it needs the model's input columns (any order; the target may be absent).")
        var data: String
        @Option(help: "Where to write the predictions (CSV); standard output when absent.") var out: String?
        @Option(help: "The CSV delimiter: a character or 'tab' (default: detected).") var delimiter: String?

        func run() throws {
            let (predictor, table) = try loadModelAndData(model: model, data: data, delimiter: delimiter)
            let text = try predictor.predictionsCSV(table)
            if let out {
                try writeAtomically(Data(text.utf8), to: URL(fileURLWithPath: out))
            } else {
                print(text, terminator: "")
            }
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate a trained model on a CSV file that holds the target column; prints the metrics as JSON."
        )

        @Option(help: "The run directory of tune train (or its model/ folder).") var model: String
        @Option(help: "The CSV file, with the model's input columns and the target.") var data: String
        @Option(help: "The CSV delimiter: a character or 'tab' (default: detected).") var delimiter: String?

        func run() throws {
            let (predictor, table) = try loadModelAndData(model: model, data: data, delimiter: delimiter)
            let metrics = try predictor.evaluate(table)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(metrics), as: UTF8.self))
        }
    }
}

/// A trained model and a CSV file to apply it to.
func loadModelAndData(model: String, data: String, delimiter: String?) throws -> (Predictor, CSVTable) {
    let predictor = try Predictor.load(model)
    var settings = TrainSettings()
    settings.delimiter = delimiter
    return (predictor, try CSVReader.read(path: data, delimiter: try settings.delimiterByte()))
}
