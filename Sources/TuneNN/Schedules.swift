import Foundation

/// A learning rate as a function of the step (counting from 0: step k uses `schedule(k)`), composable.
///
/// Each schedule follows the PyTorch scheduler of the same name, evaluated in closed form; rates are computed in
/// double precision and returned as `Float`.
/// ```swift
/// let schedule = LearningRateSchedule.warmup(steps: 100, then: .cosine(1e-3, steps: 900))
/// ```
public struct LearningRateSchedule: Sendable {
    /// A short description, for logs and reports.
    public let description: String
    private let rate: @Sendable (Int) -> Double

    public init(description: String, _ rate: @escaping @Sendable (Int) -> Double) {
        self.description = description
        self.rate = rate
    }

    /// The learning rate at `step`.
    public func callAsFunction(_ step: Int) -> Float { Float(rate(max(step, 0))) }

    func value(_ step: Int) -> Double { rate(max(step, 0)) }

    /// The same rate at every step.
    public static func constant(_ rate: Double) -> LearningRateSchedule {
        LearningRateSchedule(description: "constant \(rate)") { _ in rate }
    }

    /// `rate * gamma^floor(step / stepSize)` (PyTorch's `StepLR`).
    public static func step(_ rate: Double, stepSize: Int, gamma: Double = 0.1) -> LearningRateSchedule {
        precondition(stepSize > 0, "LearningRateSchedule.step: stepSize must be positive")
        return LearningRateSchedule(description: "step \(rate) x\(gamma) every \(stepSize)") { t in
            rate * Foundation.pow(gamma, Double(t / stepSize))
        }
    }

    /// `rate * gamma^(number of milestones <= step)` (PyTorch's `MultiStepLR`).
    public static func multiStep(_ rate: Double, milestones: [Int], gamma: Double = 0.1) -> LearningRateSchedule {
        let sorted = milestones.sorted()
        return LearningRateSchedule(description: "multi-step \(rate) x\(gamma) at \(sorted)") { t in
            rate * Foundation.pow(gamma, Double(sorted.filter { $0 <= t }.count))
        }
    }

    /// `rate * gamma^step` (PyTorch's `ExponentialLR`).
    public static func exponential(_ rate: Double, gamma: Double) -> LearningRateSchedule {
        LearningRateSchedule(description: "exponential \(rate) x\(gamma)") { t in
            rate * Foundation.pow(gamma, Double(t))
        }
    }

    /// `rate * (1 - min(step, steps) / steps)^power` (PyTorch's `PolynomialLR`): reaches 0 at `steps` and stays.
    public static func polynomial(_ rate: Double, steps: Int, power: Double = 1) -> LearningRateSchedule {
        precondition(steps > 0, "LearningRateSchedule.polynomial: steps must be positive")
        return LearningRateSchedule(description: "polynomial \(rate) over \(steps), power \(power)") { t in
            rate * Foundation.pow(1 - Double(min(t, steps)) / Double(steps), power)
        }
    }

    /// Cosine annealing from `rate` to `minimum` over `steps` (PyTorch's `CosineAnnealingLR`). Like PyTorch's, the
    /// curve is periodic: past `steps` it rises again, reaching `rate` at `2 * steps`.
    public static func cosine(_ rate: Double, steps: Int, minimum: Double = 0) -> LearningRateSchedule {
        precondition(steps > 0, "LearningRateSchedule.cosine: steps must be positive")
        return LearningRateSchedule(description: "cosine \(rate) -> \(minimum) over \(steps)") { t in
            minimum + (rate - minimum) * (1 + Foundation.cos(Double.pi * Double(t) / Double(steps))) / 2
        }
    }

