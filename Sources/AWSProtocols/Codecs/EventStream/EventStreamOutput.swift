import AWSJSON
import AWSModels

/// How an operation's event-stream answer is read as it arrives: the events by `reader`,
/// the output's other members by `result` once the stream ended (from the answer's head
/// on REST protocols, from the `initial-response` event on json and CBOR).
public struct EventStreamOutput: Sendable {
    public let reader: EventStreamReader
    let otherMembers: @Sendable (_ head: ResponseData, _ initialResponse: [UInt8]?) -> JSONObject

    init(reader: EventStreamReader, otherMembers: @escaping @Sendable (_ head: ResponseData, _ initialResponse: [UInt8]?) -> JSONObject) {
        self.reader = reader
        self.otherMembers = otherMembers
    }

    /// The output's members other than the stream.
    public func result(head: ResponseData, initialResponse: [UInt8]?) -> JSONObject { otherMembers(head, initialResponse) }
}

extension ProtocolCodec {
    /// nil: the operation's answer is not an event stream (or its protocol reads none).
    public func eventStreamOutput() -> EventStreamOutput? { nil }
}

/// An event stream's bytes as they arrive, cut into whole messages (lengths and both
/// CRCs checked): botocore's `EventStreamBuffer`.
public struct EventStreamBuffer: Sendable {
    private var bytes: [UInt8] = []
    private var start = 0
    /// AWS's largest message: a longer prelude is a broken stream, not a reason to buffer.
    static let maxMessageBytes = 16 << 20

    public init() {}

    public mutating func append(_ data: [UInt8]) {
        if start > 0 && start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
        bytes.append(contentsOf: data)
    }

    /// Bytes of a message not complete yet.
    public var pending: Int { bytes.count - start }

    /// The next whole message, or nil until more bytes come.
    public mutating func next() throws(EventStreamDecoder.Malformed) -> EventStreamMessage? {
        guard pending >= 12 else { return nil }
        let total = Int(EventStreamDecoder.readUInt32(bytes, start))
        guard total >= 16, total <= Self.maxMessageBytes else {
            throw EventStreamDecoder.Malformed(description: "event stream message of \(total) bytes is impossible")
        }
        // A prelude is checked as soon as it is here (as botocore does): a corrupted length
        // must not leave the stream waiting for bytes that will never come.
        guard CRC32.checksum(bytes[start..<(start + 8)]) == EventStreamDecoder.readUInt32(bytes, start + 8) else {
            throw EventStreamDecoder.Malformed(description: "event stream prelude checksum mismatch")
        }
        guard pending >= total else { return nil }
        let message = try EventStreamDecoder.message(bytes, at: start)
        start += total
        if start > 1 << 16, start * 2 > bytes.count {
            bytes.removeFirst(start)
            start = 0
        }
        return message
    }
}
