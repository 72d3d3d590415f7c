import Foundation
import TuneData
import TuneNN
import TuneRandom
import TuneReport
import TuneTensor
import TuneTraining

/// The learning-rate range test (Smith, 2017): the rate swept exponentially over one short run while the loss is
/// recorded; the loss falls, flattens, then blows up. The suggestion is a tenth of the rate at the lowest smoothed loss,
/// computed for several seeds and summarised by their geometric mean, with their spread reported: a single sweep's
/// point is known to mislead.
public struct LRRangeTest: Sendable {
    public var minimumRate = 1e-7
    public var maximumRate = 10.0
    /// Steps per sweep: one epoch, but at least 100 and at most 300 (data is reshuffled and reused when an epoch is
    /// shorter than 100 steps).
    public var minimumSteps = 100
    public var maximumSteps = 300
    /// Smoothing of the loss (an exponential moving average with bias correction).
    public var beta = 0.98
    /// The sweep stops when the smoothed loss exceeds this multiple of its best.
    public var divergenceFactor = 4.0
    public var seeds: [UInt64] = [0, 1, 2]

    public init() {}

    /// One sweep's record.
    public struct Sweep: Sendable {
        public var seed: UInt64
        public var rates: [Double] = []
        public var losses: [Double] = []
        public var smoothed: [Double] = []
        /// A tenth of the rate at the lowest smoothed loss.
        public var suggestion: Double?
    }

    /// All sweeps and the summary.
    public struct Result: Sendable {
        public var sweeps: [Sweep]
        /// The geometric mean of the sweeps' suggestions.
        public var suggestion: Double?
        /// The largest suggestion over the smallest (1 when the seeds agree).
        public var spread: Double?

        /// The median of the sweeps' suggestions (of an even count, the geometric mean of the middle two): one
        /// sweep that went wrong does not move it.
        public var median: Double? {
            let s = sweeps.compactMap(\.suggestion).sorted()
            guard !s.isEmpty else { return nil }
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] * s[s.count / 2]).squareRoot()
        }

        /// The sweeps as CSV: seed, step, rate, loss, smoothed loss.
        public func csv() -> String {
            var lines = ["seed,step,lr,loss,smoothed_loss"]
            for s in sweeps {
                for i in s.rates.indices {
                    lines.append("\(s.seed),\(i),\(s.rates[i]),\(s.losses[i]),\(s.smoothed[i])")
                }
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// Sweeps `specification` networks on `train` with the optimizer of `configuration`, once per seed.
    public func run(
        specification: MLPSpecification, train: LabeledData, target: Preprocessor.Target,
        configuration: TrainingConfiguration
    ) -> Result {
        let batch = configuration.batchSize.resolve(trainingRows: train.count).size
        let perEpoch = (train.count + batch - 1) / batch
        let steps = min(max(perEpoch, minimumSteps), maximumSteps)
        let growth = Foundation.pow(maximumRate / minimumRate, 1 / Double(max(steps - 1, 1)))
        var sweeps: [Sweep] = []
        for seed in seeds {
            let model = MLP(specification, seed: seed)
            model.train()
            var c = configuration
            c.gradientClipNorm = nil
            let optimizer = Trainer.makeOptimizer(c, model: model, schedule: .exponential(minimumRate, gamma: growth))
            var rng = PhiloxRandom(seed: seed, stream: 0x1F1D)
            var order: [Int] = [], position = 0
            var sweep = Sweep(seed: seed)
            var average = 0.0, best = Double.infinity
            for step in 0..<steps {
                if position + batch > order.count || order.isEmpty {
                    order = (0..<train.count).shuffled(using: &rng)
                    position = 0
                }
                var rows = Array(order[position..<min(position + batch, order.count)])
                if rows.count < 2 { rows = Array(order.prefix(min(batch, order.count))) }
                position += batch
                let part = train.rows(rows)
                let rate = Double(optimizer.learningRate)
                let (loss, gradients) = optimizer.valueAndGradients {
                    Evaluation.loss(outputs: model(part.x), data: part, task: target.task)
                }
                let value = Double(loss.scalar)
                average = beta * average + (1 - beta) * (value.isFinite ? value : .infinity)
                let smoothed = average / (1 - Foundation.pow(beta, Double(step + 1)))
                sweep.rates.append(rate)
                sweep.losses.append(value)
                sweep.smoothed.append(smoothed)
                if !smoothed.isFinite || smoothed > divergenceFactor * best { break }
                best = min(best, smoothed)
                optimizer.step(gradients)
            }
            if let i = sweep.smoothed.indices.filter({ sweep.smoothed[$0].isFinite }).min(by: {
                sweep.smoothed[$0] < sweep.smoothed[$1]
            }) {
                sweep.suggestion = sweep.rates[i] / 10
            }
            sweeps.append(sweep)
        }
        let suggestions = sweeps.compactMap(\.suggestion)
        let mean =
            suggestions.isEmpty
            ? nil : Foundation.exp(suggestions.map { Foundation.log($0) }.reduce(0, +) / Double(suggestions.count))
        let spread = suggestions.isEmpty ? nil : suggestions.max()! / suggestions.min()!
        return Result(sweeps: sweeps, suggestion: mean, spread: spread)
    }
}

extension LRRangeTest {
    /// The report's section of this test's sweeps (`csv`, as `Sweeps.csv()` writes it) and what it found.
    public func reportSection(csv: String, values: [String: Double]?) -> StudyReport.RangeTest {
        StudyReport.RangeTest(
            csv: csv, values: values, minimumRate: minimumRate, maximumRate: maximumRate,
            divergenceFactor: divergenceFactor)
    }
}
