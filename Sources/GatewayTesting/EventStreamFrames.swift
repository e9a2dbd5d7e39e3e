import AWSProtocols

/// AWS's event-stream framing, written: what a stand-in for Bedrock or Kinesis sends.
package enum EventStreamFrames {
    /// One message with string headers (`:message-type`, `:event-type`, ...) and a payload.
    package static func message(_ headers: [(String, String)], _ payload: [UInt8]) -> [UInt8] {
        var encodedHeaders: [UInt8] = []
        for (name, value) in headers {
            encodedHeaders.append(UInt8(name.utf8.count))
            encodedHeaders += Array(name.utf8)
            encodedHeaders.append(7)
            encodedHeaders += bigEndian(UInt32(value.utf8.count)).suffix(2)
            encodedHeaders += Array(value.utf8)
        }
        let total = UInt32(16 + encodedHeaders.count + payload.count)
        var bytes = bigEndian(total) + bigEndian(UInt32(encodedHeaders.count))
        bytes += bigEndian(CRC32.checksum(bytes))
        bytes += encodedHeaders + payload
        return bytes + bigEndian(CRC32.checksum(bytes))
    }

    /// An event of type `type` with a JSON payload.
    package static func event(_ type: String, json: String) -> [UInt8] {
        message([(":message-type", "event"), (":event-type", type), (":content-type", "application/json")], Array(json.utf8))
    }

    /// A modeled exception event.
    package static func exception(_ type: String, json: String) -> [UInt8] {
        message([(":message-type", "exception"), (":exception-type", type), (":content-type", "application/json")], Array(json.utf8))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}

extension EventStreamFrames {
    /// A Bedrock `ConverseStream` answer's events, as the model sends them.
    package static let converseStream: [[UInt8]] = [
        event("messageStart", json: #"{"role":"assistant"}"#),
        event("contentBlockDelta", json: #"{"contentBlockIndex":0,"delta":{"text":"Hel"}}"#),
        event("contentBlockDelta", json: #"{"contentBlockIndex":0,"delta":{"text":"lo"}}"#),
        event("messageStop", json: #"{"stopReason":"end_turn"}"#),
        event("metadata", json: #"{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3},"metrics":{"latencyMs":5}}"#),
    ]
}

extension FakeAWS {
    /// An event-stream answer: the first frame, then (once `gate` opens) the rest cut in
    /// 7-byte pieces, so that messages arrive split across reads; the frame at `hold.at`
    /// also waits for `hold.gate`.
    package static func eventStream(_ frames: [[UInt8]], gate: Gate?, hold: (at: Int, gate: Gate)? = nil) -> Script {
        var pieces = [Piece(frames[0])]
        for (index, frame) in frames.enumerated().dropFirst() {
            for start in stride(from: 0, to: frame.count, by: 7) {
                let after = start > 0 ? nil : index == 1 ? gate : index == hold?.at ? hold?.gate : nil
                pieces.append(Piece(Array(frame[start..<min(start + 7, frame.count)]), after: after))
            }
        }
        let body = pieces
        return { _, _ in
            .stream(status: 200, headers: [("Content-Type", "application/vnd.amazon.eventstream"), ("x-amzn-RequestId", "req-stream")], pieces: body)
        }
    }
}
