import Foundation

/// The doctor's thresholds, each a named constant with its default. `tools/curves/` scores the doctor on a labelled
/// corpus of real runs with the thresholds tuned on some datasets and scored on the others (see docs/DOCTOR.md);
/// change them (`tune doctor --thresholds FILE`, a JSON object of the names below) to make a rule more or less eager.
public struct Thresholds: Sendable, Equatable, Codable {
    /// Fewest epochs a trend rule looks at.
    public var minimumEpochs = 5

    // Levels: a run's lowest validation loss against the reference (the best run's) and the constant predictor's.
    /// At most this times the reference, or...
    public var nearReference = 1.1
    /// ...at most this share of the way from the reference back to the constant predictor's loss: near the reference.
    public var nearShare = 0.02
    /// At least this times the reference and...
    public var farReference = 1.5
    /// ...at least this share of the way back to the constant predictor (when its loss is known): far from it.
    public var farShare = 0.05

    // lr_too_low
    /// A straight line explains the training loss at least this well (R^2)...
    public var linearFitR2 = 0.97
    /// ...and the saturating curve explains it at most this much better...
    public var saturatingAdvantage = 0.015
    /// ...and the loss fell by less than this fraction of its way to the fitted floor. Or, where the reference is
    /// known: the fall per epoch over the last third is at least `noBend` of that over the first third...
    public var convergedFraction = 0.7
    public var noBend = 0.5
    /// ...while the final validation loss is still at least this share of the way from the reference back to the
    /// constant predictor (without a reference: at least `slowConstant` of the constant predictor's loss).
    public var slowShare = 0.25
    public var slowConstant = 0.5

    // lr_too_high
    /// The training loss rose above its lowest earlier value times this...
    public var explosionFactor = 1.5
    /// ...undoing at least this fraction of its fall from the first epoch.
    public var explosionUndo = 0.2
    /// Step losses (averaged over 32 rows' worth of steps) rose above this times the first steps' (or the constant
    /// predictor's) loss: a blow-up.
    public var blowupFactor = 10.0
    /// The first epoch's mean training loss above this times the constant predictor's: a blow-up in the first epoch
    /// (a learning-rate problem when death or bouncing follows; it says nothing about the initialisation).
    public var firstEpochBlowup = 3.0
    /// Dead: the last third's losses within this fraction of the constant predictor's.
    public var deadBand = 0.05
    /// Epoch-to-epoch bounces of the validation loss: a mean relative move over the second half above this, with a
    /// third of the moves upward, while the level stays high (at least `bounceShare` of the way from the reference
    /// back to the constant predictor, or half the constant predictor's loss when no reference is known).
    public var bounceRelative = 0.15
    public var bounceShare = 0.2
    /// (Classification) a training loss that bounces by more than this and never gets below chance in the second half.
    public var chanceBounce = 0.05
    /// A rate at least this times the top of its optimizer's usual range (Adam 1e-2, SGD with momentum 0.1, plain SGD
    /// 1), on a run stuck or bouncing far from the reference.
    public var highRateFactor = 5.0

    // noisy
    /// A batch of at most this many rows makes each step's gradient a noisy estimate.
    public var noisyBatch = 4
    /// Step losses: the mean absolute residual around a moving median over the second half, relative to the mean
    /// loss there (or a tenth of the mean of the first 5% of steps, whichever is larger).
    public var stepNoiseRelative = 0.5
    /// The standard deviation of the epoch-to-epoch changes of the validation metric (accuracy, AUC) over the last 30%
    /// of at least 10 epochs.
    public var metricNoise = 0.06

    // overfitting
    /// The validation loss rose this fraction above its minimum by the end...
    public var overfitRise = 0.2
    /// ...while the training loss kept falling by this fraction after that minimum. Or a wide gap: the final
    /// validation loss at least `gapRatio` times the training loss, while at least `gapShare` of the way from the
    /// reference back to the constant predictor (or `gapShare` of the constant predictor's loss without a reference).
    public var overfitTrainFall = 0.1
    public var gapRatio = 2.0
    public var gapShare = 0.25

    // underfitting
    /// The final training loss is at least this fraction of the chance loss (without a reference)...
    public var underfitLevel = 0.6
    /// ...the final training loss is at least this fraction of the final validation loss...
    public var underfitClose = 0.75
    /// ...and the loss moved by at most this fraction over the last third.
    public var flatFraction = 0.05

    // still_improving
    /// Over the last fifth, both losses fell by at least this fraction.
    public var stillImprovingFall = 0.02

    // metric_loss_disagree, val_loss_up_metric_ok
    /// A metric better by more than this at another epoch than at the lowest-loss epoch disagrees with the loss.
    public var metricTolerance = 0.005
    /// The validation loss rose this fraction above its minimum while the metric held (fell by at most `metricHold`).
    public var validationRise = 0.1
    public var metricHold = 0.002

    // bad_init
    /// The first step's loss is further than this factor from chance (above chance x factor or below chance / factor).
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

    /// The defaults with the values of a JSON object (any subset of the names above) in their place; an unknown
    /// name or a value of the wrong kind is an error naming it.
    public static func overriding(_ json: Data) throws -> Thresholds {
        enum Value: Decodable {
            case number(Double), other
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                self = (try? c.decode(Double.self)).map { .number($0) } ?? .other
            }
        }
        let given: [String: Value]
        do { given = try JSONDecoder().decode([String: Value].self, from: json) } catch {
            throw ThresholdError(message: "expected a JSON object of threshold names and numbers")
        }
        var merged = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Thresholds())) as! [String: Any]
        for (name, value) in given.sorted(by: { $0.key < $1.key }) {
            guard merged[name] != nil else {
                throw ThresholdError(
                    message:
                        "unknown threshold '\(name)'; the thresholds are: \(merged.keys.sorted().joined(separator: ", "))"
                )
            }
            guard case .number(let number) = value, number.isFinite else {
                throw ThresholdError(message: "threshold '\(name)': expected a number")
            }
            if wholeNumbers.contains(name) {
                guard number == number.rounded(), abs(number) < 1e9 else {
                    throw ThresholdError(message: "threshold '\(name)': expected a whole number, got \(number)")
                }
                merged[name] = Int(number)
            } else {
                merged[name] = number
            }
        }
        return try JSONDecoder().decode(Thresholds.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    /// The names of the thresholds that are whole numbers.
    static let wholeNumbers = Set(
        Mirror(reflecting: Thresholds()).children.compactMap { $0.value is Int ? $0.label : nil })
}

/// A thresholds file that cannot be used.
public struct ThresholdError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
