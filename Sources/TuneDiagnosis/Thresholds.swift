/// The doctor's thresholds, each a named constant with its default. They were chosen on the labelled corpus of
/// `tools/curves/` (see docs/DOCTOR.md); change them to make a rule more or less eager.
public struct Thresholds: Sendable, Equatable, Codable {
    /// Fewest epochs a trend rule looks at.
    public var minimumEpochs = 5

    // lr_too_low
    /// A straight line explains the training loss at least this well (R^2)...
    public var linearFitR2 = 0.97
    /// ...and the saturating curve explains it at most this much better.
    public var saturatingAdvantage = 0.015
    /// The loss fell by less than this fraction of its way to the fitted floor.
    public var convergedFraction = 0.7

    // lr_too_high
    /// The training loss rose above its first value times this.
    public var explosionFactor = 1.5
    /// Epoch-to-epoch bounces: the mean relative jump of the training loss over the second half above this, with a
    /// third of the jumps upward, while the loss stays above `bounceLevel` of its first value...
    public var bounceRelative = 0.25
    public var bounceLevel = 0.3
    /// ...or (classification) a loss that bounces by more than this and never gets below chance in the second half.
    public var chanceBounce = 0.05

    // noisy
    /// Step losses: the mean absolute residual around a moving median over the second half, relative to the mean
    /// loss there (or a tenth of the mean of the first 5% of steps, whichever is larger).
    public var stepNoiseRelative = 0.41
    /// The standard deviation of the epoch-to-epoch changes of the validation metric (accuracy, AUC) over the last 30%
    /// of at least 10 epochs.
    public var metricNoise = 0.04

    // overfitting
    /// The validation loss rose this fraction above its minimum by the end...
    public var overfitRise = 0.15
    /// ...while the training loss kept falling by this fraction after that minimum.
    public var overfitTrainFall = 0.1

    // underfitting
    /// The final training loss is at least this fraction of the chance loss (or of the first loss)...
    public var underfitLevel = 0.6
    /// ...validation and training losses differ by at most this fraction...
    public var underfitGap = 0.2
    /// ...and the loss moved by at most this fraction over the last third.
    public var flatFraction = 0.03

    // still_improving
    /// Over the last fifth, both losses fell by at least this fraction.
    public var stillImprovingFall = 0.02

    // metric_loss_disagree, val_loss_up_metric_ok
    /// Metric differences below this are ties (0.002 of AUC or accuracy).
    public var metricTolerance = 0.002
    /// The validation loss rose this fraction above its minimum.
    public var validationRise = 0.1

    // bad_init
    /// The first loss is further than this factor from chance (above chance x factor or below chance / factor).
    public var initFactor = 2.0

    // not_learning
    /// The training loss moved by less than this fraction of its level over the whole run.
    public var notLearningRange = 0.01

    // gradients
    /// Gradient norms grew by more than this factor from the first epoch to the last...
    public var gradientExplosion = 10.0
    /// ...or shrank below the first epoch's times this.
    public var gradientVanishing = 1e-3

    public init() {}
}
