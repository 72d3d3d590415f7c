import Foundation

/// CRC-32C (Castagnoli), the checksum of TFRecord framing, and TensorFlow's masked form of it.
public enum CRC32C {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC-32C of `bytes`.
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// TensorFlow's masked CRC: rotate right by 15 and add a constant, so that CRCs of CRCs stay well distributed.
    public static func masked<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}

/// TFRecord files: each record is `length` (u64 little-endian), the masked CRC-32C of those 8 bytes, the data, and
/// the masked CRC-32C of the data. TensorBoard event files are TFRecord files of `Event` messages.
public enum TFRecord {
    /// A problem with a record file, naming the file and the byte offset.
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public let path: String
        public let offset: Int
        public let message: String
        public var description: String { "\(path) (byte \(offset)): \(message)" }
    }

    /// The records of `data`. A record cut short at the end of the file (a writer still at work) ends the list
    /// without error; a checksum that does not match is a `Problem`.
    public static func records(_ data: Data, path: String) throws -> [Data] {
        var records: [Data] = []
        var offset = 0
        let bytes = [UInt8](data)
        while offset + 12 <= bytes.count {
            let header = bytes[offset..<(offset + 8)]
            let length = header.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            let headerCRC = read32(bytes, offset + 8)
            guard CRC32C.masked(header) == headerCRC else {
                throw Problem(
                    path: path, offset: offset,
                    message:
                        "the length of a record fails its checksum: the file is corrupt or not a TFRecord/event file")
            }
            let start = offset + 12
            guard length <= UInt64(bytes.count), start + Int(length) + 4 <= bytes.count else { break }  // cut short
            let end = start + Int(length)
            let body = bytes[start..<end]
            guard CRC32C.masked(body) == read32(bytes, end) else {
                throw Problem(
                    path: path, offset: start, message: "a record's data fails its checksum: the file is corrupt")
            }
            records.append(Data(body))
            offset = end + 4
        }
        return records
    }

    /// `records` framed as a TFRecord file.
    public static func encode(_ records: [Data]) -> Data {
        records.reduce(into: Data()) { $0 += frame($1) }
    }

    private static func read32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
}
