#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Foundation

/// Where a tensor sits on a gradient tape: the tape's identity and the node that produced it.
struct Tracking: Sendable {
    var tape: UInt32
    var node: Int32
    static let none = Tracking(tape: 0, node: -1)
    @inline(__always) var isTracked: Bool { tape != 0 }
}

/// A record of the operations applied to watched tensors, swept in reverse to compute gradients.
///
/// Nodes are appended in the order operations run, which is already a topological order, so the reverse sweep is a
/// single backwards pass over the array. Each node keeps its parents and a pullback closure that maps the gradient of
/// its output to the gradients of its inputs; the pullbacks are written next to their primitive operations.
///
/// ```swift
/// let tape = GradientTape()
/// let (loss, grads) = tape.record {
///     let w = tape.watch(weights)
///     let loss = (x.matmul(w) - y).squared().mean()
///     return (loss, tape.gradient(of: loss, withRespectTo: [w]))
/// }
/// ```
/// Operations record onto the innermost tape that is recording on the current thread; tensors tracked by an outer
/// tape are constants inside an inner one.
public final class GradientTape {
    struct Node {
        var a: Int32
        var b: Int32
        var pullback: ((Tensor) -> (Tensor?, Tensor?))?
        var parents: [Int32]?
        var pullbackN: ((Tensor) -> [Tensor?])?
    }

    let id: UInt32
    var nodes: [Node] = []

    public init() {
        id = TapeIdentity.next()
        nodes.reserveCapacity(64)
    }

    /// The number of recorded nodes (watched inputs included).
    public var nodeCount: Int { nodes.count }

    /// Returns `tensor` marked as an input of this tape; gradients can be asked for it.
    public func watch(_ tensor: Tensor) -> Tensor {
        var t = tensor
        t.tracking = Tracking(tape: id, node: Int32(nodes.count))
        nodes.append(Node(a: -1, b: -1, pullback: nil, parents: nil, pullbackN: nil))
        return t
    }

    /// Runs `body` with this tape recording on the current thread.
    public func record<R>(_ body: () throws -> R) rethrows -> R {
        let context = AutodiffContext.current
        context.tapes.append(self)
        defer { context.tapes.removeLast() }
        return try body()
    }

    /// The gradients of `output` with respect to each of `inputs`, which must have been watched by this tape.
    ///
    /// `output` must be a scalar unless `seed` (the gradient flowing into `output`, of its shape) is given. An input
    /// the output does not depend on gets a zero gradient.
    public func gradient(of output: Tensor, withRespectTo inputs: [Tensor], seed: Tensor? = nil) -> [Tensor] {
        for x in inputs {
            precondition(x.tracking.tape == id, "GradientTape.gradient: an input was not watched by this tape")
        }
        let start: Tensor
        if let seed {
            precondition(
                seed.shape == output.shape,
                "GradientTape.gradient: seed shape \(seed.shape) differs from output shape \(output.shape)")
            start = seed
        } else {
            precondition(
                output.count == 1, "GradientTape.gradient: output of shape \(output.shape) is not a scalar; pass a seed"
            )
            start = Tensor.ones(output.shape)
        }
        guard output.tracking.tape == id else {
            // The output does not depend on any watched input.
            return inputs.map { Tensor.zeros(like: $0) }
        }
        let grads = backward(
            from: Int(output.tracking.node), seed: start.detached(), keep: Set(inputs.map { Int($0.tracking.node) }))
        return inputs.map { x in grads[Int(x.tracking.node)] ?? Tensor.zeros(like: x) }
    }

    private func backward(from output: Int, seed: Tensor, keep: Set<Int>) -> [Tensor?] {
        var grads = [Tensor?](repeating: nil, count: nodes.count)
        grads[output] = seed
        withoutGradient {
            var i = output
            while i >= 0 {
                defer { i -= 1 }
                guard let g = grads[i] else { continue }
                let node = nodes[i]
                if let pullback = node.pullback {
                    let (ga, gb) = pullback(g)
                    if node.a >= 0, let ga { Self.accumulate(&grads, Int(node.a), ga) }
                    if node.b >= 0, let gb { Self.accumulate(&grads, Int(node.b), gb) }
                } else if let pullbackN = node.pullbackN, let parents = node.parents {
                    let gs = pullbackN(g)
                    for (p, gp) in zip(parents, gs) where p >= 0 {
                        if let gp { Self.accumulate(&grads, Int(p), gp) }
                    }
                }
                if !keep.contains(i) { grads[i] = nil }
            }
        }
        return grads
    }

