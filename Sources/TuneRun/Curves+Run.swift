import TuneData
import TuneDiagnosis
import TuneReport
import TuneTraining

extension Curves {
    /// The curves of a run just trained on `data`, with what the doctor needs to know of the task, the settings and
    /// the constant predictor's loss on the validation rows.
    public init(result: TrainingResult, data: PreparedData, settings: [String: String] = [:]) {
        self.init(history: result.history)
        task = Curves.Task(rawValue: data.preprocessor.target.task.rawValue) ?? .unknown
        classes = data.preprocessor.target.classes?.count
        hyperparameters = Hyperparameters(settings: settings, source: "the run's settings")
        trainingRows = data.train.count
        batchSize = result.batchSize
        baselineLoss = Baseline.validationLoss(data)
        baselineSource = baselineLoss == nil ? nil : "a constant predictor on the validation rows"
    }
}
