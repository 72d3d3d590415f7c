import Foundation

/// What a study may spend: a number of trials, of training epochs (every epoch of every trial, pruned ones included),
/// or of minutes. The recipe shares it among its search stages (1 to 4; the seed ensemble comes on top, as `members`
/// more runs); a classic search spends it whole.
public struct Budget: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Unit: String, Codable, Sendable { case trials, epochs, minutes }
    public var amount: Double
    public var unit: Unit

    public init(amount: Double, unit: Unit) {
        self.amount = amount
        self.unit = unit
    }

    /// Parses "40" or "40trials", "600epochs" (or "600e"), "10minutes" (or "10min", "10m"); trials are whole.
    public init?(_ text: String) {
        let t = text.lowercased().trimmingCharacters(in: .whitespaces)
        let digits = t.prefix { $0.isNumber || $0 == "." }
        guard let amount = Double(digits), amount > 0, amount.isFinite else { return nil }
        switch t.dropFirst(digits.count).trimmingCharacters(in: .whitespaces) {
        case "", "t", "trial", "trials": unit = .trials
        case "e", "epoch", "epochs": unit = .epochs
        case "m", "min", "mins", "minute", "minutes": unit = .minutes
        default: return nil
        }
        if unit == .trials && amount != amount.rounded() { return nil }
        self.amount = amount
    }

    /// Whether `share` of the budget is spent by what was spent so far: trials (those started, and those about to
    /// be), training epochs, or seconds of wall-clock time. A share of the trials is rounded to whole trials.
    public func isSpent(share: Double = 1, trials: Int, epochs: Int, seconds: Double) -> Bool {
        let allowed = share * amount
        switch unit {
        case .trials: return Double(trials) >= allowed.rounded()
        case .epochs: return Double(epochs) >= allowed
        case .minutes: return seconds / 60 >= allowed
        }
    }

    public var description: String {
        let n = amount == amount.rounded() ? String(Int(amount)) : String(amount)
        return "\(n) \(unit.rawValue)"
    }

    /// The share of the budget each search stage may use, cumulatively (what a stage leaves passes to the next):
    /// learning rate and epochs 40%, batch size 20%, decay 15%, regularisation and architecture 25%. What the last
    /// stage's planned moves leave goes to a local search around the best configuration.
    public static let stageShares: [Double] = [0.40, 0.20, 0.15, 0.25]
}

/// The recipe's name for a budget, from before the classic searches shared it.
public typealias RecipeBudget = Budget
