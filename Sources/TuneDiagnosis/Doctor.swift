/// Reads curves and reports findings, most severe first, ending with a verdict when nothing is wrong: `healthy` only
/// when the level was judged against a reference and nothing else holds, otherwise `no_problem_visible` with what is
/// missing to judge the level.
public struct Doctor: Sendable {
    public var thresholds: Thresholds
    public var rules: [any DiagnosisRule]

    public init(thresholds: Thresholds = Thresholds()) {
        self.thresholds = thresholds
        rules = [
            LearningRateTooHigh(), NotLearning(), BadInitialization(), Overfitting(), Underfitting(),
            LearningRateTooLow(),
            Noisy(), Gradients(), StillImproving(), MetricLossDisagree(), ValidationLossUpMetricOK()
        ]
    }

    /// Every finding of every rule, most severe first (in rule order within a severity), then the verdict.
    public func diagnose(_ curves: Curves) -> [Finding] {
        let t = thresholds
        var findings = rules.compactMap { $0.examine(curves, t) }
        // Findings that another makes moot: a loss that does not move is not "too slow"; steps too small or too large
        // are the first thing to change, before the number of epochs or the capacity.
        let ids = Set(findings.map(\.id))
        var moot = Set<FindingID>()
        if ids.contains(.notLearning) { moot.formUnion([.lrTooLow, .underfitting]) }
        if ids.contains(.lrTooHigh) { moot.formUnion([.lrTooLow, .stillImproving, .underfitting]) }
        if ids.contains(.lrTooLow) { moot.formUnion([.stillImproving, .underfitting]) }
        findings.removeAll { moot.contains($0.id) }
        // When the losses bounce from epoch to epoch, a validation loss above its (lucky) minimum is the bouncing, not
        // memorising: the rising form of overfitting is dropped, the wide gap is kept.
        if findings.contains(where: { $0.id == .lrTooHigh && $0.evidence["mean_relative_move"] != nil }) {
            findings.removeAll { $0.id == .overfitting && $0.evidence["gap_at_best"] != nil }
        }
        // A diverged run's other findings are noise.
        if let critical = findings.first(where: { $0.id == .lrTooHigh && $0.severity == .critical }),
            critical.evidence["first_non_finite_epoch"] != nil || critical.evidence["first_non_finite_step"] != nil
        {
            findings = [critical]
        }
        let trainPoints = points(curves.trainLoss).filter { $0.value.isFinite }
        let validationPoints = points(curves.validationLoss).filter { $0.value.isFinite }
        let logged = max(trainPoints.count, validationPoints.count)
        if findings.isEmpty && logged < t.minimumEpochs {
            findings.append(
                Finding(
                    id: FindingID.tooFewEpochs, severity: .info, epochs: [],
                    evidence: ["epochs": Double(logged)],
                    explanation: "Only \(logged) epochs were logged: too few to judge the shape of the curves.",
                    nextStep: "Train at least \(t.minimumEpochs) epochs (with validation every epoch) and ask again."))
        } else if findings.allSatisfy({ $0.severity == .info && $0.id != .stillImproving }),
            let lastTrain = trainPoints.last, let lastValidation = validationPoints.last
        {
            findings += verdict(curves, lastTrain: lastTrain, lastValidation: lastValidation)
        }
        return findings.enumerated().sorted { a, b in
            a.element.severity != b.element.severity ? a.element.severity > b.element.severity : a.offset < b.offset
        }.map(\.element)
    }

    /// The change of the training loss over the last third when training and validation losses end close together
    /// (training at least `underfitClose` of validation) and the training loss is flat (moved by at most
    /// `flatFraction` over the last third); nil otherwise. What a network too small for its data looks like, and what
    /// one as good as its data allow looks like too: only a reference tells them apart.
    public static func closeAndFlat(_ c: Curves, _ t: Thresholds) -> Double? {
        let train = points(c.trainLoss).map(\.value).filter(\.isFinite)
        guard let lastTrain = train.last,
            let lastValidation = points(c.validationLoss).map(\.value).filter(\.isFinite).last,
            lastValidation > 0, train.count >= 2
        else { return nil }
        let third = Array(train.suffix(max(train.count / 3, 2)))
        let movement = abs(third[0] - third[third.count - 1]) / max(abs(lastTrain), 1e-12)
        return lastTrain / lastValidation >= t.underfitClose && movement <= t.flatFraction ? movement : nil
    }

