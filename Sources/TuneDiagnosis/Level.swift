import Foundation

/// Where a run's validation loss stands: against the constant predictor's loss (below which the network learned
/// anything) and the reference (the lowest validation loss a run on the same data reached). One run alone cannot show
/// what is achievable; without a reference the doctor does not judge the level.
public struct Level: Sendable, Equatable, Codable {
    /// The lowest finite validation loss and its epoch.
    public var bestValidationLoss: Double?
    public var bestEpoch: Int?
    /// The constant predictor's loss (given, or ln C for a classification), and the reference.
    public var baselineLoss: Double?
    public var referenceLoss: Double?
    /// The lowest validation loss over the reference.
    public var ratioToReference: Double?
    /// The share of the way from the reference back to the constant predictor's loss that the lowest validation
    /// loss still has to go: 0 at the reference, 1 at the constant predictor (both losses known).
    public var shortfall: Double?

    public init(_ c: Curves) {
        let validation = points(c.validationLoss).filter { $0.value.isFinite }
        if let best = validation.min(by: { $0.value < $1.value }) {
            bestValidationLoss = best.value
            bestEpoch = best.epoch
        }
        baselineLoss = c.constantLoss
        referenceLoss = c.referenceLoss.flatMap { $0.isFinite ? $0 : nil }
        if let best = bestValidationLoss, let reference = referenceLoss, reference > 0 {
            ratioToReference = best / reference
        }
        if let best = bestValidationLoss { shortfall = share(best) }
    }

    /// The share of the way from the reference back to the constant predictor that a loss `x` has to go (nil unless
    /// both are known and the constant predictor is above the reference).
    public func share(_ x: Double) -> Double? {
        guard let b = baselineLoss, let r = referenceLoss, b > r else { return nil }
        return (x - r) / (b - r)
    }

    /// Whether the lowest validation loss is near the reference (nil without one).
    public func isNear(_ t: Thresholds) -> Bool? {
        guard let ratio = ratioToReference else { return nil }
        return ratio <= t.nearReference || (shortfall.map { $0 <= t.nearShare } ?? false)
    }

    /// Whether the lowest validation loss is far above the reference (nil without one).
    public func isFar(_ t: Thresholds) -> Bool? {
        guard let ratio = ratioToReference else { return nil }
        return ratio >= t.farReference && (shortfall.map { $0 >= t.farShare } ?? true)
    }

    /// How a loss `x` compares, in words: "2.1x the reference 0.081".
    func describe(_ x: Double) -> String {
        var parts: [String] = []
        if let r = referenceLoss, r > 0 { parts.append("\(fmt(x / r))x the reference \(fmt(r))") }
        if let b = baselineLoss, b > 0 { parts.append("\(fmt(100 * x / b))% of the constant predictor's \(fmt(b))") }
        return parts.joined(separator: ", ")
    }
}
