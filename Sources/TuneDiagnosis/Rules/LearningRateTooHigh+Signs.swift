import Foundation

/// The signs of `lr_too_high` other than non-finite losses, one function per kind of sign; each returns nil when its
/// sign is absent.
extension LearningRateTooHigh {
    /// What the signs are read from: the training loss (at least two epochs), the validation loss, the constant
    /// predictor's loss (when known and positive) and the level of the run.
    struct Losses {
        let curves: Curves
        let train: [(epoch: Int, value: Double)]
        let values: [Double]
        let first: Double
        let last: Double
        let validationPoints: [(epoch: Int, value: Double)]
        let validation: [Double]
        let constant: Double?
        let level: Level
        /// The finite values of the validation loss's last third (at least its last two epochs).
        let third: [Double]
        /// The training loss's last third (at least its last two epochs).
        let trainThird: [Double]

        /// Nil when fewer than two epochs logged a training loss.
        init?(_ c: Curves) {
            train = points(c.trainLoss)
            guard train.count >= 2 else { return nil }
            curves = c
            values = train.map(\.value)
            first = values[0]
            last = values[values.count - 1]
            validationPoints = points(c.validationLoss)
            validation = validationPoints.map(\.value)
            constant = c.constantLoss.flatMap { $0 > 0 ? $0 : nil }
            level = Level(c)
            third = Array(validation.suffix(max(validation.count / 3, 2))).filter(\.isFinite)
            trainThird = Array(values.suffix(max(values.count / 3, 2)))
        }

        /// Whether the first epoch's mean training loss is a blow-up over the constant predictor's loss. A
        /// classification network initialised sanely starts near the chance loss, so its first epoch averages at most
        /// about that; a regression network starts at the mean square of the target, which is far above its variance
        /// when the target is not centred: only a first epoch 100x the constant predictor's counts.
        func firstEpochBlewUp(_ constant: Double, _ t: Thresholds) -> Bool {
            first > (curves.chanceLoss != nil ? t.firstEpochBlowup : 100) * constant
        }

        /// Whether the first epoch's mean training loss is above the constant predictor's: by half of it for a
        /// classification, by a blow-up for a regression.
        func firstEpochAbove(_ constant: Double, _ t: Thresholds) -> Bool {
            curves.chanceLoss != nil ? first > 1.5 * constant : firstEpochBlewUp(constant, t)
        }
    }

    /// Whether `v` moved by at most `flatFraction` of its last value from its first to its last.
    func isFlat(_ v: [Double], _ t: Thresholds) -> Bool {
        abs(v[0] - v[v.count - 1]) <= t.flatFraction * abs(v[v.count - 1])
    }

    /// A blow-up of the step losses, averaged over 32 rows' worth of steps.
    func stepBlowup(_ r: Losses, _ t: Thresholds) -> Sign? {
        let c = r.curves
        guard c.stepLoss.count >= 4 else { return nil }
        let window =
            c.batchSize.map { max(1, Int((32.0 / Double($0)).rounded(.up))) } ?? max(3, c.stepLoss.count / 200)
        let means = movingMeans(c.stepLoss, window: window)
        guard !means.isEmpty else { return nil }
        // Above where the logged steps started (a log that starts late, mid-blow-up, misses it).
        let floor = max(means[0], r.constant ?? 0)
        guard let peak = means.dropFirst().max(), floor > 0, peak > t.blowupFactor * floor else { return nil }
        return Sign(
            severity: .critical, margin: Finding.ratioAbove(peak / floor, t.blowupFactor), epochs: [],
            evidence: ["peak_step_loss": peak, "start_step_loss": floor],
            explanation:
                "The step losses blew up to \(fmt(peak)) (averaged over \(window) step\(window == 1 ? "" : "s")), \(fmt(peak / floor))x \(floor == means[0] ? "where they started" : "the constant predictor's loss")."
        )
    }

    /// An explosion: the training loss climbs back a good part of the way it had fallen.
    func explosion(_ r: Losses, _ t: Thresholds) -> Sign? {
        let values = r.values
        for e in 1..<values.count {
            let lowest = values[..<e].min()!
            let scale = values[..<e].max()! - lowest
            let rise = values[e] - lowest
            if values[e] > lowest + (t.explosionFactor - 1) * abs(lowest), scale > 0, rise >= t.explosionUndo * scale {
                let margin = min(
                    Finding.above(values[e] / max(abs(lowest), 1e-12), t.explosionFactor),
                    Finding.above(rise / scale, t.explosionUndo))
                return Sign(
                    severity: .critical, margin: margin, epochs: [r.train[e].epoch],
                    evidence: [
                        "lowest_loss_before": lowest, "peak_loss": values[e], "undone_fraction": rise / scale
                    ],
                    explanation:
                        "The training loss climbed from \(fmt(lowest)) back to \(fmt(values[e])) at epoch \(r.train[e].epoch), undoing \(fmt(100 * rise / scale))% of its fall."
                )
            }
        }
        return nil
    }

