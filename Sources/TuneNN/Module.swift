import TuneTensor

/// A tensor a module learns, held by reference so that optimizers and checkpoints reach the module's own copy.
///
/// ```swift
/// final class Scale: Module, UnaryLayer {
///     @Parameter var factor = Tensor.ones([4])
///     func callAsFunction(_ x: Tensor) -> Tensor { x * factor }
/// }
/// ```
@propertyWrapper
public final class Parameter {
    /// The current value.
    public var value: Tensor
    public init(wrappedValue: Tensor) { value = wrappedValue }
    public var wrappedValue: Tensor {
        get { value }
        set { value = newValue }
    }
    /// The box itself (`$weight`).
    public var projectedValue: Parameter { self }
}

/// A tensor a module keeps but does not learn (BatchNorm's running statistics), saved in checkpoints.
@propertyWrapper
public final class Buffer {
    /// The current value.
    public var value: Tensor
    public init(wrappedValue: Tensor) { value = wrappedValue }
    public var wrappedValue: Tensor {
        get { value }
        set { value = newValue }
    }
    /// The box itself (`$runningMean`).
    public var projectedValue: Buffer { self }
}

/// The base of every layer and model: finds its parameters, buffers and sub-modules by reflection, names them by
/// path (`layers.0.weight`), and carries a train/eval flag of its own.
///
/// Sub-modules are found in stored properties of type `Module` (optional or lazy too), arrays of modules, dictionaries
/// of modules by string key, `@Parameter`, `@Buffer` and arrays of parameters. Modules inside tuples or other
/// containers are not found.
open class Module {
    /// Whether the module is in training mode (dropout active, batch statistics used). Set with `train()`/`eval()`.
    public internal(set) var isTraining = true

    public init() {}

    /// The direct sub-modules with their names, in declaration order.
    public final func namedChildren() -> [(name: String, module: Module)] {
        var result: [(String, Module)] = []
        forEachStoredProperty { name, value in
            for (suffix, m) in Module.modules(in: value) { result.append((name + suffix, m)) }
        }
        return result
    }

    /// Every parameter of this module and its sub-modules, named by path, in declaration order. A parameter reached
    /// twice (a layer used in two places) is listed once, under its first name, as in PyTorch.
    public final func namedParameters() -> [(name: String, parameter: Parameter)] {
        var result: [(String, Parameter)] = []
        var seen = Set<ObjectIdentifier>()
        walk(prefix: "") { name, value in
            if let p = value as? Parameter, seen.insert(ObjectIdentifier(p)).inserted { result.append((name, p)) }
        }
        return result
    }

    /// Every buffer of this module and its sub-modules, named by path, in declaration order, each once.
    public final func namedBuffers() -> [(name: String, buffer: Buffer)] {
        var result: [(String, Buffer)] = []
        var seen = Set<ObjectIdentifier>()
        walk(prefix: "") { name, value in
            if let b = value as? Buffer, seen.insert(ObjectIdentifier(b)).inserted { result.append((name, b)) }
        }
        return result
    }

    /// The parameters in the order of `namedParameters()`.
    public final func parameters() -> [Parameter] { namedParameters().map(\.parameter) }

    /// The number of learnable scalars.
    public final var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

    /// Sets training mode on this module and every sub-module.
    public final func train(_ training: Bool = true) {
        isTraining = training
        for (_, child) in namedChildren() { child.train(training) }
    }

    /// Sets evaluation mode (dropout off, running statistics used) on this module and every sub-module.
    public final func eval() { train(false) }

    /// Calls `visit` for each parameter and buffer under `prefix`, depth first.
    private func walk(prefix: String, _ visit: (String, AnyObject) -> Void) {
        forEachStoredProperty { name, value in
            if let p = value as? Parameter {
                visit(prefix + name, p)
            } else if let b = value as? Buffer {
                visit(prefix + name, b)
            } else if let array = value as? [Parameter?] {
                for (i, p) in array.enumerated() { if let p { visit("\(prefix)\(name).\(i)", p) } }
            } else {
                for (suffix, m) in Module.modules(in: value) { m.walk(prefix: prefix + name + suffix + ".", visit) }
            }
        }
    }

    /// The modules a stored property holds, with the name suffix of each: a module (""), an array of modules,
    /// optional or not (".0", ".1", ...), or a dictionary of modules by string key (".key", in key order).
    private static func modules(in value: Any) -> [(String, Module)] {
        if let m = value as? Module { return [("", m)] }
        if let array = value as? [Module?] {
            return array.enumerated().compactMap { i, m in m.map { (".\(i)", $0) } }
        }
        if let dictionary = value as? [String: Module] {
            return dictionary.keys.sorted().map { (".\($0)", dictionary[$0]!) }
        }
        return []
    }

    /// The stored properties of the dynamic type and its superclasses (base class first), wrapper underscores removed.
    private func forEachStoredProperty(_ body: (String, Any) -> Void) {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        for m in mirrors.reversed() {
            for child in m.children {
                guard let label = child.label else { continue }
                var name = label
                if name.hasPrefix("$__lazy_storage_$_") { name.removeFirst("$__lazy_storage_$_".count) }
                if name.hasPrefix("_") { name.removeFirst() }
                body(name, child.value)
            }
        }
    }
}

/// A module that maps one tensor to another.
public protocol UnaryLayer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// Layers applied one after the other; its layers are named `layers.0`, `layers.1`, ...
public final class Sequential: Module, UnaryLayer {
    public let layers: [any UnaryLayer]

    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { $1($0) }
    }
}

extension Module {
    /// The value of `body` (a scalar loss computed with this module) and its gradient with respect to every parameter,
    /// in the order of `parameters()`.
    public func valueAndGradients(_ body: () throws -> Tensor) rethrows -> (value: Tensor, gradients: [Tensor]) {
        try TuneNN.valueAndGradients(of: parameters(), body)
    }
}

/// The value of `body` (a scalar) and its gradient with respect to each of `parameters`, in their order. The
/// parameters are watched by a fresh tape while `body` runs and detached again afterwards.
public func valueAndGradients(of parameters: [Parameter], _ body: () throws -> Tensor) rethrows -> (
    value: Tensor, gradients: [Tensor]
) {
    let tape = GradientTape()
    defer { for p in parameters { p.value = p.value.detached() } }
    return try tape.record {
        for p in parameters { p.value = tape.watch(p.value) }
        let value = try body()
        let gradients = tape.gradient(of: value, withRespectTo: parameters.map(\.value))
        return (value.detached(), gradients)
    }
}
