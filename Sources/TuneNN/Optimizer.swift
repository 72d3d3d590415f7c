import CTuneKernels
import Foundation
import TuneTensor

/// An update rule: how one parameter moves given its gradient and its own state. The rule holds hyperparameters
/// only; the ``Optimizer`` owns the state of every parameter (as in optax and Optimisers.jl).
public protocol OptimizerRule: Sendable {
    associatedtype State
    /// The state of a parameter with `count` elements before its first step.
    func initialState(count: Int) -> State
    /// Moves `parameter` in place. `step` counts from 1; `learningRate` is the rate for this step.
    func update(
        _ parameter: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>, state: inout State,
        learningRate: Float, step: Int)
}

/// Gradient clipping applied before every step.
public enum GradientClipping: Sendable, Equatable, Codable {
    /// Scales all gradients by max / (norm + 1e-6) when their global L2 norm exceeds `max` (PyTorch's
    /// `clip_grad_norm_`).
    case norm(Float)
    /// Clamps every gradient element to [-max, max] (PyTorch's `clip_grad_value_`).
    case value(Float)
}

/// Drives a rule over a list of parameters: keeps their states, applies the learning-rate schedule and clipping,
/// and records the global gradient norm of each step.
public final class Optimizer<Rule: OptimizerRule> {
    public let parameters: [Parameter]
    public var rule: Rule
    /// The learning rate at each step (the k-th step, counting from 0, uses `schedule(k)`).
    public var schedule: LearningRateSchedule
    /// A factor on the schedule's rate, which reduce-on-plateau lowers.
    public var learningRateScale: Float = 1
    public var clipping: GradientClipping?
    /// The number of steps taken.
    public private(set) var stepCount = 0
    /// The global L2 norm of the gradients of the last step, before clipping.
    public private(set) var lastGradientNorm: Float = 0
    private var states: [Rule.State]

    public init(
        _ parameters: [Parameter], rule: Rule, schedule: LearningRateSchedule, clipping: GradientClipping? = nil
    ) {
        self.parameters = parameters
        self.rule = rule
        self.schedule = schedule
        self.clipping = clipping
        states = parameters.map { rule.initialState(count: $0.value.count) }
    }

    /// An optimizer for every parameter of `module`.
    public convenience init(
        for module: Module, rule: Rule, schedule: LearningRateSchedule, clipping: GradientClipping? = nil
    ) {
        self.init(module.parameters(), rule: rule, schedule: schedule, clipping: clipping)
    }

    /// An optimizer with a constant learning rate.
    public convenience init(for module: Module, rule: Rule, learningRate: Float, clipping: GradientClipping? = nil) {
        self.init(module.parameters(), rule: rule, schedule: .constant(Double(learningRate)), clipping: clipping)
    }

    /// The learning rate the next step will use.
    public var learningRate: Float { schedule(stepCount) * learningRateScale }

    /// The global L2 norm of `gradients` (squares summed in a fixed order, totals in double precision).
    public static func globalNorm(_ gradients: [Tensor]) -> Float {
        var total = 0.0
        for g in gradients {
            total += g.withUnsafeBufferPointer { tune_sum_squares($0.baseAddress, $0.count) }
        }
        return Float(total.squareRoot())
    }

    /// The value of `body` (a scalar loss) and the gradients of this optimizer's parameters, in their order; the same
    /// as the module's `valueAndGradients` without finding the parameters again.
    public func valueAndGradients(_ body: () throws -> Tensor) rethrows -> (value: Tensor, gradients: [Tensor]) {
        try TuneNN.valueAndGradients(of: parameters, body)
    }

