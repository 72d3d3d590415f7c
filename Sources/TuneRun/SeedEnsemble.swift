import Foundation
import TuneData
import TuneNN
import TuneReport
import TuneTensor
import TuneTraining

/// One configuration trained with several seeds on one split (the seed changes the initial weights, the dropout masks
/// and the batch order, never the split), scored one by one and as an ensemble that averages the members' class
/// probabilities (or, for regression, their predictions). `tune ensemble` and the recipe's last stage.
public struct SeedEnsemble {
    public let data: PreparedData
    public let specification: MLPSpecification
    public let configuration: TrainingConfiguration
    public let seeds: [UInt64]

    public init(
        data: PreparedData, specification: MLPSpecification, configuration: TrainingConfiguration, seeds: [UInt64]
    ) {
        self.data = data
        self.specification = specification
        self.configuration = configuration
        self.seeds = seeds
    }

    public struct Result {
        /// Nil with fewer than two members.
        public var report: EnsembleReport?
        /// Each member's metrics on the scored rows.
        public var memberTestMetrics: [[String: Double]]
        /// Epochs trained over all members.
        public var epochs: Int
    }

    /// Trains every member. When `out` is set, the first member (the first seed) is written as a run directory at
    /// `out/bestDirectory` and every member at `out/membersDirectory/member-<seed>`; `tune predict` reads each.
    public func run(
        settings: TrainSettings, out: URL?, bestDirectory: String?, membersDirectory: String?,
        onMember: (UInt64, [String: Double]) -> Void = { _, _ in }
    ) throws -> Result {
        let target = data.preprocessor.target
        let monitor = configuration.metric ?? MetricName.defaultMonitor(for: target.task)
        let scored = data.test.count > 0 ? data.test : data.validation
        let split = data.test.count > 0 ? "test" : "validation"
        var probabilities: [[[Double]]] = [], predictions: [[Float]] = [], metrics: [[String: Double]] = []
        var epochs = 0
        for seed in seeds {
            var c = configuration
            c.seed = seed
            let model = MLP(specification, seed: seed)
            let result = Trainer(configuration: c).fit(
                model, train: data.train, validation: data.validation, target: target)
            epochs += result.history.epochs.count
            let outputs = withoutGradient { model(scored.x) }
            let m = Evaluation.metrics(outputs: outputs, data: scored, target: target)
            if target.task.isClassification {
                probabilities.append(Evaluation.probabilities(outputs, task: target.task))
            } else {
                predictions.append(outputs.scalars)
            }
            metrics.append(m)
            onMember(seed, m)
            if let out {
                let run = TrainRun(
                    settings: settings, command: "seed ensemble member: model seed \(seed), split seed \(settings.seed)"
                )
                let outcome = TrainOutcome(
                    model: model, result: result, preprocessor: data.preprocessor, specification: specification,
                    testMetrics: data.test.count > 0 ? m : [:], baselineLoss: Baseline.validationLoss(data),
                    rows: (data.train.count, data.validation.count, data.test.count), notes: data.notes)
                if let bestDirectory, seed == seeds.first {
                    try replaceDirectory(out.appendingPathComponent(bestDirectory)) {
                        try run.write(outcome, model: model, to: $0, name: bestDirectory)
                    }
                }
                if let membersDirectory, seeds.count > 1 {
                    let member = out.appendingPathComponent(membersDirectory).appendingPathComponent("member-\(seed)")
                    try createOutputDirectory(member.deletingLastPathComponent().path)
                    try replaceDirectory(member) {
                        try run.write(outcome, model: model, to: $0, name: member.lastPathComponent)
                    }
                }
            }
        }
        guard seeds.count > 1 else { return Result(report: nil, memberTestMetrics: metrics, epochs: epochs) }
        let combined: [String: Double]
        if target.task.isClassification {
            let n = probabilities[0].count, k = probabilities[0].first?.count ?? 0
            let mean = (0..<n).map { i in
                (0..<k).map { j in probabilities.map { $0[i][j] }.reduce(0, +) / Double(probabilities.count) }
            }
            combined = Evaluation.metrics(probabilities: mean, data: scored, target: target)
        } else {
            let n = predictions[0].count
            let mean = (0..<n).map { i in predictions.map { $0[i] }.reduce(0, +) / Float(predictions.count) }
            combined = Evaluation.metrics(predictions: mean, data: scored, target: target)
        }
        let values = metrics.compactMap { $0[monitor.rawValue] }
        let mean = values.reduce(0, +) / Double(max(values.count, 1))
        let spread =
            values.count > 1
            ? (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : 0
        let ensembleValue = combined[monitor.rawValue] ?? .nan
        let gain = (ensembleValue - mean) * (monitor.higherIsBetter ? 1 : -1)
        let report = EnsembleReport(
            monitor: monitor.rawValue, split: split, seeds: seeds, members: values, mean: mean, spread: spread,
            ensemble: ensembleValue, gain: gain, gainExceedsNoise: gain > spread,
            ensembleMetrics: combined, singleMetrics: metrics[0])
        return Result(report: report, memberTestMetrics: metrics, epochs: epochs)
    }
}

extension SeedEnsemble {
    /// `tune ensemble` as a library call: the settings' data and network trained with `members` seeds (`settings.seed`
    /// and the next ones), each member written to `out/member-<seed>`, the comparison to `out/ensemble.json`.
    /// `onMember` hears each member's seed and its value of the monitored metric as it ends.
    public static func train(
        settings: TrainSettings, members: Int, onNote: (String) -> Void = { _ in },
        onMember: (_ seed: UInt64, _ monitor: String, _ value: Double?) -> Void = { _, _, _ in }
    ) throws -> EnsembleReport {
        guard let outPath = settings.out else {
            throw DataError(path: "tune ensemble", "no output directory: pass --out DIR")
        }
        let (data, specification, configuration) = try TrainRun(settings: settings).prepare()
        for note in data.messages { onNote(note) }
        let seeds = (0..<UInt64(max(members, 0))).map { settings.seed &+ $0 }
        let ensemble = SeedEnsemble(
            data: data, specification: specification, configuration: configuration, seeds: seeds)
        let monitor = (configuration.metric ?? MetricName.defaultMonitor(for: data.preprocessor.target.task)).rawValue
        let out = URL(fileURLWithPath: outPath)
        let result = try ensemble.run(settings: settings, out: out, bestDirectory: nil, membersDirectory: ".") {
            seed, metrics in onMember(seed, monitor, metrics[monitor])
        }
        guard let report = result.report else {
            throw DataError(path: "--members", "an ensemble needs at least two members")
        }
        try writeAtomically(try jsonData(report), to: out.appendingPathComponent("ensemble.json"))
        return report
    }
}