    /// Worse off than after the first epoch: the training loss ends above its first epoch's.
    func worseThanFirstEpoch(_ r: Losses, _ t: Thresholds) -> Sign? {
        let first = r.first, last = r.last
        guard first > 0, last > first * (1 + t.notLearningRange) else { return nil }
        return Sign(
            severity: .critical, margin: Finding.above(last / first - 1, t.notLearningRange),
            epochs: [r.train[r.train.count - 1].epoch],
            evidence: ["first_loss": first, "last_loss": last],
            explanation:
                "The training loss ended at \(fmt(last)), above its first epoch's \(fmt(first)): training made the model worse."
        )
    }

    /// Dead: the validation loss settles at the constant predictor's loss, and neither loss moves any more, after the
    /// first epoch had been above it or the validation loss below it.
    func death(_ r: Losses, _ t: Thresholds) -> Sign? {
        guard let constant = r.constant, !r.third.isEmpty else { return nil }
        let third = r.third, validation = r.validation, first = r.first
        let above = r.firstEpochAbove(constant, t)
        let dead =
            third.count >= 2 && third.allSatisfy { abs($0 / constant - 1) <= t.deadBand } && isFlat(r.trainThird, t)
            && isFlat(third, t)
        let wasBelow =
            (validation.dropLast(third.count).filter(\.isFinite).min() ?? .infinity) < constant
            * (1 - 4 * t.deadBand)
        guard dead && (above || wasBelow) else { return nil }
        return Sign(
            severity: .critical,
            margin: Finding.below(third.map { abs($0 / constant - 1) }.max()!, t.deadBand),
            epochs: [
                r.validationPoints[validation.count - third.count].epoch,
                r.validationPoints[validation.count - 1].epoch
            ],
            evidence: [
                "constant_predictor_loss": constant, "late_validation_loss": third.last!,
                "first_epoch_loss": first
            ],
            explanation:
                "The \(above ? "first epoch's mean training loss (\(fmt(first))) was above the constant predictor's \(fmt(constant))" : "validation loss had been below \(fmt(constant)), the constant predictor's loss,") and the validation loss then settled at that loss (\(fmt(third.last!))): the network died (its units dead or saturated), predicting the same for every row."
        )
    }

    /// A first epoch whose mean training loss blew up over the constant predictor's, followed by a bouncing validation
    /// loss, one that ends above the constant predictor's, or a spike of it.
    func firstEpochBlowup(_ r: Losses, _ t: Thresholds) -> Sign? {
        guard let constant = r.constant, !r.third.isEmpty, r.firstEpochBlewUp(constant, t) else { return nil }
        let validation = r.validation, first = r.first
        var after: String?
        if let b = bounce(validation), b.relative > t.bounceRelative {
            after = "the validation loss then bounced by \(fmt(100 * b.relative))% from epoch to epoch"
        } else if let end = r.third.last, end > constant {
            after = "the validation loss ends at \(fmt(end)), above the constant predictor's"
        } else if spike(validation, constant: constant, t) != nil {
            after = "the validation loss later jumped up"
        }
        guard let after else { return nil }
        return Sign(
            severity: .critical, margin: Finding.ratioAbove(first / constant, t.firstEpochBlowup),
            epochs: [1],
            evidence: ["first_epoch_loss": first, "constant_predictor_loss": constant],
            explanation:
                "The first epoch's mean training loss was \(fmt(first)), \(fmt(first / constant))x the constant predictor's \(fmt(constant)), and \(after): the first steps blew the weights up."
        )
    }

    /// Without the constant predictor's loss: a first epoch 1000x the second (far more than a network starting at a
    /// raw target's mean square falls by in one epoch; a network that memorises falls that far over many epochs, not
    /// in one), followed by a validation loss left far above the training loss, bouncing, or a spike.
    func firstEpochBlowupWithoutConstant(_ r: Losses, _ t: Thresholds) -> Sign? {
        let values = r.values, validation = r.validation, first = r.first, last = r.last
        guard r.constant == nil, values.count >= 3, values[1] > 0, first > 1000 * values[1] else { return nil }
        let lowest = values[1]
        var after: String?
        if let end = validation.last, end.isFinite, end >= 5 * t.gapRatio * last {
            after = "the validation loss ends \(fmt(end / last))x the training loss"
        } else if let b = bounce(validation), b.relative > t.bounceRelative {
            after = "the validation loss then bounced by \(fmt(100 * b.relative))% from epoch to epoch"
        } else if spike(validation, constant: nil, t) != nil {
            after = "the validation loss later jumped up"
        }
        guard let after else { return nil }
        return Sign(
            severity: .critical, margin: Finding.ratioAbove(first / lowest, 1000), epochs: [1],
            evidence: ["first_epoch_loss": first, "second_epoch_loss": lowest],
            explanation:
                "The first epoch's mean training loss was \(fmt(first)), \(fmt(first / lowest))x the second epoch's, and \(after): the first steps blew the weights up."
        )
    }

