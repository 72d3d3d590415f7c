import TuneDiagnosis
import TuneTraining

extension Curves {
    /// The curves of a swift-tune training history.
    public init(history: History) {
        self.init()
        trainLoss = history.epochs.map { $0.trainLoss }
        validationLoss = history.epochs.map { $0.validationLoss }
        if !history.monitor.isEmpty {
            metricName = history.monitor
            metricHigherIsBetter = history.monitorHigherIsBetter
            metric = history.epochs.map { $0.metrics[history.monitor] }
        }
        stepLoss = history.stepLosses
        firstStepLogged = !history.stepLosses.isEmpty
        if history.stepsPerEpoch > 0 { stepsPerEpoch = history.stepsPerEpoch }
        learningRate = history.epochs.map { $0.learningRate }
        gradientNormMean = history.epochs.map { $0.gradientNormMean }
        gradientNormMax = history.epochs.map { $0.gradientNormMax }
    }
}