    private static func accumulate(_ grads: inout [Tensor?], _ index: Int, _ g: Tensor) {
        if grads[index] == nil {
            grads[index] = g
        } else {
            grads[index]!.addInPlace(g)
        }
    }

    @inline(__always)
    func append(_ a: Tensor, _ b: Tensor?, _ pullback: @escaping (Tensor) -> (Tensor?, Tensor?)) -> Tracking {
        let na: Int32 = a.tracking.tape == id ? a.tracking.node : -1
        let nb: Int32 = (b?.tracking.tape == id) ? b!.tracking.node : -1
        nodes.append(Node(a: na, b: nb, pullback: pullback, parents: nil, pullbackN: nil))
        return Tracking(tape: id, node: Int32(nodes.count - 1))
    }

    func append(_ inputs: [Tensor], _ pullback: @escaping (Tensor) -> [Tensor?]) -> Tracking {
        let parents = inputs.map { $0.tracking.tape == id ? $0.tracking.node : -1 }
        nodes.append(Node(a: -1, b: -1, pullback: nil, parents: parents, pullbackN: pullback))
        return Tracking(tape: id, node: Int32(nodes.count - 1))
    }
}

/// Hands out tape identities; 0 means "not tracked".
enum TapeIdentity {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var last: UInt32 = 0
    static func next() -> UInt32 {
        lock.lock()
        defer { lock.unlock() }
        last = last == UInt32.max ? 1 : last + 1
        return last
    }
}

/// Per-thread autodiff state: the stack of recording tapes and the depth of no-gradient scopes.
final class AutodiffContext {
    var tapes: [GradientTape] = []
    var noGradientDepth = 0

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        #if os(Linux)
            let status = pthread_key_create(&key) { pointer in
                if let pointer { Unmanaged<AutodiffContext>.fromOpaque(pointer).release() }
            }
        #else
            let status = pthread_key_create(&key) { pointer in
                Unmanaged<AutodiffContext>.fromOpaque(pointer).release()
            }
        #endif
        precondition(status == 0, "pthread_key_create failed with status \(status)")
        return key
    }()

    static var current: AutodiffContext {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<AutodiffContext>.fromOpaque(pointer).takeUnretainedValue()
        }
        let context = AutodiffContext()
        pthread_setspecific(key, Unmanaged.passRetained(context).toOpaque())
        return context
    }

    /// The tape an operation on tensors tracked by `tape` should record onto, if any.
    @inline(__always)
    func recordingTape(for tapeID: UInt32, or other: UInt32 = 0) -> GradientTape? {
        guard noGradientDepth == 0, let top = tapes.last else { return nil }
        return (top.id == tapeID || top.id == other) ? top : nil
    }
}

/// Runs `body` without recording any operation on a gradient tape.
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    let context = AutodiffContext.current
    context.noGradientDepth += 1
    defer { context.noGradientDepth -= 1 }
    return try body()
}

/// The value of `f` at `x` and the gradient of that (scalar) value with respect to `x`.
public func valueAndGradient(at x: Tensor, of f: (Tensor) throws -> Tensor) rethrows -> (
    value: Tensor, gradient: Tensor
) {
    let (value, grads) = try valueAndGradient(at: [x]) { try f($0[0]) }
    return (value, grads[0])
}

/// The value of `f` at `xs` and the gradients of that (scalar) value with respect to each of `xs`.
public func valueAndGradient(at xs: [Tensor], of f: ([Tensor]) throws -> Tensor) rethrows -> (
    value: Tensor, gradients: [Tensor]
) {
    let tape = GradientTape()
    return try tape.record {
        let watched = xs.map { tape.watch($0) }
        let value = try f(watched)
        let grads = tape.gradient(of: value, withRespectTo: watched)
        return (value.detached(), grads)
    }
}

extension Tensor {
    /// The same value, no longer tracked by any gradient tape: gradients do not flow through it.
    public func detached() -> Tensor {
        var t = self
        t.tracking = .none
        return t
    }

    /// Whether this value is tracked by a gradient tape.
    public var isTracked: Bool { tracking.isTracked }

    /// The tape to record an operation with one operand on, if any.
    @inline(__always)
    static func tape(_ a: Tensor) -> GradientTape? {
        guard a.tracking.isTracked else { return nil }
        return AutodiffContext.current.recordingTape(for: a.tracking.tape)
    }

    /// The tape to record an operation with two operands on, if any.
    @inline(__always)
    static func tape(_ a: Tensor, _ b: Tensor) -> GradientTape? {
        guard a.tracking.isTracked || b.tracking.isTracked else { return nil }
        return AutodiffContext.current.recordingTape(for: a.tracking.tape, or: b.tracking.tape)
    }
}
