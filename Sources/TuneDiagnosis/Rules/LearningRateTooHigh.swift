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

    func signs(_ c: Curves, _ t: Thresholds) -> [Sign] {
        let train = points(c.trainLoss)
        guard train.count >= 2 else { return [] }
        let values = train.map(\.value), first = values[0], last = values[values.count - 1]
        let validationPoints = points(c.validationLoss)
        let validation = validationPoints.map(\.value)
        let constant = c.constantLoss.flatMap { $0 > 0 ? $0 : nil }
        let level = Level(c)
        var signs: [Sign] = []

        // A blow-up of the step losses.
        if c.stepLoss.count >= 4 {
            let window =
                c.batchSize.map { max(1, Int((32.0 / Double($0)).rounded(.up))) } ?? max(3, c.stepLoss.count / 200)
            let means = movingMeans(c.stepLoss, window: window)
            if !means.isEmpty {
                // Above where the logged steps started (a log that starts late, mid-blow-up, misses it).
                let floor = max(means[0], constant ?? 0)
                if let peak = means.dropFirst().max(), floor > 0, peak > t.blowupFactor * floor {
                    signs.append(
                        Sign(
                            severity: .critical, margin: Finding.ratioAbove(peak / floor, t.blowupFactor), epochs: [],
                            evidence: ["peak_step_loss": peak, "start_step_loss": floor],
                            explanation:
                                "The step losses blew up to \(fmt(peak)) (averaged over \(window) step\(window == 1 ? "" : "s")), \(fmt(peak / floor))x \(floor == means[0] ? "where they started" : "the constant predictor's loss")."
                        ))
                }
            }
        }
        // An explosion: the training loss climbs back a good part of the way it had fallen.
        for e in 1..<values.count {
            let lowest = values[..<e].min()!
            let scale = values[..<e].max()! - lowest
            let rise = values[e] - lowest
            if values[e] > lowest + (t.explosionFactor - 1) * abs(lowest), scale > 0, rise >= t.explosionUndo * scale {
                let margin = min(
                    Finding.above(values[e] / max(abs(lowest), 1e-12), t.explosionFactor),
                    Finding.above(rise / scale, t.explosionUndo))
                signs.append(
                    Sign(
                        severity: .critical, margin: margin, epochs: [train[e].epoch],
                        evidence: [
                            "lowest_loss_before": lowest, "peak_loss": values[e], "undone_fraction": rise / scale
                        ],
                        explanation:
                            "The training loss climbed from \(fmt(lowest)) back to \(fmt(values[e])) at epoch \(train[e].epoch), undoing \(fmt(100 * rise / scale))% of its fall."
                    ))
                break
            }
        }
        // Worse off than after the first epoch.
        if first > 0, last > first * (1 + t.notLearningRange) {
            signs.append(
                Sign(
                    severity: .critical, margin: Finding.above(last / first - 1, t.notLearningRange),
                    epochs: [train[train.count - 1].epoch],
                    evidence: ["first_loss": first, "last_loss": last],
                    explanation:
                        "The training loss ended at \(fmt(last)), above its first epoch's \(fmt(first)): training made the model worse."
                ))
        }
        let third = Array(validation.suffix(max(validation.count / 3, 2))).filter(\.isFinite)
        if let constant, !third.isEmpty {
            // A classification network initialised sanely starts near the chance loss, so its first epoch averages
            // at most about that; a regression network starts at the mean square of the target, which is far above
            // its variance when the target is not centred: only a first epoch 100x the constant predictor's counts.
            let classification = c.chanceLoss != nil
            let blowup = first > (classification ? t.firstEpochBlowup : 100) * constant
            let above = classification ? first > 1.5 * constant : blowup
            // Dead: the validation loss settles at the constant predictor's loss, and neither loss moves any more.
            let trainThird = Array(values.suffix(max(values.count / 3, 2)))
            func flat(_ v: [Double]) -> Bool { abs(v[0] - v[v.count - 1]) <= t.flatFraction * abs(v[v.count - 1]) }
            let dead =
                third.count >= 2 && third.allSatisfy { abs($0 / constant - 1) <= t.deadBand } && flat(trainThird)
                && flat(third)
            let wasBelow =
                (validation.dropLast(third.count).filter(\.isFinite).min() ?? .infinity) < constant
                * (1 - 4 * t.deadBand)
            if dead && (above || wasBelow) {
                signs.append(
                    Sign(
                        severity: .critical,
                        margin: Finding.below(third.map { abs($0 / constant - 1) }.max()!, t.deadBand),
                        epochs: [
                            validationPoints[validation.count - third.count].epoch,
                            validationPoints[validation.count - 1].epoch
                        ],
                        evidence: [
                            "constant_predictor_loss": constant, "late_validation_loss": third.last!,
                            "first_epoch_loss": first
                        ],
                        explanation:
                            "The \(above ? "first epoch's mean training loss (\(fmt(first))) was above the constant predictor's \(fmt(constant))" : "validation loss had been below \(fmt(constant)), the constant predictor's loss,") and the validation loss then settled at that loss (\(fmt(third.last!))): the network died (its units dead or saturated), predicting the same for every row."
                    ))
            }
            if blowup {
                var after: String?
                if let b = bounce(validation), b.relative > t.bounceRelative {
                    after = "the validation loss then bounced by \(fmt(100 * b.relative))% from epoch to epoch"
                } else if let end = third.last, end > constant {
                    after = "the validation loss ends at \(fmt(end)), above the constant predictor's"
                } else if spike(validation, constant: constant, t) != nil {
                    after = "the validation loss later jumped up"
                }
                if let after {
                    signs.append(
                        Sign(
                            severity: .critical, margin: Finding.ratioAbove(first / constant, t.firstEpochBlowup),
                            epochs: [1],
                            evidence: ["first_epoch_loss": first, "constant_predictor_loss": constant],
                            explanation:
                                "The first epoch's mean training loss was \(fmt(first)), \(fmt(first / constant))x the constant predictor's \(fmt(constant)), and \(after): the first steps blew the weights up."
                        ))
                }
            }
        }
        // Without the constant predictor's loss: a first epoch 1000x the second (far more than a network starting at a
        // raw target's mean square falls by in one epoch; a network that memorises falls that far over many epochs,
        // not in one), followed by a validation loss left far above the training loss, bouncing, or a spike.
        if constant == nil, values.count >= 3, values[1] > 0, first > 1000 * values[1] {
            let lowest = values[1]
            var after: String?
            if let end = validation.last, end.isFinite, end >= 5 * t.gapRatio * last {
                after = "the validation loss ends \(fmt(end / last))x the training loss"
            } else if let b = bounce(validation), b.relative > t.bounceRelative {
                after = "the validation loss then bounced by \(fmt(100 * b.relative))% from epoch to epoch"
            } else if spike(validation, constant: nil, t) != nil {
                after = "the validation loss later jumped up"
            }
            if let after {
                signs.append(
                    Sign(
                        severity: .critical, margin: Finding.ratioAbove(first / lowest, 1000), epochs: [1],
                        evidence: ["first_epoch_loss": first, "second_epoch_loss": lowest],
                        explanation:
                            "The first epoch's mean training loss was \(fmt(first)), \(fmt(first / lowest))x the second epoch's, and \(after): the first steps blew the weights up."
                    ))
            }
        }
        // A spike of the validation loss.
        if let s = spike(validation, constant: constant, t) {
            signs.append(
                Sign(
                    severity: .warning, margin: Finding.ratioAbove(s.ratio, 5),
                    epochs: [validationPoints[s.index].epoch],
                    evidence: ["spike_from": validation[s.index - 1], "spike_to": validation[s.index]],
                    explanation:
                        "At epoch \(validationPoints[s.index].epoch) the validation loss jumped from \(fmt(validation[s.index - 1])) to \(fmt(validation[s.index])) (\(fmt(s.ratio))x) in one epoch."
                ))
        }
        // The validation loss bouncing far from the reference (not small batches: their noise is `noisy`).
        let smallBatch = (c.batchSize ?? Int.max) <= t.noisyBatch
        if !smallBatch, validation.count >= 8, let b = bounce(validation), b.relative > t.bounceRelative,
            b.upward * 3 >= b.moves
        {
            let late = Array(validation.suffix(validation.count - validation.count / 2)).filter(\.isFinite)
            let median = CurveMath.median(late)
            var high: Double?
            if let share = level.share(median) {
                high = Finding.above(share, t.bounceShare)
            } else if level.referenceLoss == nil, let constant {
                high = Finding.above(median / constant, 0.5)
            } else if level.referenceLoss == nil {
                high = Finding.above(b.relative, 3 * t.bounceRelative)  // nothing to judge the level by: violent only
            }
            if let high, high > 0 {
                signs.append(
                    Sign(
                        severity: .warning, margin: min(high, Finding.above(b.relative, t.bounceRelative)),
                        epochs: [
                            validationPoints[validation.count - late.count].epoch,
                            validationPoints[validation.count - 1].epoch
                        ],
                        evidence: ["mean_relative_move": b.relative, "late_median_validation_loss": median],
                        explanation:
                            "Over the second half the validation loss moves by \(fmt(100 * b.relative))% from epoch to epoch (up in \(b.upward) of \(b.moves)) around \(fmt(median))\(level.describe(median).isEmpty ? "" : " (\(level.describe(median)))"): the steps are too large to settle into the valley."
                    ))
            }
        }
        // (Classification) bouncing without ever getting below chance.
        if let chance = c.chanceLoss, values.count >= 4 {
            let late = Array(values.suffix(values.count - values.count / 2))
            let jump = CurveMath.mean(zip(late.dropFirst(), late).map { abs($0 - $1) / max(abs($1), 1e-12) })
            if late.min()! > chance, jump > t.chanceBounce {
                signs.append(
                    Sign(
                        severity: .warning, margin: Finding.above(jump, t.chanceBounce),
                        epochs: [train[train.count - late.count].epoch, train[train.count - 1].epoch],
                        evidence: ["mean_relative_jump": jump, "lowest_late_loss": late.min()!, "chance_loss": chance],
                        explanation:
                            "Over the second half the training loss bounces (\(fmt(100 * jump))% from epoch to epoch) and never gets below \(fmt(chance)), the loss of guessing."
                    ))
            }
        }
        // A rate far above its optimizer's usual range, on a run stuck or bouncing far from the reference.
        if let lr = c.hyperparameters.learningRate, let usual = Self.usualMaximum(c.hyperparameters),
            lr >= t.highRateFactor * usual,
            level.isFar(t) == true
                || (level.referenceLoss == nil
                    && (constant.map { (level.bestValidationLoss ?? 0) >= t.underfitLevel * $0 } ?? false))
        {
            let trainThird = Array(values.suffix(max(values.count / 3, 2)))
            let stuck =
                abs(trainThird[0] - trainThird[trainThird.count - 1]) <= t.flatFraction
                * abs(trainThird[trainThird.count - 1])
            let bouncing = (bounce(validation)?.relative ?? 0) > t.bounceRelative / 3
            if stuck || bouncing {
                signs.append(
                    Sign(
                        severity: .warning, margin: Finding.ratioAbove(lr / usual, t.highRateFactor), epochs: [],
                        evidence: ["learning_rate": lr, "usual_maximum": usual],
                        explanation:
                            "The learning rate \(fmt(lr)) (\(c.hyperparameters.source ?? "the settings")) is \(fmt(lr / usual))x the top of the usual range for \(c.hyperparameters.optimizer ?? "this optimizer") (\(fmt(usual))), and the run is \(stuck ? "stuck" : "bouncing") far above what other runs reach."
                    ))
            }
        }
        return signs
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
