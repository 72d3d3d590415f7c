import Foundation
import TuneTensor

/// An error reading or writing a checkpoint, naming the file and what was wrong.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length, a JSON
/// header mapping each tensor name to its dtype, shape and byte range, and the raw little-endian data. swift-tune
/// writes and reads `F32` tensors of rank 0 to 4.
public enum Safetensors {
    struct Entry: Codable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    /// Writes `tensors` (names must be unique) and string `metadata` to `url`, atomically: the file appears whole or
    /// not at all.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: JSONValue] = [:]
        var offset = 0
        var names = Set<String>()
        for (name, tensor) in tensors {
            guard names.insert(name).inserted else { throw CheckpointError(path: url.path, "tensor name '\(name)' appears twice") }
            guard name != "__metadata__" else { throw CheckpointError(path: url.path, "'__metadata__' is reserved and cannot name a tensor") }
            let bytes = tensor.count * 4
            header[name] = .object(["dtype": .string("F32"), "shape": .array(tensor.shape.dimensions.map { .number(Double($0)) }),
                                    "data_offsets": .array([.number(Double(offset)), .number(Double(offset + bytes))])])
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = .object(metadata.mapValues { .string($0) }) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var json = try encoder.encode(header)
        // Pad the header with spaces to a multiple of 8 bytes, so that the data starts aligned.
        while (json.count + 8) % 8 != 0 { json.append(0x20) }
        var file = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for (_, tensor) in tensors {
            tensor.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: UInt32.self) { words in
                    for w in words { withUnsafeBytes(of: w.littleEndian) { file.append(contentsOf: $0) } }
                }
            }
        }
        do {
            try file.write(to: url, options: .atomic)
        } catch {
            throw CheckpointError(path: url.path, "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads every tensor and the metadata of a safetensors file, checking the header against the data.
    public static func read(from url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CheckpointError(path: path, "cannot read: \(error.localizedDescription)")
        }
        guard data.count >= 8 else {
            throw CheckpointError(path: path, "the file has \(data.count) bytes, fewer than the 8 of a safetensors header length: truncated or not a safetensors file")
        }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw CheckpointError(path: path, "the header claims \(headerLength) bytes but only \(data.count - 8) follow: truncated or not a safetensors file")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        let header: [String: JSONValue]
        do {
            header = try JSONDecoder().decode([String: JSONValue].self, from: headerData)
        } catch {
            throw CheckpointError(path: path, "the header is not a JSON object: corrupt or not a safetensors file")
        }
        let dataStart = 8 + Int(headerLength), dataLength = data.count - dataStart
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard case .object(let entries) = value else { throw CheckpointError(path: path, "'__metadata__' is not an object of strings") }
                for (k, v) in entries {
                    guard case .string(let s) = v else { throw CheckpointError(path: path, "metadata '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let fields) = value,
                  case .string(let dtype)? = fields["dtype"],
                  case .array(let shapeValues)? = fields["shape"],
                  case .array(let offsetValues)? = fields["data_offsets"] else {
                throw CheckpointError(path: path, "tensor '\(name)': the header entry lacks dtype, shape or data_offsets")
            }
            let shape = try shapeValues.map { v -> Int in
                guard case .number(let n) = v, n >= 0, n == n.rounded(), n < 1e12 else {
                    throw CheckpointError(path: path, "tensor '\(name)': shape \(shapeValues) is not a list of non-negative integers")
                }
                return Int(n)
            }
            let offsets = try offsetValues.map { v -> Int in
                guard case .number(let n) = v, n >= 0, n == n.rounded(), n < 1e15 else {
                    throw CheckpointError(path: path, "tensor '\(name)': data_offsets are not two non-negative integers")
                }
                return Int(n)
            }
            guard dtype == "F32" else {
                throw CheckpointError(path: path, "tensor '\(name)': dtype \(dtype) is not supported (swift-tune reads F32)")
            }
            guard shape.count <= Shape.maxRank else {
                throw CheckpointError(path: path, "tensor '\(name)': rank \(shape.count) is above the supported \(Shape.maxRank)")
            }
            guard offsets.count == 2, offsets[0] <= offsets[1] else {
                throw CheckpointError(path: path, "tensor '\(name)': data_offsets \(offsets) are not a [begin, end] pair")
            }
            guard offsets[1] <= dataLength else {
                throw CheckpointError(path: path, "tensor '\(name)': bytes \(offsets[0])..<\(offsets[1]) lie beyond the \(dataLength)-byte data section: the file is truncated")
            }
            let count = shape.reduce(1, *)
            guard offsets[1] - offsets[0] == count * 4 else {
                throw CheckpointError(path: path, "tensor '\(name)': shape \(shape) needs \(count * 4) bytes but data_offsets span \(offsets[1] - offsets[0])")
            }
            var scalars = [Float](repeating: 0, count: count)
            let start = dataStart + offsets[0]
            data.withUnsafeBytes { raw in
                for i in 0..<count {
                    let bits = raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)
                    scalars[i] = Float(bitPattern: UInt32(littleEndian: bits))
                }
            }
            tensors[name] = Tensor(shape: Shape(shape), scalars: scalars)
        }
        return (tensors, metadata)
    }
}
