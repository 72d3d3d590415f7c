import ArgumentParser
import Foundation
import Tune
import TuneData
import TuneDiagnosis
import TuneExport

extension TuneCommand {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a run's training curves and say what is wrong and what to change.",
            discussion: """
            PATH is a swift-tune run directory or history.json/history.csv; TensorBoard event files or a log directory \
            (PyTorch's SummaryWriter, Keras's TensorBoard callback with train/ and validation/); a PyTorch Lightning \
            metrics.csv (or a log directory holding one), a Keras CSVLogger file, or any CSV with an epoch column. \
            Series are found by their usual names (train/loss, Loss/train, epoch_loss, train_loss, loss, val/loss, \
            val_loss, val_auc, val_accuracy, ...) or named with the flags (for TensorBoard, TAG or RUN:TAG). An \
            MLflow run is read from its tracking server with --mlflow URL --run ID. Exit status 2 when nothing can be \
            read.
            """)

        @Argument(help: "The run directory or log file (or use --mlflow and --run).") var path: String?
        @Option(help: "An MLflow tracking server (default: MLFLOW_TRACKING_URI); credentials from MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD.") var mlflow: String?
        @Option(name: .customLong("run"), help: "The MLflow run id to read.") var runID: String?
        @Option(help: "The column (or TensorBoard tag, RUN:TAG) of the training loss.") var trainLoss: String?
        @Option(help: "The column (or TensorBoard tag, RUN:TAG) of the validation loss.") var valLoss: String?
        @Option(help: "The column (or TensorBoard tag, RUN:TAG) of the validation metric.") var metric: String?
        @Option(help: "Whether the metric is better when higher (max) or lower (min); guessed from its name otherwise.") var metricMode: String?
        @Option(help: "The number of classes (2 for binary), for the chance-level loss.") var classes: Int?
        @Flag(help: "Print the findings as JSON.") var json = false

        func validate() throws {
            if path != nil && runID != nil { throw ValidationError("give either PATH or --run, not both") }
            if path == nil && runID == nil { throw ValidationError("give a PATH to a run or log, or --run ID (with --mlflow URL)") }
            if let metricMode, !["max", "min"].contains(metricMode) { throw ValidationError("--metric-mode must be max or min, got \(metricMode)") }
            if let classes, classes < 2 { throw ValidationError("--classes must be at least 2, got \(classes)") }
        }

        func run() throws {
            let columns = CurveColumns(trainLoss: trainLoss, validationLoss: valLoss, metric: metric,
                                       metricHigherIsBetter: metricMode.map { $0 == "max" })
            var curves: Curves
            do {
                if let runID {
                    guard let server = mlflow ?? ProcessInfo.processInfo.environment["MLFLOW_TRACKING_URI"], let url = URL(string: server),
                          url.scheme == "http" || url.scheme == "https" else {
                        throw DataError(path: "--mlflow", "give the tracking server's http(s) URL with --mlflow or MLFLOW_TRACKING_URI")
                    }
                    curves = try MLflowClient(url: url).curves(run: runID, columns: columns)
                    if let classes {
                        curves.classes = classes
                        curves.task = classes == 2 ? .binary : .multiclass
                    }
                } else {
                    curves = try DoctorInput.load(path!, columns: columns, classes: classes)
                }
            } catch {
                throw failWithDataError(error)
            }
            let findings = TuneDiagnosis.Doctor().diagnose(curves)
            if json {
                print(try DoctorReport.json(curves, findings))
            } else {
                let colour = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
                print(DoctorReport.text(curves, findings, colour: colour))
            }
        }
    }
}
