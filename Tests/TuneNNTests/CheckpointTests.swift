import Foundation
import TestSupport
import Testing
@testable import TuneNN
import TuneTensor

func temporaryDirectory() -> URL { scratchDirectory("checkpoint") }

/// Runs tools/safetensors_check.py with the Python that has the reference safetensors package (TUNE_PYTHON, set by
/// `make test`, or python3).
func runSafetensorsCheck(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
    try runPythonTool("safetensors_check.py", arguments)
}

@Suite("Checkpoints")
struct CheckpointTests {
    let spec = MLPSpecification(
        inputSize: 3, hiddenSizes: [4], outputSize: 2, activation: .swish, batchNorm: .beforeActivation)

    func trainedModel() -> MLP {
        let model = MLP(spec, seed: 3)
        // One training forward pass moves BatchNorm's running statistics away from their defaults.
        _ = model(Tensor([[1, 2, 3], [0, -1, 4], [2, 2, 2]]))
        return model
    }

    @Test func aSavedModelRebuildsItselfExactly() throws {
        let dir = temporaryDirectory()
        let model = trainedModel()
        try Checkpoint.save(
            model, to: dir, hyperparameters: ["learning_rate": .number(0.01)],
            preprocessing: .object(["scale": .number(2)]))
        let (loaded, description) = try Checkpoint.load(from: dir)
        #expect(description.architecture == spec)
        #expect(description.hyperparameters["learning_rate"] == .number(0.01))
        #expect(description.preprocessing == .object(["scale": .number(2)]))
        #expect(description.tensors["layers.0.weight"] == [4, 3])
        for ((n1, a), (n2, b)) in zip(Checkpoint.state(of: model), Checkpoint.state(of: loaded)) {
            #expect(n1 == n2)
            #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern), "\(n1)")
        }
        model.eval()
        loaded.eval()
        let x = Tensor([[0.5, -1, 2]])
        #expect(model(x).scalars == loaded(x).scalars)
    }

    @Test func pythonsSafetensorsReadsOurFile() throws {
        let dir = temporaryDirectory()
        let model = trainedModel()
        try Checkpoint.save(model, to: dir)
        let result = try runSafetensorsCheck(["read", dir.appendingPathComponent(Checkpoint.tensorsFile).path])
        #expect(
            result.status == 0,
            "python's safetensors could not read the file (make test installs numpy and safetensors): \(result.error)")
        guard result.status == 0 else { return }
        let read = try JSONDecoder().decode([String: JSONValue].self, from: Data(result.output.utf8))
        let state = Checkpoint.state(of: model)
        #expect(Set(read.keys) == Set(state.map(\.name)))
        for (name, tensor) in state {
            guard let entry = read[name] else { continue }
            #expect(entry["dtype"].string == "float32")
            #expect(entry.tensor.shape == tensor.shape, "\(name)")
            #expect(entry.tensor.scalars == tensor.scalars, "\(name)")
        }
    }

    @Test func weReadPythonsSafetensorsFile() throws {
        let url = temporaryDirectory().appendingPathComponent("python.safetensors")
        let result = try runSafetensorsCheck(["write", url.path])
        #expect(
            result.status == 0,
            "python's safetensors could not write (make test installs numpy and safetensors): \(result.error)")
        guard result.status == 0 else { return }
        let (tensors, metadata) = try Safetensors.read(from: url)
        #expect(metadata == ["written_by": "safetensors"])
        #expect(tensors["layers.0.weight"]?.shape == [2, 3])
        #expect(tensors["layers.0.weight"]?.scalars == [0, 0.25, 0.5, 0.75, 1, 1.25])
        #expect(tensors["layers.0.bias"]?.scalars == [-1.5, 2.25])
        #expect(tensors["scalar"]?.shape == .scalar)
        #expect(tensors["scalar"]?.scalar == 3.5)
    }

    @Test func truncatedAndCorruptFilesGiveClearErrors() throws {
        let dir = temporaryDirectory()
        try Checkpoint.save(trainedModel(), to: dir)
        let file = dir.appendingPathComponent(Checkpoint.tensorsFile)
        let whole = try Data(contentsOf: file)
        let broken = dir.appendingPathComponent("broken.safetensors")

        try whole.prefix(whole.count - 10).write(to: broken)
        #expect(throws: CheckpointError.self) { try Safetensors.read(from: broken) }
        do { _ = try Safetensors.read(from: broken) } catch let e as CheckpointError {
            #expect(e.path == broken.path)
            #expect(e.message.contains("truncated"), "\(e)")
        }

        try Data([1, 2, 3]).write(to: broken)
        do { _ = try Safetensors.read(from: broken); Issue.record("no error") } catch let e as CheckpointError {
            #expect(e.message.contains("fewer than the 8"), "\(e)")
        }

        var corrupt = whole
        corrupt[8] = UInt8(ascii: "#")  // the header's opening brace
        try corrupt.write(to: broken)
        do { _ = try Safetensors.read(from: broken); Issue.record("no error") } catch let e as CheckpointError {
            #expect(e.message.contains("not a JSON object"), "\(e)")
        }

        var huge = whole
        huge.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
        try huge.write(to: broken)
        do { _ = try Safetensors.read(from: broken); Issue.record("no error") } catch let e as CheckpointError {
            #expect(e.message.contains("header claims"), "\(e)")
        }
    }

    @Test func missingTensorsAndShapeMismatchesAreNamed() throws {
        let dir = temporaryDirectory()
        let model = trainedModel()
        let url = dir.appendingPathComponent("partial.safetensors")
        let state = Checkpoint.state(of: model)
        try Safetensors.write(state.filter { $0.name != "layers.1.runningVar" }, to: url)
        let target = MLP(spec, seed: 9)
        let before = target.parameters().map(\.value.scalars)
        do { try Checkpoint.loadState(into: target, from: url); Issue.record("no error") } catch let e
            as CheckpointError
        {
            #expect(e.message == "missing tensor 'layers.1.runningVar'")
        }
        #expect(
            target.parameters().map(\.value.scalars) == before, "nothing is loaded from a file that does not check out")

        try Safetensors.write(
            state.map { $0.name == "layers.0.weight" ? ($0.name, Tensor.zeros([3, 4])) : $0 }, to: url)
        do { try Checkpoint.loadState(into: target, from: url); Issue.record("no error") } catch let e
            as CheckpointError
        {
            #expect(e.message == "tensor 'layers.0.weight' has shape [3, 4], the model expects [4, 3]")
        }

        try Safetensors.write(state + [("extra", Tensor(1))], to: url)
        do { try Checkpoint.loadState(into: target, from: url); Issue.record("no error") } catch let e
            as CheckpointError
        {
            #expect(e.message == "tensor 'extra' is not part of the model")
        }
    }

    @Test func aBadDescriptionNamesTheField() throws {
        let dir = temporaryDirectory()
        try Checkpoint.save(trainedModel(), to: dir)
        let json = dir.appendingPathComponent(Checkpoint.descriptionFile)
        var text = try String(contentsOf: json, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"inputSize\" : 3", with: "\"inputSize\" : \"three\"")
        try text.write(to: json, atomically: true, encoding: .utf8)
        do { _ = try Checkpoint.load(from: dir); Issue.record("no error") } catch let e as CheckpointError {
            #expect(e.message.contains("architecture.inputSize"), "\(e)")
        }
    }

    @Test func aFailedWriteThrowsAndTheDataIsAligned() throws {
        // Writing into a directory that does not exist fails with a CheckpointError, not a trap.
        let missing = temporaryDirectory().appendingPathComponent("no/such/dir/model.safetensors")
        #expect(throws: CheckpointError.self) { try Safetensors.write([("a", Tensor(1))], to: missing) }
        // The header is padded so that the data section starts on an 8-byte boundary.
        let url = temporaryDirectory().appendingPathComponent("aligned.safetensors")
        try Safetensors.write([("a", Tensor([1, 2, 3]))], to: url)
        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + headerLength) % 8 == 0)
        #expect(data.count == 8 + headerLength + 12)
    }
}