    /// Cosine annealing with warm restarts (SGDR; PyTorch's `CosineAnnealingWarmRestarts`): the first cycle lasts
    /// `period` steps, each next one `periodMultiplier` times longer.
    public static func cosineWithRestarts(_ rate: Double, period: Int, periodMultiplier: Int = 1, minimum: Double = 0)
        -> LearningRateSchedule
    {
        precondition(
            period > 0 && periodMultiplier >= 1,
            "LearningRateSchedule.cosineWithRestarts: period must be positive and the multiplier at least 1")
        return LearningRateSchedule(
            description: "cosine with restarts \(rate) -> \(minimum), period \(period) x\(periodMultiplier)"
        ) { t in
            var position = t, length = period
            while position >= length {
                position -= length
                length *= periodMultiplier
            }
            return minimum + (rate - minimum) * (1 + Foundation.cos(Double.pi * Double(position) / Double(length))) / 2
        }
    }

    /// The one-cycle policy (Smith; PyTorch's `OneCycleLR` with cosine annealing, two phases): from
    /// `maximum / divFactor` up to `maximum` over the first `pctStart` of `totalSteps`, then down to
    /// `maximum / divFactor / finalDivFactor` at the last step. Past `totalSteps` (where PyTorch raises) the final rate
    /// is kept. Momentum is not cycled.
    public static func oneCycle(
        maximum: Double, totalSteps: Int, pctStart: Double = 0.3, divFactor: Double = 25,
        finalDivFactor: Double = 1e4
    ) -> LearningRateSchedule {
        precondition(totalSteps > 1, "LearningRateSchedule.oneCycle: totalSteps must be at least 2")
        precondition(pctStart > 0 && pctStart < 1, "LearningRateSchedule.oneCycle: pctStart must be in (0, 1)")
        let initial = maximum / divFactor, final = initial / finalDivFactor
        let peakStep = pctStart * Double(totalSteps) - 1, lastStep = Double(totalSteps - 1)
        @Sendable func anneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
            end + (start - end) / 2 * (1 + Foundation.cos(Double.pi * pct))
        }
        return LearningRateSchedule(description: "one-cycle max \(maximum) over \(totalSteps)") { t in
            let step = Double(min(t, totalSteps - 1))
            // With pctStart * totalSteps <= 1 there is no rise: the cycle starts at the peak (PyTorch divides by 0).
            if peakStep <= 0 { return anneal(maximum, final, step / lastStep) }
            if step <= peakStep { return anneal(initial, maximum, step / peakStep) }
            return anneal(maximum, final, (step - peakStep) / (lastStep - peakStep))
        }
    }

    /// Linear warmup followed by another schedule (PyTorch's `LinearLR` then the other in `SequentialLR`): for the
    /// first `steps` steps the rate rises linearly from `startFactor` (PyTorch's default 1/3) times the other schedule's first rate to that
    /// rate; after them the other schedule runs from its own step 0.
    public static func warmup(steps: Int, startFactor: Double = 1.0 / 3, then next: LearningRateSchedule)
        -> LearningRateSchedule
    {
        precondition(steps >= 0, "LearningRateSchedule.warmup: steps must not be negative")
        let peak = next.value(0)
        return LearningRateSchedule(description: "warmup \(steps) then \(next.description)") { t in
            if t < steps { return peak * (startFactor + (1 - startFactor) * Double(t) / Double(steps)) }
            return next.value(t - steps)
        }
    }

    /// Schedules one after the other: `schedules[i]` runs from `boundaries[i-1]` (0 for the first) with its own step
    /// counted from there (optax's `join_schedules`).
    public static func join(_ schedules: [LearningRateSchedule], boundaries: [Int]) -> LearningRateSchedule {
        precondition(
            !schedules.isEmpty && boundaries.count == schedules.count - 1,
            "LearningRateSchedule.join: \(schedules.count) schedules need \(schedules.count - 1) boundaries")
        precondition(boundaries == boundaries.sorted(), "LearningRateSchedule.join: boundaries must be increasing")
        return LearningRateSchedule(description: "join(" + schedules.map(\.description).joined(separator: "; ") + ")") {
            t in
            var start = 0
            for (i, boundary) in boundaries.enumerated() {
                if t < boundary { return schedules[i].value(t - start) }
                start = boundary
            }
            return schedules[schedules.count - 1].value(t - start)
        }
    }
}
