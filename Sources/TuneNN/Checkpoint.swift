import Foundation
import TuneTensor

/// What a checkpoint says about its model, beside the tensors: enough to rebuild it.
public struct ModelDescription: Codable, Sendable, Equatable {
    /// Always "swift-tune-model".
    public var format = "swift-tune-model"
    public var formatVersion = 1
    /// The network's architecture.
    public var architecture: MLPSpecification
    /// The hyperparameters it was trained with (free-form).
    public var hyperparameters: [String: JSONValue]
    /// How raw inputs become the network's inputs (written by the data pipeline; free-form here).
    public var preprocessing: JSONValue?
    /// Every tensor in the checkpoint with its shape.
    public var tensors: [String: [Int]]

    public init(
        architecture: MLPSpecification, hyperparameters: [String: JSONValue] = [:], preprocessing: JSONValue? = nil,
        tensors: [String: [Int]] = [:]
    ) {
        self.architecture = architecture
        self.hyperparameters = hyperparameters
        self.preprocessing = preprocessing
        self.tensors = tensors
    }
}

/// Saving and loading models: parameters and buffers in `model.safetensors`, the description in `model.json`.
public enum Checkpoint {
    public static let tensorsFile = "model.safetensors"
    public static let descriptionFile = "model.json"

    /// Every parameter and buffer of `module`, by name.
    public static func state(of module: Module) -> [(name: String, tensor: Tensor)] {
        module.namedParameters().map { ($0.name, $0.parameter.value) }
            + module.namedBuffers().map { ($0.name, $0.buffer.value) }
    }

    /// Writes the parameters and buffers of `module` to a safetensors file, atomically.
    public static func saveState(of module: Module, to url: URL, metadata: [String: String] = [:]) throws {
        try Safetensors.write(state(of: module), metadata: metadata, to: url)
    }

    /// Loads parameters and buffers into `module` from a safetensors file. Strict: every tensor of the module must be
    /// in the file with the same shape, and the file may hold no other; nothing is changed unless all of it checks out.
    public static func loadState(into module: Module, from url: URL) throws {
        let (tensors, _) = try Safetensors.read(from: url)
        let parameters = module.namedParameters(), buffers = module.namedBuffers()
        var expected: [String: Shape] = [:]
        for (name, p) in parameters { expected[name] = p.value.shape }
        for (name, b) in buffers { expected[name] = b.value.shape }
        for name in expected.keys.sorted() {
            guard let t = tensors[name] else { throw CheckpointError(path: url.path, "missing tensor '\(name)'") }
            guard t.shape == expected[name] else {
                throw CheckpointError(
                    path: url.path, "tensor '\(name)' has shape \(t.shape), the model expects \(expected[name]!)")
            }
        }
        if let extra = tensors.keys.sorted().first(where: { expected[$0] == nil }) {
            throw CheckpointError(path: url.path, "tensor '\(extra)' is not part of the model")
        }
        restore(tensors.map { ($0.key, $0.value) }, into: module)
    }

    /// Puts named tensors (from `state(of:)` or a file) into the module's parameters and buffers of those names.
    public static func restore(_ state: [(name: String, tensor: Tensor)], into module: Module) {
        let parameters = Dictionary(uniqueKeysWithValues: module.namedParameters().map { ($0.name, $0.parameter) })
        let buffers = Dictionary(uniqueKeysWithValues: module.namedBuffers().map { ($0.name, $0.buffer) })
        for (name, tensor) in state {
            if let p = parameters[name] { p.value = tensor } else if let b = buffers[name] { b.value = tensor }
        }
    }

    /// Saves `model` into `directory`: `model.safetensors` and `model.json`. Both are written into a fresh sibling
    /// directory that then takes the place of `directory`, so the two files always belong together: a failed save
    /// leaves the previous checkpoint as it was.
    public static func save(
        _ model: MLP, to directory: URL, hyperparameters: [String: JSONValue] = [:],
        preprocessing: JSONValue? = nil
    ) throws {
        let state = state(of: model)
        let description = ModelDescription(
            architecture: model.specification, hyperparameters: hyperparameters,
            preprocessing: preprocessing,
            tensors: Dictionary(uniqueKeysWithValues: state.map { ($0.name, $0.tensor.shape.dimensions) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json: Data
        do {
            json = try encoder.encode(description)
        } catch {
            throw CheckpointError(
                path: directory.appendingPathComponent(descriptionFile).path, "cannot encode the description: \(error)")
        }
        let fileManager = FileManager.default
        let parent = directory.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(directory.lastPathComponent).saving-\(UUID().uuidString)")
        do {
            try fileManager.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(path: directory.path, "cannot create the directory: \(error.localizedDescription)")
        }
        defer { try? fileManager.removeItem(at: staging) }
        try Safetensors.write(
            state, metadata: ["format": "swift-tune"], to: staging.appendingPathComponent(tensorsFile))
        do {
            try json.write(to: staging.appendingPathComponent(descriptionFile))
        } catch {
            throw CheckpointError(
                path: directory.appendingPathComponent(descriptionFile).path,
                "cannot write: \(error.localizedDescription)")
        }
        let previous = parent.appendingPathComponent(".\(directory.lastPathComponent).previous-\(UUID().uuidString)")
        let hadPrevious = fileManager.fileExists(atPath: directory.path)
        do {
            if hadPrevious { try fileManager.moveItem(at: directory, to: previous) }
            try fileManager.moveItem(at: staging, to: directory)
        } catch {
            if hadPrevious && !fileManager.fileExists(atPath: directory.path) {
                try? fileManager.moveItem(at: previous, to: directory)
            }
            throw CheckpointError(
                path: directory.path, "cannot put the checkpoint in place: \(error.localizedDescription)")
        }
        if hadPrevious { try? fileManager.removeItem(at: previous) }
    }

    /// Rebuilds a model saved with `save(_:to:)`.
    public static func load(from directory: URL) throws -> (model: MLP, description: ModelDescription) {
        let url = directory.appendingPathComponent(descriptionFile)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CheckpointError(path: url.path, "cannot read: \(error.localizedDescription)")
        }
        let description: ModelDescription
        do {
            description = try JSONDecoder().decode(ModelDescription.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw CheckpointError(
                path: url.path,
                "missing field '\((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw CheckpointError(
                path: url.path,
                "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            throw CheckpointError(
                path: url.path,
                "not valid JSON or a bad value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
            )
        } catch {
            throw CheckpointError(path: url.path, "cannot decode: \(error)")
        }
        guard description.format == "swift-tune-model" else {
            throw CheckpointError(
                path: url.path, "field 'format' is '\(description.format)', expected 'swift-tune-model'")
        }
        if let problem = description.architecture.validationError() {
            throw CheckpointError(path: url.path, "field 'architecture': \(problem)")
        }
        let model = MLP(description.architecture, seed: 0)
        try loadState(into: model, from: directory.appendingPathComponent(tensorsFile))
        return (model, description)
    }
}
