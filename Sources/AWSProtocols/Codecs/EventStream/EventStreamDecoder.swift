import AWSJSON
import CZlib
import AWSModels

/// AWS's binary event-stream framing (`application/vnd.amazon.eventstream`): each message
/// is a prelude (total length, headers length, CRC32), headers, a payload and a CRC32 of
/// it all. The gateway reads a whole stream and answers it as a list of events.
public struct EventStreamMessage: Sendable {
    public var headers: [String: String]
    public var payload: [UInt8]
}

public enum EventStreamDecoder {
    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Every message of a stream, checking lengths and both CRCs; a stream cut short or
    /// corrupted is an error, never a crash.
    public static func messages(_ bytes: [UInt8]) throws(Malformed) -> [EventStreamMessage] {
        var messages: [EventStreamMessage] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 16 else { throw Malformed(description: "event stream cut short at byte \(offset)") }
            let message = try message(bytes, at: offset)
            offset += Int(readUInt32(bytes, offset))
            messages.append(message)
        }
        return messages
    }

    /// The message at `offset` (its prelude there), its lengths and both CRCs checked.
    static func message(_ bytes: [UInt8], at offset: Int) throws(Malformed) -> EventStreamMessage {
        let total = Int(readUInt32(bytes, offset))
        let headersLength = Int(readUInt32(bytes, offset + 4))
        guard total >= 16, headersLength <= total - 16, total <= bytes.count - offset else {
            throw Malformed(description: "event stream message at byte \(offset) has impossible lengths")
        }
        guard CRC32.checksum(bytes[offset..<(offset + 8)]) == readUInt32(bytes, offset + 8) else {
            throw Malformed(description: "event stream prelude checksum mismatch at byte \(offset)")
        }
        guard CRC32.checksum(bytes[offset..<(offset + total - 4)]) == readUInt32(bytes, offset + total - 4) else {
            throw Malformed(description: "event stream message checksum mismatch at byte \(offset)")
        }
        let headers = try parseHeaders(bytes[(offset + 12)..<(offset + 12 + headersLength)])
        let payload = Array(bytes[(offset + 12 + headersLength)..<(offset + total - 4)])
        return EventStreamMessage(headers: headers, payload: payload)
    }

    static func readUInt32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }

    /// Header values as text: strings as they are, other types in a readable form.
    static func parseHeaders(_ bytes: ArraySlice<UInt8>) throws(Malformed) -> [String: String] {
        var headers: [String: String] = [:]
        var i = bytes.startIndex
        func need(_ n: Int) throws(Malformed) {
            guard bytes.endIndex - i >= n else { throw Malformed(description: "event stream header cut short") }
        }
        func integer(_ n: Int) throws(Malformed) -> Int64 {
            try need(n)
            var value: UInt64 = 0
            for k in 0..<n { value = value << 8 | UInt64(bytes[i + k]) }
            i += n
            // Sign-extend from n bytes.
            let shift = UInt64(64 - 8 * n)
            return Int64(bitPattern: value << shift) >> Int64(shift)
        }
        while i < bytes.endIndex {
            try need(1)
            let nameLength = Int(bytes[i])
            i += 1
            try need(nameLength + 1)
            let name = String(decoding: bytes[i..<(i + nameLength)], as: UTF8.self)
            i += nameLength
            let type = bytes[i]
            i += 1
            let value: String
            switch type {
            case 0: value = "true"
            case 1: value = "false"
            case 2: value = String(try integer(1))
            case 3: value = String(try integer(2))
            case 4: value = String(try integer(4))
            case 5, 8: value = String(try integer(8))
            case 6, 7:
                let length = Int(try integer(2) & 0xFFFF)
                try need(length)
                let raw = bytes[i..<(i + length)]
                value = type == 7 ? String(decoding: raw, as: UTF8.self) : Base64.encode(Array(raw))
                i += length
            case 9:
                try need(16)
                value = bytes[i..<(i + 16)].map { String($0, radix: 16) }.joined()
                i += 16
            default:
                throw Malformed(description: "event stream header \(name) has unknown type \(type)")
            }
            headers[name] = value
        }
        return headers
    }
}

/// CRC-32 (IEEE), zlib's own: for event streams, DynamoDB's `x-amz-crc32` and flexible
/// checksums.
public enum CRC32 {
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { checksum($0) }
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { checksum($0) }
    }

    static func checksum(_ buffer: UnsafeBufferPointer<UInt8>) -> UInt32 {
        guard let base = buffer.baseAddress else { return 0 }
        var crc: UInt = 0
        var offset = 0
        // zlib takes a 32-bit length: feed a huge buffer in parts.
        while offset < buffer.count {
            let count = min(buffer.count - offset, Int(UInt32.max))
            crc = crc32(crc, base + offset, UInt32(count))
            offset += count
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}
