/// What `metrics.json` holds.
public struct RunSummary: Codable, Sendable {
    public var task: String
    public var monitor: String
    public var status: String
    public var reason: String
    public var bestEpoch: Int?
    public var lowestValidationLossEpoch: Int?
    public var batchSize: Int
    public var rows: [String: Int]
    /// Validation metrics of the selected (best) epoch.
    public var validation: [String: Double]
    /// Test metrics of the selected model.
    public var test: [String: Double]
    /// The loss a constant predictor scores on the validation rows: what the doctor judges the losses against.
    public var baselineValidationLoss: Double?

    public init(
        task: String, monitor: String, status: String, reason: String, bestEpoch: Int? = nil,
        lowestValidationLossEpoch: Int? = nil, batchSize: Int, rows: [String: Int], validation: [String: Double],
        test: [String: Double], baselineValidationLoss: Double? = nil
    ) {
        self.task = task
        self.monitor = monitor
        self.status = status
        self.reason = reason
        self.bestEpoch = bestEpoch
        self.lowestValidationLossEpoch = lowestValidationLossEpoch
        self.batchSize = batchSize
        self.rows = rows
        self.validation = validation
        self.test = test
        self.baselineValidationLoss = baselineValidationLoss
    }
}