    /// Applies one step with `gradients`, in the order of `parameters`.
    public func step(_ gradients: [Tensor]) {
        precondition(
            gradients.count == parameters.count,
            "Optimizer.step: \(gradients.count) gradients for \(parameters.count) parameters")
        var grads = gradients
        lastGradientNorm = Optimizer.globalNorm(grads)
        switch clipping {
        case .norm(let maxNorm)?:
            let coefficient = maxNorm / (lastGradientNorm + 1e-6)
            if coefficient < 1 {
                for i in grads.indices {
                    grads[i].withUnsafeMutableBufferPointer { b in for j in b.indices { b[j] *= coefficient } }
                }
            }
        case .value(let limit)?:
            for i in grads.indices {
                grads[i].withUnsafeMutableBufferPointer { b in
                    for j in b.indices { b[j] = min(max(b[j], -limit), limit) }
                }
            }
        case nil:
            break
        }
        let rate = learningRate
        stepCount += 1
        for (i, p) in parameters.enumerated() {
            precondition(
                grads[i].shape == p.value.shape,
                "Optimizer.step: gradient \(grads[i].shape) for parameter \(p.value.shape)")
            var value = p.value.detached()
            p.value = Tensor(0)  // drop the module's reference so that the update happens in place
            value.withUnsafeMutableBufferPointer { pb in
                grads[i].withUnsafeBufferPointer { gb in
                    rule.update(pb, gradient: gb, state: &states[i], learningRate: rate, step: stepCount)
                }
            }
            p.value = value
        }
    }
}

// MARK: - Rules

/// Stochastic gradient descent with PyTorch's momentum, dampening, Nesterov and (L2) weight decay.
public struct SGD: OptimizerRule {
    public var momentum: Float
    public var dampening: Float
    public var nesterov: Bool
    public var weightDecay: Float

    public init(momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(
            !nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and no dampening")
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    /// The momentum buffer, created from the first gradient.
    public struct State { var buffer: [Float]? }

    public func initialState(count: Int) -> State { State(buffer: nil) }

    public func update(
        _ p: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>, state: inout State,
        learningRate lr: Float, step: Int
    ) {
        if momentum == 0 {
            for i in p.indices { p[i] -= lr * (gradient[i] + weightDecay * p[i]) }
            return
        }
        let first = state.buffer == nil
        if first { state.buffer = [Float](repeating: 0, count: p.count) }
        state.buffer!.withUnsafeMutableBufferPointer { buf in
            for i in p.indices {
                let g = gradient[i] + weightDecay * p[i]
                buf[i] = first ? g : momentum * buf[i] + (1 - dampening) * g
                p[i] -= lr * (nesterov ? g + momentum * buf[i] : buf[i])
            }
        }
    }
}

/// Adam (Kingma and Ba), with optional AMSGrad and L2 weight decay added to the gradient (PyTorch's `Adam`).
public struct Adam: OptimizerRule {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var amsgrad: Bool
    /// Decoupled weight decay (AdamW) instead of L2 added to the gradient.
    public var decoupledWeightDecay: Bool

    public init(
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0, amsgrad: Bool = false
    ) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        decoupledWeightDecay = false
    }

    /// AdamW (Loshchilov and Hutter): Adam with weight decay applied to the parameter, `p -= lr * wd * p`, before the
    /// Adam step (PyTorch's `AdamW`, default weight decay 0.01).
    public static func adamW(
        beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01,
        amsgrad: Bool = false
    ) -> Adam {
        var rule = Adam(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, amsgrad: amsgrad)
        rule.decoupledWeightDecay = true
        return rule
    }

    /// First and second moment estimates, and the running maximum of the second for AMSGrad.
    public struct State { var m: [Float]; var v: [Float]; var vMax: [Float] }

    public func initialState(count: Int) -> State {
        State(
            m: [Float](repeating: 0, count: count), v: [Float](repeating: 0, count: count),
            vMax: amsgrad ? [Float](repeating: 0, count: count) : [])
    }

    public func update(
        _ p: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>, state: inout State,
        learningRate lr: Float, step: Int
    ) {
        let t = Double(step)
        let correction1 = 1 - Foundation.pow(Double(beta1), t)
        let correction2Root = Float((1 - Foundation.pow(Double(beta2), t)).squareRoot())
        let stepSize = Float(Double(lr) / correction1)
        let l2 = decoupledWeightDecay ? 0 : weightDecay
        let decay = decoupledWeightDecay ? 1 - lr * weightDecay : 1
        let b2 = beta2, eps = epsilon, oneMinusB1 = 1 - beta1, ams = amsgrad
        state.m.withUnsafeMutableBufferPointer { m in
            state.v.withUnsafeMutableBufferPointer { v in
                state.vMax.withUnsafeMutableBufferPointer { vMax in
                    let pp = p.baseAddress!, gp = gradient.baseAddress!, mp = m.baseAddress!, vp = v.baseAddress!
                    let vm = ams ? vMax.baseAddress : nil
                    Parallel.forEachChunk(of: p.count) { range in
                        tune_adam_update(
                            pp + range.lowerBound, gp + range.lowerBound, mp + range.lowerBound, vp + range.lowerBound,
                            vm.map { $0 + range.lowerBound }, range.count, stepSize, oneMinusB1, b2, 1 - b2, eps,
                            correction2Root, l2, decay)
                    }
                }
            }
        }
    }
}

/// RMSprop with PyTorch's options: smoothing `alpha`, `epsilon` added after the root, L2 weight decay, momentum and
/// the centered variant.
public struct RMSprop: OptimizerRule {
    public var alpha: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var momentum: Float
    public var centered: Bool