    /// `healthy` when the level is near the reference; otherwise `no_problem_visible`, saying what is missing to judge
    /// the level, with the hypothesis of underfitting when the gap is small and the curves flat.
    func verdict(_ c: Curves, lastTrain: (epoch: Int, value: Double), lastValidation: (epoch: Int, value: Double))
        -> [Finding]
    {
        let t = thresholds
        let level = Level(c)
        let gap = (lastValidation.value - lastTrain.value) / max(abs(lastTrain.value), 1e-12)
        let epoch = max(lastTrain.epoch, lastValidation.epoch)
        var evidence = [
            "final_train_loss": lastTrain.value, "final_validation_loss": lastValidation.value, "relative_gap": gap
        ]
        if let best = level.bestValidationLoss { evidence["best_validation_loss"] = best }
        if let b = level.baselineLoss { evidence["constant_predictor_loss"] = b }
        if let r = level.referenceLoss { evidence["reference_loss"] = r }
        if let ratio = level.ratioToReference { evidence["ratio_to_reference"] = ratio }
        if let share = level.shortfall { evidence["shortfall"] = share }
        let next =
            "Tune the next thing in order: batch size (start near sqrt(N)), then the decay (weight decay, schedule), then the architecture; or build a seed ensemble."
        if level.isNear(t) == true, let best = level.bestValidationLoss, let reference = level.referenceLoss {
            return [
                Finding(
                    id: FindingID.healthy, severity: .info, epochs: [epoch], evidence: evidence,
                    explanation:
                        "The losses fell and levelled off (training \(fmt(lastTrain.value)), validation \(fmt(lastValidation.value))) with no sign of divergence, noise, over- or underfitting, and the lowest validation loss \(fmt(best)) is \(fmt(best / reference))x the reference \(fmt(reference))\(c.referenceSource.map { " (\($0))" } ?? "").",
                    nextStep: next)
            ]
        }
        var out: [Finding] = []
        let missing: String
        if let best = level.bestValidationLoss, let ratio = level.ratioToReference {
            missing =
                "Its lowest validation loss \(fmt(best)) is \(fmt(ratio))x the reference \(fmt(level.referenceLoss!))\(c.referenceSource.map { " (\($0))" } ?? ""), though: compare the settings with the reference run's."
        } else {
            let constant =
                level.baselineLoss.map {
                    " The lowest validation loss is \(fmt(100 * (level.bestValidationLoss ?? .nan) / $0))% of the constant predictor's \(fmt($0))."
                } ?? ""
            missing =
                "Whether the level is good cannot be told from one run:\(constant) To judge it, give a reference: tune doctor on a directory of several runs of the same data (Lightning version_* folders, TensorBoard runs, a swift-tune study), or --reference-loss X (the lowest validation loss you have reached), and --data FILE --target COL (or --baseline-loss X) for the constant predictor's loss."
            // A small gap with flat curves: the seed's hypothesis.
            if let hypothesis = possibleUnderfitting(
                c, lastTrain: lastTrain.value, lastValidation: lastValidation.value, epoch: epoch)
            {
                out.append(hypothesis)
            }
        }
        out.insert(
            Finding(
                id: FindingID.noProblemVisible, severity: .info, epochs: [epoch], evidence: evidence,
                explanation:
                    "No problem is visible in the curves' shape (training \(fmt(lastTrain.value)), validation \(fmt(lastValidation.value))). \(missing)",
                nextStep: next), at: 0)
        return out
    }

    /// The hypothesis of underfitting when the training and validation losses end close together and flat (see
    /// ``closeAndFlat(_:_:)``); nil otherwise.
    func possibleUnderfitting(_ c: Curves, lastTrain: Double, lastValidation: Double, epoch: Int) -> Finding? {
        guard let movement = Self.closeAndFlat(c, thresholds) else { return nil }
        return Finding(
            id: FindingID.possibleUnderfitting, severity: .info, confidence: 0.5, hypothesis: true,
            epochs: [epoch],
            evidence: [
                "final_train_loss": lastTrain, "final_validation_loss": lastValidation,
                "last_third_change": movement
            ],
            explanation:
                "Hypothesis: training and validation losses are close (\(fmt(lastTrain)), \(fmt(lastValidation))) and flat, which is what a network too small for the data looks like; without a reference it may as well be as good as the data allow.",
            nextStep:
                "Try a larger model (twice the width, or one more layer) and compare the validation loss; if it does not improve, the data set the limit."
        )
    }
}
