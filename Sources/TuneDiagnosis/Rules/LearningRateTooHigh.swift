import Foundation

/// `lr_too_high`: the steps overshoot. Each sign below is checked, and the strongest is reported:
/// - a NaN or infinite loss (critical: the run diverged, nothing else it shows counts);
/// - a blow-up of the step losses, averaged over 32 rows' worth of steps: one row's loss is not the network's;
/// - an explosion: the training loss climbs back up, undoing a good part of its fall;
/// - a training loss that ends above its first epoch's;
/// - a first epoch whose mean loss is far above the constant predictor's (a blow-up in the first steps; alone it says
///   nothing, since a bad initialisation does the same), followed by death, bouncing, a spike of the validation loss,
///   or a validation loss that stays above the constant predictor's; for a regression, whose network starts at the
///   target's mean square rather than its variance, only a first epoch 100x the constant predictor's counts; without
///   the constant predictor's loss, a first epoch 1000x the second;
/// - death: the validation loss settles at the constant predictor's and stays there, after the loss had been below it
///   or above it (the network learned, or blew up, then died);
/// - a spike: the validation loss jumps up several-fold in one epoch, by half the constant predictor's loss or more;
/// - the validation loss bouncing from epoch to epoch while far from the reference (batches of a few rows bounce too:
///   that is `noisy`);
/// - (classification) the training loss bouncing without ever getting below chance;
/// - a rate far above the usual range of its optimizer (when the settings say it) on a run that is stuck or bouncing
///   far from the reference.
public struct LearningRateTooHigh: DiagnosisRule {
    public let id = FindingID.lrTooHigh
    public init() {}

    /// The highest rate in the usual range of an optimizer family: Adam's family 1e-2 (default 1e-3), SGD with
    /// momentum 0.1, plain SGD 1; nil when the family or its momentum is unknown.
    public static func usualMaximum(_ h: Hyperparameters) -> Double? {
        switch h.optimizer {
        case "adam", "adamw", "adamax", "nadam", "radam", "rmsprop", "adagrad", "lamb": return 0.01
        case "sgd": return h.momentum.map { $0 > 0 ? 0.1 : 1.0 }
        default: return nil
        }
    }

    struct Sign {
        var severity: Severity
        var margin: Double
        var epochs: [Int]
        var evidence: [String: Double]
        var explanation: String
    }

    public func examine(_ c: Curves, _ t: Thresholds) -> Finding? {
        let rate = c.hyperparameters.learningRate ?? c.learningRate.compactMap { $0 }.first
        let next =
            "Lower the learning rate 10x\(rate.map { " (to \(fmt($0 / 10)))" } ?? ""), add a warmup of a few epochs, and clip gradients (for example at their 90th percentile norm)."
        func finding(_ s: Sign) -> Finding {
            Finding(
                id: id, severity: s.severity, confidence: Finding.confidence(margin: s.margin), epochs: s.epochs,
                evidence: s.evidence,
                explanation: s.explanation, nextStep: next)
        }
        // Non-finite values anywhere; the first of equal epochs is kept, so a training loss is named first.
        if let bad = (points(c.trainLoss) + points(c.validationLoss)).filter({ !$0.value.isFinite }).min(by: {
            $0.epoch < $1.epoch
        }) {
            return finding(
                Sign(
                    severity: .critical, margin: .infinity, epochs: [bad.epoch],
                    evidence: ["first_non_finite_epoch": Double(bad.epoch)],
                    explanation: "The loss became \(bad.value) at epoch \(bad.epoch): training diverged."))
        }
        if let bad = c.stepLoss.firstIndex(where: { !$0.isFinite }) {
            return finding(
                Sign(
                    severity: .critical, margin: .infinity, epochs: [],
                    evidence: ["first_non_finite_step": Double(bad + 1)],
                    explanation: "The loss became \(c.stepLoss[bad]) at step \(bad + 1): training diverged."))
        }
        let signs = self.signs(c, t)
        guard let strongest = signs.max(by: { ($0.severity, $0.margin) < ($1.severity, $1.margin) }) else { return nil }
        var best = strongest
        for other in signs where other.explanation != best.explanation {
            best.evidence.merge(other.evidence) { a, _ in a }
            best.margin = max(best.margin, other.margin)
        }
        if signs.count > 1 {
            best.explanation +=
                " Also: "
                + signs.filter { $0.explanation != strongest.explanation }.map(\.explanation).joined(separator: " ")
        }
        return finding(best)
    }

    /// Every sign but the non-finite losses, in the order their explanations follow the strongest's ("Also: ...").
    func signs(_ c: Curves, _ t: Thresholds) -> [Sign] {
        guard let r = Losses(c) else { return [] }
        let found = [
            stepBlowup(r, t), explosion(r, t), worseThanFirstEpoch(r, t), death(r, t), firstEpochBlowup(r, t),
            firstEpochBlowupWithoutConstant(r, t), validationSpike(r, t), validationBounce(r, t),
            bounceAboveChance(r, t), rateAboveUsualRange(r, t)
        ]
        return found.compactMap { $0 }
    }

    /// The first epoch (index) in the second half at which the validation loss jumps at least 5x from the epoch
    /// before, by half the constant predictor's loss or more (by 10x without it): a spike no overfitting makes, once
    /// the early turbulence is over.
    func spike(_ v: [Double], constant: Double?, _ t: Thresholds) -> (index: Int, ratio: Double)? {
        for i in max(v.count / 2, 1)..<max(v.count, 1) where v[i].isFinite && v[i - 1].isFinite && v[i - 1] > 0 {
            let ratio = v[i] / v[i - 1]
            if let constant {
                if ratio >= 5, v[i] - v[i - 1] >= 0.5 * constant { return (i, ratio) }
            } else if ratio >= 10 {
                return (i, ratio)
            }
        }
        return nil
    }

    /// The mean relative epoch-to-epoch move of the second half of `values`, and how many moves were upward.
    func bounce(_ values: [Double]) -> (relative: Double, upward: Int, moves: Int)? {
        let late = values.suffix(values.count - values.count / 2).filter(\.isFinite)
        let moves = zip(late.dropFirst(), late).compactMap { b, a in a > 0 ? (b - a) / a : nil }
        guard moves.count >= 3 else { return nil }
        return (CurveMath.mean(moves.map(abs)), moves.filter { $0 > 0 }.count, moves.count)
    }

    /// Means of `window` consecutive values, at every start.
    func movingMeans(_ v: [Double], window: Int) -> [Double] {
        guard v.count >= window else { return [] }
        var sum = v[..<window].reduce(0, +), out = [sum / Double(window)]
        for i in window..<v.count {
            sum += v[i] - v[i - window]
            out.append(sum / Double(window))
        }
        return out
    }
}
