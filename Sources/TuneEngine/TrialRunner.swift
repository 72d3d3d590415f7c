import Foundation
import TuneData
import TuneDiagnosis
import TuneNN
import TuneRun
import TuneSearch
import TuneTraining

/// Trains one trial of a study, for every strategy: the trainer with the reporter that feeds the pruner, the
/// heartbeat, the trial's TensorBoard run and nested MLflow run as observers, and the curves stored in the study for
/// the doctor. What the trial's value is, and how it is recorded, is the strategy's.
package struct TrialRunner {
    package let session: StudySession
    package let data: PreparedData
    package let monitor: MetricName
    /// Called at the end of each epoch: the trial's number, the epoch, the history so far and the epoch limit.
    package let onEpoch: (_ trial: Int, _ record: EpochRecord, _ history: History, _ limit: Int) -> Void

    /// What a trial's training gave.
    package struct Trained {
        package let model: MLP
        package let result: TrainingResult
        /// The best epoch's value of the monitored metric, when finite.
        package let value: Double?
        /// The pruner stopped it.
        package let pruned: Bool
        /// The curves stored in the study, as the doctor reads them.
        package let curves: Curves
    }

    /// Trains `specification` under `configuration` as `trial`; `parameters` are what the trackers and the stored
    /// curves show as the trial's settings. Throws what reporting to the study threw.
    package func train(
        _ trial: Trial, specification: MLPSpecification, configuration: TrainingConfiguration,
        parameters: [String: ParameterValue]
    ) throws -> Trained {
        let settings = session.settings
        let reporter = TrialReporter(trial: trial, monitor: monitor)
        let trainer = Trainer(configuration: configuration)
        trainer.callbacks = [reporter]
        let board = try TensorBoardLog.trial(settings.tensorboard, number: trial.number, parameters: parameters)
        let mlflow = session.parentRun.flatMap {
            MLflowLog.start(
                settings, name: "trial \(trial.number)", parent: $0, parameters: MLflowLog.parameters(parameters),
                onNote: session.onNote)
        }
        let observers = [board as (any RunObserver)?, mlflow].compactMap { $0 }
        let staleAfter = session.staleAfter
        trainer.onStep = { _, _, _, _ in trial.keepAlive(staleAfter: staleAfter) }
        let onEpoch = self.onEpoch, number = trial.number, limit = configuration.epochs
        trainer.onEpoch = { record, history in
            for observer in observers { observer.epoch(record, history: history) }
            onEpoch(number, record, history, limit)
        }
        let model = MLP(specification, seed: settings.seed)
        let result = trainer.fit(
            model, train: data.train, validation: data.validation, target: data.preprocessor.target)
        let history = result.history
        let value = history.bestEpoch.flatMap { reporter.value(history.epochs[$0 - 1]) }
        let end: RunEnd =
            reporter.pruned
            ? .killed : history.status == .diverged || value == nil || reporter.error != nil ? .failed : .finished
        for observer in observers { observer.ended(end) }
        if let problem = board?.problem { session.onNote("TensorBoard: \(problem)") }
        if let error = reporter.error { throw error }
        let curves = Curves(result: result, data: data, settings: parameters.mapValues(\.description))
        try StudyCurves.store(curves, trial: trial.number, in: session.storage)
        return Trained(model: model, result: result, value: value, pruned: reporter.pruned, curves: curves)
    }
}

/// Reports the monitored validation value after each epoch and stops the training when the pruner says so.
final class TrialReporter: TrainingCallback {
    let trial: Trial
    let monitor: MetricName
    var pruned = false
    var error: (any Error)?

    init(trial: Trial, monitor: MetricName) {
        self.trial = trial
        self.monitor = monitor
    }

    func value(_ record: EpochRecord) -> Double? {
        record.metrics[monitor.rawValue].flatMap { $0.isFinite ? $0 : nil }
    }

    func epochEnded(_ record: EpochRecord, history: History) -> Bool {
        do {
            try trial.report(value(record) ?? .nan, step: record.epoch)
            pruned = try trial.shouldPrune()
        } catch {
            self.error = error
            return false
        }
        return !pruned
    }
}