@Suite("Safetensors files that must be refused")
struct SafetensorsRefusalTests {
    /// A file with `header` (padded) and `dataBytes` zero bytes of data.
    func file(_ header: String, dataBytes: Int) throws -> URL {
        var json = Data(header.utf8)
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(Data(count: dataBytes))
        let url = temporaryDirectory().appendingPathComponent("f.safetensors")
        try data.write(to: url)
        return url
    }

    func message(_ header: String, dataBytes: Int) throws -> String {
        do {
            _ = try Safetensors.read(from: try file(header, dataBytes: dataBytes))
            return "accepted"
        } catch let e as CheckpointError {
            return e.message
        }
    }

    @Test func overlapsGapsAndTrailingBytes() throws {
        #expect(
            try message(
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                dataBytes: 12
            )
            .contains("overlap"))
        #expect(try message(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataBytes: 8).contains("gap"))
        #expect(
            try message(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 16).contains("cover 4"))
        #expect(try message(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4) == "accepted")
    }

    @Test func hugeShapesDuplicateNamesAndFractionalNumbers() throws {
        #expect(
            try message(
                #"{"a":{"dtype":"F32","shape":[999999999999,999999999999],"data_offsets":[0,4]}}"#, dataBytes: 4
            )
            .contains("more elements than the file has bytes"))
        #expect(
            try message(
                #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                dataBytes: 8
            )
            .contains("names 'a' twice"))
        #expect(
            try message(#"{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#, dataBytes: 4).contains(
                "not a non-negative integer"))
        #expect(
            try message(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}"#, dataBytes: 4).contains(
                "not a non-negative integer"))
    }

    @Test func aFailedSaveLeavesThePreviousCheckpoint() throws {
        let dir = temporaryDirectory().appendingPathComponent("model")
        let small = MLP(MLPSpecification(inputSize: 3, hiddenSizes: [2], outputSize: 1), seed: 1)
        try Checkpoint.save(small, to: dir)
        let big = MLP(MLPSpecification(inputSize: 5, hiddenSizes: [4], outputSize: 1), seed: 1)
        #expect(throws: CheckpointError.self) {
            try Checkpoint.save(big, to: dir, hyperparameters: ["lr": .number(.nan)])
        }
        let (loaded, _) = try Checkpoint.load(from: dir)
        #expect(loaded.specification.inputSize == 3)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.deletingLastPathComponent().path)
        #expect(leftovers == ["model"], "no staging directory is left behind: \(leftovers)")
    }
}
