import Foundation
import Testing
import TuneNN
import TuneTensor

/// The PyTorch parity fixtures written by tools/fixtures/make_fixtures.py.
enum Fixture {
    static func load(_ name: String) -> JSONValue {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
        } catch {
            fatalError("fixture \(url.path) cannot be read: \(error)")
        }
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue {
        guard case .object(let o) = self, let v = o[key] else { fatalError("fixture has no field '\(key)'") }
        return v
    }
    func optional(_ key: String) -> JSONValue? {
        guard case .object(let o) = self, let v = o[key], v != .null else { return nil }
        return v
    }
    var array: [JSONValue] {
        guard case .array(let a) = self else { fatalError("fixture value is not an array: \(self)") }
        return a
    }
    var object: [String: JSONValue] {
        guard case .object(let o) = self else { fatalError("fixture value is not an object: \(self)") }
        return o
    }
    var double: Double {
        guard case .number(let n) = self else { fatalError("fixture value is not a number: \(self)") }
        return n
    }
    var float: Float { Float(double) }
    var int: Int { Int(double) }
    var bool: Bool {
        guard case .bool(let b) = self else { fatalError("fixture value is not a boolean: \(self)") }
        return b
    }
    var string: String {
        guard case .string(let s) = self else { fatalError("fixture value is not a string: \(self)") }
        return s
    }
    var floats: [Float] { array.map(\.float) }
    /// A tensor written as {"shape", "data"}.
    var tensor: Tensor {
        Tensor(shape: Shape(self["shape"].array.map(\.int)), scalars: self["data"].floats)
    }
}

/// The largest relative difference, numpy's allclose way: |a - b| / (|b| + floor).
func relativeError(_ actual: Tensor, _ expected: Tensor, floor: Float = 0.1) -> Float {
    precondition(actual.shape == expected.shape, "shapes \(actual.shape) and \(expected.shape) differ")
    var worst: Float = 0
    for (a, b) in zip(actual.scalars, expected.scalars) {
        let e = abs(a - b) / (abs(b) + floor)
        worst = max(worst, e.isNaN ? .infinity : e)
    }
    return worst
}

/// Whether `actual` matches `expected` to `tolerance` relative (with an absolute floor of tolerance * 0.1).
func expectClose(
    _ actual: Tensor, _ expected: Tensor, tolerance: Float = 1e-5, _ comment: Comment,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        actual.shape == expected.shape, "\(comment): shape \(actual.shape), expected \(expected.shape)",
        sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let error = relativeError(actual, expected)
    #expect(
        error <= tolerance,
        "\(comment): relative error \(error)\n got      \(actual.scalars.prefix(8))\n expected \(expected.scalars.prefix(8))",
        sourceLocation: sourceLocation)
}
