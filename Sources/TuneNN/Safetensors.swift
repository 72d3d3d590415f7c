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
    /// Writes `tensors` (names must be unique) and string `metadata` to `url`, atomically: the file appears whole or
    /// not at all.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL)
        throws
    {
        var header: [String: JSONValue] = [:]
        var offset = 0
        var names = Set<String>()
        for (name, tensor) in tensors {
            guard names.insert(name).inserted else {
                throw CheckpointError(path: url.path, "tensor name '\(name)' appears twice")
            }
            guard name != "__metadata__" else {
                throw CheckpointError(path: url.path, "'__metadata__' is reserved and cannot name a tensor")
            }
            let bytes = tensor.count * 4
            header[name] = .object([
                "dtype": .string("F32"), "shape": .array(tensor.shape.dimensions.map { .number(Double($0)) }),
                "data_offsets": .array([.number(Double(offset)), .number(Double(offset + bytes))])
            ])
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
        let (header, dataStart) = try readHeader(data, path: path)
        let dataLength = data.count - dataStart
        var tensors: [String: Tensor] = [:]
        var ranges: [(name: String, begin: Int, end: Int)] = []
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                try readMetadata(value, into: &metadata, path: path)
                continue
            }
            let (shape, offsets) = try checkedEntry(name, value, dataLength: dataLength, path: path)
            let count = try elementCount(name, shape: shape, offsets: offsets, dataLength: dataLength, path: path)
            ranges.append((name, offsets[0], offsets[1]))
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
        try checkTiling(ranges, dataLength: dataLength, path: path)
        return (tensors, metadata)
    }

    /// The JSON header of a safetensors file in `data`, and where its data section starts. A file too short for its
    /// header, or a header that is not a JSON object with unique keys and integer numbers, is a `CheckpointError`.
    private static func readHeader(_ data: Data, path: String) throws -> (header: [String: JSONValue], dataStart: Int) {
        guard data.count >= 8 else {
            throw CheckpointError(
                path: path,
                "the file has \(data.count) bytes, fewer than the 8 of a safetensors header length: truncated or not a safetensors file"
            )
        }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw CheckpointError(
                path: path,
                "the header claims \(headerLength) bytes but only \(data.count - 8) follow: truncated or not a safetensors file"
            )
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        try checkHeaderSyntax(headerData, path: path)
        let header: [String: JSONValue]
        do {
            header = try JSONDecoder().decode([String: JSONValue].self, from: headerData)
        } catch {
            throw CheckpointError(path: path, "the header is not a JSON object: corrupt or not a safetensors file")
        }
        return (header, 8 + Int(headerLength))
    }

    /// Adds the entries of the header's `__metadata__` object to `metadata`; anything but an object of strings is a
    /// `CheckpointError`.
    private static func readMetadata(_ value: JSONValue, into metadata: inout [String: String], path: String) throws {
        guard case .object(let entries) = value else {
            throw CheckpointError(path: path, "'__metadata__' is not an object of strings")
        }
        for (k, v) in entries {
            guard case .string(let s) = v else {
                throw CheckpointError(path: path, "metadata '\(k)' is not a string")
            }
            metadata[k] = s
        }
    }

    /// The shape and data offsets of the header entry of tensor `name`, checked: an F32 tensor of a supported rank
    /// whose [begin, end] byte range lies within the `dataLength`-byte data section.
    private static func checkedEntry(_ name: String, _ value: JSONValue, dataLength: Int, path: String) throws
        -> (shape: [Int], offsets: [Int])
    {
        guard case .object(let fields) = value,
            case .string(let dtype)? = fields["dtype"],
            case .array(let shapeValues)? = fields["shape"],
            case .array(let offsetValues)? = fields["data_offsets"]
        else {
            throw CheckpointError(
                path: path, "tensor '\(name)': the header entry lacks dtype, shape or data_offsets")
        }
        let shape = try shapeValues.map { v -> Int in
            guard case .number(let n) = v, n >= 0, n == n.rounded(), n < 1e12 else {
                throw CheckpointError(
                    path: path, "tensor '\(name)': shape \(shapeValues) is not a list of non-negative integers")
            }
            return Int(n)
        }
        let offsets = try offsetValues.map { v -> Int in
            guard case .number(let n) = v, n >= 0, n == n.rounded(), n < 1e15 else {
                throw CheckpointError(
                    path: path, "tensor '\(name)': data_offsets are not two non-negative integers")
            }
            return Int(n)
        }
        guard dtype == "F32" else {
            throw CheckpointError(
                path: path, "tensor '\(name)': dtype \(dtype) is not supported (swift-tune reads F32)")
        }
        guard shape.count <= Shape.maxRank else {
            throw CheckpointError(
                path: path, "tensor '\(name)': rank \(shape.count) is above the supported \(Shape.maxRank)")
        }
        guard offsets.count == 2, offsets[0] <= offsets[1] else {
            throw CheckpointError(
                path: path, "tensor '\(name)': data_offsets \(offsets) are not a [begin, end] pair")
        }
        guard offsets[1] <= dataLength else {
            throw CheckpointError(
                path: path,
                "tensor '\(name)': bytes \(offsets[0])..<\(offsets[1]) lie beyond the \(dataLength)-byte data section: the file is truncated"
            )
        }
        return (shape, offsets)
    }

    /// The number of elements of tensor `name`'s `shape`, checked against the bytes its `offsets` span (4 per element)
    /// and, without overflow, against the `dataLength` bytes of the data section.
    private static func elementCount(_ name: String, shape: [Int], offsets: [Int], dataLength: Int, path: String)
        throws -> Int
    {
        var count = 1
        for extent in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow, product <= dataLength else {
                throw CheckpointError(
                    path: path, "tensor '\(name)': shape \(shape) holds more elements than the file has bytes")
            }
            count = product
        }
        guard offsets[1] - offsets[0] == count * 4 else {
            throw CheckpointError(
                path: path,
                "tensor '\(name)': shape \(shape) needs \(count * 4) bytes but data_offsets span \(offsets[1] - offsets[0])"
            )
        }
        return count
    }

    /// Checks that the tensors' byte `ranges` tile the `dataLength`-byte data section exactly: no overlap, no gap,
    /// nothing after the last.
    private static func checkTiling(_ ranges: [(name: String, begin: Int, end: Int)], dataLength: Int, path: String)
        throws
    {
        var expectedStart = 0
        for range in ranges.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard range.begin == expectedStart else {
                throw CheckpointError(
                    path: path,
                    "tensor '\(range.name)': bytes \(range.begin)..<\(range.end) \(range.begin < expectedStart ? "overlap another tensor" : "leave a gap after the previous tensor")"
                )
            }
            expectedStart = range.end
        }
        guard expectedStart == dataLength else {
            throw CheckpointError(
                path: path, "the data section has \(dataLength) bytes but the tensors cover \(expectedStart)")
        }
    }

    /// Checks what the JSON decoder would let pass: every top-level key appears once, and every number is a plain
    /// non-negative integer (shapes and offsets; metadata holds strings only).
    static func checkHeaderSyntax(_ header: Data, path: String) throws {
        var depth = 0, i = 0
        var keys = Set<String>()
        let bytes = [UInt8](header)
        // Not an object at all: the JSON decoder says so.
        guard bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == 0x7B else { return }
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x22 {
                // A string: find its end, then see whether it is a key of the top-level object.
                var j = i + 1
                while j < bytes.count && bytes[j] != 0x22 { j += bytes[j] == 0x5C ? 2 : 1 }
                guard j < bytes.count else { return }  // the decoder reports the broken string
                var k = j + 1
                while k < bytes.count && (bytes[k] == 0x20 || bytes[k] == 0x0A || bytes[k] == 0x0D || bytes[k] == 0x09)
                { k += 1 }
                if depth == 1 && k < bytes.count && bytes[k] == 0x3A {
                    let key = String(decoding: bytes[(i + 1)..<j], as: UTF8.self)
                    guard keys.insert(key).inserted else {
                        throw CheckpointError(path: path, "the header names '\(key)' twice")
                    }
                }
                i = j + 1
                continue
            }
            if b == 0x7B || b == 0x5B { depth += 1 } else if b == 0x7D || b == 0x5D { depth -= 1 }
            if b == 0x2D || b == 0x2E || b == 0x65 || b == 0x45 || b == 0x2B {
                if depth >= 2, i > 0, (bytes[i - 1] >= 0x30 && bytes[i - 1] <= 0x39) || b == 0x2D || b == 0x2E {
                    throw CheckpointError(path: path, "the header holds a number that is not a non-negative integer")
                }
            }
            i += 1
        }
    }
}