    /// A spike of the validation loss.
    func validationSpike(_ r: Losses, _ t: Thresholds) -> Sign? {
        let validation = r.validation
        guard let s = spike(validation, constant: r.constant, t) else { return nil }
        return Sign(
            severity: .warning, margin: Finding.ratioAbove(s.ratio, 5),
            epochs: [r.validationPoints[s.index].epoch],
            evidence: ["spike_from": validation[s.index - 1], "spike_to": validation[s.index]],
            explanation:
                "At epoch \(r.validationPoints[s.index].epoch) the validation loss jumped from \(fmt(validation[s.index - 1])) to \(fmt(validation[s.index])) (\(fmt(s.ratio))x) in one epoch."
        )
    }

    /// The validation loss bouncing far from the reference (not small batches: their noise is `noisy`).
    func validationBounce(_ r: Losses, _ t: Thresholds) -> Sign? {
        let validation = r.validation, level = r.level
        let smallBatch = (r.curves.batchSize ?? Int.max) <= t.noisyBatch
        guard !smallBatch, validation.count >= 8, let b = bounce(validation), b.relative > t.bounceRelative,
            b.upward * 3 >= b.moves
        else { return nil }
        let late = Array(validation.suffix(validation.count - validation.count / 2)).filter(\.isFinite)
        let median = CurveMath.median(late)
        var high: Double?
        if let share = level.share(median) {
            high = Finding.above(share, t.bounceShare)
        } else if level.referenceLoss == nil, let constant = r.constant {
            high = Finding.above(median / constant, 0.5)
        } else if level.referenceLoss == nil {
            high = Finding.above(b.relative, 3 * t.bounceRelative)  // nothing to judge the level by: violent only
        }
        guard let high, high > 0 else { return nil }
        return Sign(
            severity: .warning, margin: min(high, Finding.above(b.relative, t.bounceRelative)),
            epochs: [
                r.validationPoints[validation.count - late.count].epoch,
                r.validationPoints[validation.count - 1].epoch
            ],
            evidence: ["mean_relative_move": b.relative, "late_median_validation_loss": median],
            explanation:
                "Over the second half the validation loss moves by \(fmt(100 * b.relative))% from epoch to epoch (up in \(b.upward) of \(b.moves)) around \(fmt(median))\(level.describe(median).isEmpty ? "" : " (\(level.describe(median)))"): the steps are too large to settle into the valley."
        )
    }

    /// (Classification) the training loss bouncing without ever getting below chance.
    func bounceAboveChance(_ r: Losses, _ t: Thresholds) -> Sign? {
        let values = r.values, train = r.train
        guard let chance = r.curves.chanceLoss, values.count >= 4 else { return nil }
        let late = Array(values.suffix(values.count - values.count / 2))
        let jump = CurveMath.mean(zip(late.dropFirst(), late).map { abs($0 - $1) / max(abs($1), 1e-12) })
        guard late.min()! > chance, jump > t.chanceBounce else { return nil }
        return Sign(
            severity: .warning, margin: Finding.above(jump, t.chanceBounce),
            epochs: [train[train.count - late.count].epoch, train[train.count - 1].epoch],
            evidence: ["mean_relative_jump": jump, "lowest_late_loss": late.min()!, "chance_loss": chance],
            explanation:
                "Over the second half the training loss bounces (\(fmt(100 * jump))% from epoch to epoch) and never gets below \(fmt(chance)), the loss of guessing."
        )
    }

    /// A rate far above its optimizer's usual range, on a run stuck or bouncing far from the reference.
    func rateAboveUsualRange(_ r: Losses, _ t: Thresholds) -> Sign? {
        let h = r.curves.hyperparameters, level = r.level, constant = r.constant
        guard let lr = h.learningRate, let usual = Self.usualMaximum(h),
            lr >= t.highRateFactor * usual,
            level.isFar(t) == true
                || (level.referenceLoss == nil
                    && (constant.map { (level.bestValidationLoss ?? 0) >= t.underfitLevel * $0 } ?? false))
        else { return nil }
        let stuck = isFlat(r.trainThird, t)
        let bouncing = (bounce(r.validation)?.relative ?? 0) > t.bounceRelative / 3
        guard stuck || bouncing else { return nil }
        return Sign(
            severity: .warning, margin: Finding.ratioAbove(lr / usual, t.highRateFactor), epochs: [],
            evidence: ["learning_rate": lr, "usual_maximum": usual],
            explanation:
                "The learning rate \(fmt(lr)) (\(h.source ?? "the settings")) is \(fmt(lr / usual))x the top of the usual range for \(h.optimizer ?? "this optimizer") (\(fmt(usual))), and the run is \(stuck ? "stuck" : "bouncing") far above what other runs reach."
        )
    }
}
