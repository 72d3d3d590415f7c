import Testing
import TuneNN
import TuneTensor

@Suite("Learning-rate schedules match PyTorch")
struct ScheduleParityTests {
    static let fixture = Fixture.load("schedules.json")

    func schedule(_ c: JSONValue) -> LearningRateSchedule {
        switch c["name"].string {
        case "step": return .step(c["lr"].double, stepSize: c["step_size"].int, gamma: c["gamma"].double)
        case "multi_step":
            return .multiStep(c["lr"].double, milestones: c["milestones"].array.map(\.int), gamma: c["gamma"].double)
        case "exponential": return .exponential(c["lr"].double, gamma: c["gamma"].double)
        case "polynomial": return .polynomial(c["lr"].double, steps: c["total"].int, power: c["power"].double)
        case "cosine": return .cosine(c["lr"].double, steps: c["t_max"].int, minimum: c["eta_min"].double)
        case "cosine_restarts", "cosine_restarts_mult1":
            return .cosineWithRestarts(
                c["lr"].double, period: c["t_0"].int, periodMultiplier: c["t_mult"].int, minimum: c["eta_min"].double)
        case "one_cycle": return .oneCycle(maximum: c["max_lr"].double, totalSteps: c["total"].int)
        case "one_cycle_pct":
            return .oneCycle(
                maximum: c["max_lr"].double, totalSteps: c["total"].int, pctStart: c["pct_start"].double,
                divFactor: c["div_factor"].double, finalDivFactor: c["final_div_factor"].double)
        case "warmup_cosine":
            return .warmup(
                steps: c["warmup"].int, startFactor: c["start_factor"].double,
                then: .cosine(c["lr"].double, steps: c["t_max"].int, minimum: c["eta_min"].double))
        default: fatalError("no schedule for \(c["name"].string)")
        }
    }

    @Test(arguments: fixture["cases"].array.map { $0["name"].string })
    func valuesAtEveryStep(_ name: String) {
        let c = Self.fixture["cases"].array.first { $0["name"].string == name }!
        let s = schedule(c)
        let expected = c["values"].floats
        let actual = (0..<expected.count).map { s($0) }
        expectClose(Tensor(actual), Tensor(expected), "\(name) over steps 0..<\(expected.count)")
    }

    @Test func oneCycleHoldsItsFinalRateBeyondTheEnd() {
        let s = LearningRateSchedule.oneCycle(maximum: 0.1, totalSteps: 20)
        // Final rate: 0.1 / 25 / 1e4, by hand.
        #expect(abs(s(19) - 4e-7) < 1e-12)
        #expect(s(25) == s(19))
    }

    @Test func joinCountsEachScheduleFromItsBoundary() {
        let s = LearningRateSchedule.join(
            [.constant(1), .exponential(0.5, gamma: 0.5), .constant(0.01)], boundaries: [2, 4])
        #expect((0..<6).map { s($0) } == [1, 1, 0.5, 0.25, 0.01, 0.01])
    }

    @Test(arguments: 0..<3)
    func reduceOnPlateau(_ index: Int) {
        let c = Self.fixture["plateau"].array[index]
        let o = c["options"]
        var rule = ReduceOnPlateau(
            mode: o["mode"].string == "min" ? .min : .max, factor: o["factor"].double,
            patience: o["patience"].int, threshold: o["threshold"].double,
            thresholdMode: o["threshold_mode"].string == "rel" ? .relative : .absolute,
            cooldown: o["cooldown"].int, minimumRate: o["min_lr"].double)
        var rate = 0.1
        var rates: [Float] = []
        for m in c["metrics"].array.map(\.double) {
            rate = rule.step(m, learningRate: rate)
            rates.append(Float(rate))
        }
        expectClose(Tensor(rates), Tensor(c["learning_rates"].floats), "reduce-on-plateau case \(index)")
    }
}
