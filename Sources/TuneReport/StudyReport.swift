import TuneData
import TuneSearch
import TuneTraining

/// What the report of a study shows, filled in by whichever strategy ran it (the recipe or a classic search) or read
/// back from a study's directory; `HTMLReport.study` renders it.
public struct StudyReport: Sendable {
    /// One stage of the recipe as the report's table shows it.
    public struct Stage: Sendable, Equatable {
        public var number: Int
        public var name: String
        /// How many trials the stage recorded.
        public var trials: Int
        public var decision: String
        /// The decision's reason and notes, as one text.
        public var why: String

        public init(number: Int, name: String, trials: Int, decision: String, why: String) {
            self.number = number
            self.name = name
            self.trials = trials
            self.decision = decision
            self.why = why
        }
    }

    /// The LR range test: its sweeps and what it suggested, with the sweep's settings.
    public struct RangeTest: Sendable, Equatable {
        /// The sweeps as `lr_range_test.csv` holds them: seed, step, lr, loss, smoothed_loss.
        public var csv: String
        /// What the test found ("suggestion", "spread").
        public var values: [String: Double]?
        public var minimumRate: Double
        public var maximumRate: Double
        /// A sweep stops when its smoothed loss passes this many times its lowest.
        public var divergenceFactor: Double

        public init(
            csv: String, values: [String: Double]?, minimumRate: Double, maximumRate: Double, divergenceFactor: Double
        ) {
            self.csv = csv
            self.values = values
            self.minimumRate = minimumRate
            self.maximumRate = maximumRate
            self.divergenceFactor = divergenceFactor
        }
    }

    /// The title: the study's directory name.
    public var name: String
    /// The monitored validation metric and its direction.
    public var monitor: String
    public var higherIsBetter: Bool
    /// The study's trials (those not finished are left out).
    public var trials: [FrozenTrial]
    /// The best trial's number.
    public var best: Int?
    public var rangeTest: RangeTest?
    /// The data check's report.
    public var dataCheck: DataCheckReport?
    /// The recipe's stages (nil for a classic search).
    public var stages: [Stage]?
    public var ensemble: EnsembleReport?
    /// The best model's training history.
    public var bestHistory: History?

    public init(
        name: String, monitor: String, higherIsBetter: Bool, trials: [FrozenTrial], best: Int? = nil,
        rangeTest: RangeTest? = nil, dataCheck: DataCheckReport? = nil,
        stages: [Stage]? = nil, ensemble: EnsembleReport? = nil, bestHistory: History? = nil
    ) {
        self.name = name
        self.monitor = monitor
        self.higherIsBetter = higherIsBetter
        self.trials = trials
        self.best = best
        self.rangeTest = rangeTest
        self.dataCheck = dataCheck
        self.stages = stages
        self.ensemble = ensemble
        self.bestHistory = bestHistory
    }
}
