import ArgumentParser
import Foundation
import Tune

extension TuneCommand {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a run's training curves and say what is wrong and what to change.",
            discussion: """
                PATH is a swift-tune run directory or history.json/history.csv; TensorBoard event files or a log directory \
                (PyTorch's SummaryWriter, Keras's TensorBoard callback with train/ and validation/); a PyTorch Lightning \
                metrics.csv (or a log directory holding one), a Keras CSVLogger file, or any CSV with an epoch column. \
                Series are found by their usual names (train/loss, Loss/train, epoch_loss, train_loss, loss, val/loss, \
                val_loss, val_auc, val_accuracy, ...) or named with the flags (for TensorBoard, TAG or RUN:TAG). The \
                settings are read where the logs keep them (hparams.yaml, TensorBoard's HParams, MLflow parameters, \
                swift-tune's model.json) and sharpen the findings.

                A directory holding several runs (Lightning version_* folders, TensorBoard run folders, swift-tune run \
                directories, a swift-tune study's trials) is read run by run: each is judged against the best run's lowest validation loss, and a \
                comparison says which runs sit far above it and whether they underfit or overfit. An MLflow run is read \
                from its tracking server with --mlflow URL --run ID, and every run of an experiment with --experiment NAME.

                One run alone cannot show what is achievable: without a reference (other runs, --reference-loss) the \
                verdict is "no problem visible" rather than "healthy". --data FILE --target COL (or --baseline-loss) gives \
                the constant predictor's loss, below which a network learned anything. Exit status 2 when nothing can be \
                read.

                With --data FILE --target COL and no PATH, the doctor checks the data instead (docs/DATA.md): \
                identifiers, leaks, a sorted target, duplicates, imbalance, awkward columns and a skewed target, each \
                with its evidence and next step, on the split tune train would take.
                """)

        @Argument(help: "The run directory, log file, or directory of several runs (or use --mlflow and --run).")
        var path: String?
        @Option(
            help:
                "An MLflow tracking server (default: MLFLOW_TRACKING_URI); credentials from MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD."
        ) var mlflow: String?
        @Option(name: .customLong("run"), help: "The MLflow run id to read.") var runID: String?
        @Option(help: "An MLflow experiment whose runs are read and compared (with --mlflow).") var experiment: String?
        @Option(help: "The column (or TensorBoard tag, RUN:TAG) of the training loss.") var trainLoss: String?
        @Option(help: "The column (or TensorBoard tag, RUN:TAG) of the validation loss.") var valLoss: String?
        @Option(help: "The column (or TensorBoard tag, RUN:TAG) of the validation metric.") var metric: String?
        @Option(help: "Whether the metric is better when higher (max) or lower (min); guessed from its name otherwise.")
        var metricMode: String?
        @Option(help: "The number of classes (2 for binary), for the chance-level loss.") var classes: Int?
        @Option(
            help:
                "The data file the runs trained on, for the constant predictor's loss (with --target): the cross-entropy of the class frequencies, or the target's variance."
        ) var data: String?
        @Option(help: "The target column of --data.") var target: String?
        @Option(help: "The constant predictor's validation loss in the runs' own loss (instead of --data).")
        var baselineLoss: Double?
        @Option(
            help: "The lowest validation loss reached on the same data and loss (another run's), to judge the level by."
        ) var referenceLoss: Double?
        @Option(help: "A JSON file of thresholds to use instead of the defaults (names as in docs/DOCTOR.md).")
        var thresholds: String?
        @Flag(help: "Print the findings as JSON.") var json = false

        func validate() throws {
            if [path != nil, runID != nil, experiment != nil].filter({ $0 }).count > 1 {
                throw ValidationError("give one of PATH, --run and --experiment")
            }
            if path == nil && runID == nil && experiment == nil && data == nil {
                throw ValidationError(
                    "give a PATH to a run, a log or a directory of runs, or --run ID or --experiment NAME (with --mlflow URL)"
                )
            }
            if let metricMode, !["max", "min"].contains(metricMode) {
                throw ValidationError("--metric-mode must be max or min, got \(metricMode)")
            }
            if let classes, classes < 2 { throw ValidationError("--classes must be at least 2, got \(classes)") }
            if (data == nil) != (target == nil) { throw ValidationError("--data and --target go together") }
            if data != nil && baselineLoss != nil {
                throw ValidationError("give either --data/--target or --baseline-loss, not both")
            }
            if let baselineLoss, !(baselineLoss.isFinite && baselineLoss > 0) {
                throw ValidationError("--baseline-loss must be a positive number, got \(baselineLoss)")
            }
            if let referenceLoss, !referenceLoss.isFinite {
                throw ValidationError("--reference-loss must be a finite number, got \(referenceLoss)")
            }
        }

        func run() throws {
            if path == nil && runID == nil && experiment == nil, let data, let target {
                return try checkData(data, target: target)
            }
            let columns = CurveColumns(
                trainLoss: trainLoss, validationLoss: valLoss, metric: metric,
                metricHigherIsBetter: metricMode.map { $0 == "max" })
            var runs: [DoctorRun]
            let doctor: TuneDiagnosis.Doctor
            var baseline: (loss: Double, source: String, regression: Bool)?
            doctor = try loadDoctor()
            if let data, let target {
                let found = try Baseline.ofFile(
                    path: data, target: target, task: classes.map { $0 == 2 ? .binary : .multiclass })
                baseline = (found.loss, found.description, found.regression)
            } else if let baselineLoss {
                baseline = (baselineLoss, "given with --baseline-loss", false)
            }
            if runID != nil || experiment != nil {
                runs = try mlflowRuns(columns: columns)
            } else {
                runs = try DoctorInput.runs(path!, columns: columns, classes: classes)
            }
            applyLevels(&runs, baseline: baseline)
            let colour = isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            if runs.count == 1 {
                let curves = runs[0].curves
                let findings = doctor.diagnose(curves)
                print(
                    json ? try DoctorReport.json(curves, findings) : DoctorReport.text(curves, findings, colour: colour)
                )
            } else {
                let comparison = Comparison(runs.map { ($0.name, $0.curves) }, doctor: doctor, reference: referenceLoss)
                let source = path ?? "MLflow experiment \(experiment ?? "")"
                print(
                    json
                        ? try DoctorReport.json(source: source, comparison)
                        : DoctorReport.text(source: source, comparison, colour: colour))
            }
        }

        /// The doctor, with the thresholds of --thresholds when given.
        func loadDoctor() throws -> TuneDiagnosis.Doctor {
            guard let thresholds else { return TuneDiagnosis.Doctor() }
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: thresholds)) } catch {
                throw DataError(path: thresholds, "cannot read: \(error.localizedDescription)")
            }
            do { return TuneDiagnosis.Doctor(thresholds: try Thresholds.overriding(data)) } catch {
                throw DataError(path: thresholds, "\(error)")
            }
        }

        /// The MLflow run of --run, or every run of --experiment that logged a loss (a search's parent run logs none).
        func mlflowRuns(columns: CurveColumns) throws -> [DoctorRun] {
            guard let url = MLflowClient.trackingServer(flag: mlflow) else {
                throw DataError(
                    path: "--mlflow", "give the tracking server's http(s) URL with --mlflow or MLFLOW_TRACKING_URI")
            }
            let client = MLflowClient(url: url)
            var runs: [DoctorRun]
            if let runID {
                runs = [DoctorRun(name: runID, curves: try client.curves(run: runID, columns: columns))]
            } else {
                runs = try client.runs(experiment: experiment!).compactMap { run in
                    do {
                        return DoctorRun(name: run.name, curves: try client.curves(run: run.id, columns: columns))
                    } catch let e as DataError
                        where e.message.hasPrefix("the run has no metrics") || e.message.hasPrefix("no loss series")
                    {
                        return nil
                    }
                }
                guard !runs.isEmpty else {
                    throw DataError(
                        path: "\(MLflowClient.withoutCredentials(url.absoluteString)) experiment \(experiment!)",
                        "no run of the experiment logged a training or validation loss")
                }
            }
            if let classes {
                for i in runs.indices {
                    runs[i].curves.classes = classes
                    runs[i].curves.task = classes == 2 ? .binary : .multiclass
                }
            }
            return runs
        }

        /// The constant predictor's loss and the reference given on the command line, on every run; a regression's
        /// variance is not applied to runs whose losses start far below it (a rescaled target), which is said.
        func applyLevels(_ runs: inout [DoctorRun], baseline: (loss: Double, source: String, regression: Bool)?) {
            var rescaled: [String] = []
            for i in runs.indices {
                if let baseline {
                    if baseline.regression && data != nil && Baseline.rescaled(runs[i].curves, variance: baseline.loss)
                    {
                        rescaled.append(runs[i].name)
                    } else {
                        runs[i].curves.baselineLoss = baseline.loss
                        runs[i].curves.baselineSource = baseline.source
                    }
                }
                if let referenceLoss {
                    runs[i].curves.referenceLoss = referenceLoss
                    runs[i].curves.referenceSource = "given with --reference-loss"
                }
            }
            if !rescaled.isEmpty {
                let which =
                    rescaled.count == runs.count
                    ? "the runs' losses start" : "the losses of \(rescaled.joined(separator: ", ")) start"
                FileHandle.standardError.write(
                    Data(
                        "note: \(which) far below the variance of \(target ?? "the target") in \(data ?? "the data") (\(String(format: "%.4g", baseline!.loss))): the program trains on a rescaled target, so that variance is not their constant predictor's loss; pass --baseline-loss (1 for a standardised target)\n"
                            .utf8))
            }
        }

        /// `tune doctor --data FILE --target COL` alone: the data check, on the split `tune train` would take.
        func checkData(_ data: String, target: String) throws {
            let report: DataCheckReport
            let table = try CSVReader.read(path: data)
            let prepared = try DataPreparation.prepare(
                table, target: target, task: classes.map { $0 == 2 ? .binary : .multiclass },
                check: DataCheckOptions(stopOnLeak: false))
            report = prepared.dataCheck!
            if json {
                print(String(decoding: try jsonData(report), as: UTF8.self))
            } else {
                print(
                    DoctorReport.text(
                        report,
                        colour: isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil))
            }
        }
    }
}