    public init(
        alpha: Float = 0.99, epsilon: Float = 1e-8, weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false
    ) {
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
    }

    public struct State { var square: [Float]; var mean: [Float]; var buffer: [Float] }

    public func initialState(count: Int) -> State {
        State(
            square: [Float](repeating: 0, count: count), mean: [Float](repeating: 0, count: count),
            buffer: [Float](repeating: 0, count: count))
    }

    public func update(
        _ p: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>, state: inout State,
        learningRate lr: Float, step: Int
    ) {
        for i in p.indices {
            let g = gradient[i] + weightDecay * p[i]
            state.square[i] = alpha * state.square[i] + (1 - alpha) * g * g
            var average: Float
            if centered {
                state.mean[i] += (1 - alpha) * (g - state.mean[i])
                average = (state.square[i] - state.mean[i] * state.mean[i]).squareRoot()
            } else {
                average = state.square[i].squareRoot()
            }
            average += epsilon
            if momentum > 0 {
                state.buffer[i] = momentum * state.buffer[i] + g / average
                p[i] -= lr * state.buffer[i]
            } else {
                p[i] -= lr * (g / average)
            }
        }
    }
}

/// Adagrad with PyTorch's options: learning-rate decay, L2 weight decay, initial accumulator value, epsilon.
public struct Adagrad: OptimizerRule {
    public var learningRateDecay: Float
    public var weightDecay: Float
    public var initialAccumulatorValue: Float
    public var epsilon: Float

    public init(
        learningRateDecay: Float = 0, weightDecay: Float = 0, initialAccumulatorValue: Float = 0, epsilon: Float = 1e-10
    ) {
        self.learningRateDecay = learningRateDecay
        self.weightDecay = weightDecay
        self.initialAccumulatorValue = initialAccumulatorValue
        self.epsilon = epsilon
    }

    public struct State { var sum: [Float] }

    public func initialState(count: Int) -> State {
        State(sum: [Float](repeating: initialAccumulatorValue, count: count))
    }

    public func update(
        _ p: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>, state: inout State,
        learningRate lr: Float, step: Int
    ) {
        let clr = lr / (1 + Float(step - 1) * learningRateDecay)
        for i in p.indices {
            let g = gradient[i] + weightDecay * p[i]
            state.sum[i] += g * g
            p[i] -= clr * (g / (state.sum[i].squareRoot() + epsilon))
        }
    }
}

/// An optimizer whose rule is chosen at run time (the training loop's view of ``Optimizer``).
public protocol TrainingOptimizer: AnyObject {
    var parameters: [Parameter] { get }
    /// The learning rate the next step will use.
    var learningRate: Float { get }
    /// A factor on the schedule's rate, which reduce-on-plateau lowers.
    var learningRateScale: Float { get set }
    /// The global gradient norm of the last step, before clipping.
    var lastGradientNorm: Float { get }
    func step(_ gradients: [Tensor])
    func valueAndGradients(_ body: () throws -> Tensor) rethrows -> (value: Tensor, gradients: [Tensor])
}

extension Optimizer: TrainingOptimizer {}
