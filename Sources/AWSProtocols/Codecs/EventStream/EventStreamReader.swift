import AWSJSON
import AWSModels
import AWSPrimitives

/// How a protocol reads an event's payload: JSON for json, rest-json and the like, XML for
/// rest-xml (S3's `SelectObjectContent`).
protocol EventPayloadParser: Sendable {
    /// The payload as the members of `shape` (an event, or a modeled exception).
    func structure(_ payload: [UInt8], _ shape: Shape) -> JSONObject
    /// The payload as the value of an `eventpayload` member of `shape`'s type.
    func value(_ payload: [UInt8], _ shape: Shape) -> JSON?
    /// How results write blobs and timestamps.
    var results: ResultValues { get }
}

/// One message of an event stream, read as botocore's `EventStream` with its
/// `BaseEventStreamParser` reads it.
public enum StreamItem: Sendable {
    /// An event: `{"<EventType>": {...}}`.
    case event(JSONObject)
    /// The `initial-response` of the json and CBOR protocols: the output's other members.
    case initialResponse([UInt8])
    /// A message botocore drops (an event type the model does not know).
    case skipped
    /// An exception or error message: the error that ends the stream.
    case failure(AWSErrorResponse)
}

/// Reads the messages of one event-stream member (`stream`, the union of its events and
/// exceptions) with a protocol's payload parser.
public struct EventStreamReader: Sendable {
    public let stream: Member
    let payloads: any EventPayloadParser

    init(stream: Member, payloads: any EventPayloadParser) {
        self.stream = stream
        self.payloads = payloads
    }

    /// The item a message is: `status` and `requestId` are the HTTP answer's (an error
    /// event's `-32010` names them).
    public func read(_ message: EventStreamMessage, status: Int, requestId: String?) -> StreamItem {
        switch message.headers[":message-type"] {
        case "exception":
            let type = message.headers[":exception-type"] ?? ""
            let shape = stream.shape.member(named: type)?.shape
            let fields = shape.map { payloads.structure(message.payload, $0) } ?? JSONObject()
            var error = AWSErrorResponse(code: type, message: fields["Message"]?.stringValue ?? fields["message"]?.stringValue ?? "",
                                         httpStatus: status, requestId: requestId, shape: shape, fields: fields)
            error.inStream = true
            return .failure(error)
        case "error":
            var error = AWSErrorResponse(code: message.headers[":error-code"] ?? "", message: message.headers[":error-message"] ?? "",
                                         httpStatus: status, requestId: requestId, shape: nil, fields: JSONObject())
            error.inStream = true
            return .failure(error)
        default:
            guard let type = message.headers[":event-type"] else { return .skipped }
            guard let member = stream.shape.member(named: type) else {
                return type == "initial-response" ? .initialResponse(message.payload) : .skipped
            }
            return .event(JSONObject([(type, .object(event(message, member.shape)))]))
        }
    }

    /// One event: header members from the message's headers, then the payload member (a
    /// blob or string as it is, else parsed), or the event's members from the payload.
    func event(_ message: EventStreamMessage, _ shape: Shape) -> JSONObject {
        var event = JSONObject()
        for member in shape.members where member.isEventHeader {
            if let text = message.headers[member.name], let value = headerValue(text, member.shape) { event.append(member.name, value) }
        }
        if let payload = shape.members.first(where: \.eventPayload) {
            switch payload.shape.type {
            case .blob: event.append(payload.name, payloads.results.blob(message.payload))
            case .string: event.append(payload.name, .string(String(decoding: message.payload, as: UTF8.self)))
            default: if let value = payloads.value(message.payload, payload.shape) { event.append(payload.name, value) }
            }
            return event
        }
        for member in payloads.structure(message.payload, shape).members where event[member.key] == nil {
            event.append(member.key, member.value)
        }
        return event
    }

    /// A header's value (text from the decoder) in its member's type; event-stream
    /// timestamps are milliseconds.
    func headerValue(_ text: String, _ shape: Shape) -> JSON? {
        switch shape.type {
        case .boolean: return .bool(text == "true")
        case .integer, .long: return Int64(text).map(JSON.int)
        case .timestamp:
            guard let milliseconds = Int64(text) else { return nil }
            return payloads.results.timestamp(Timestamp(seconds: milliseconds / 1000, microseconds: Int((milliseconds % 1000) * 1000)))
        case .blob: return payloads.results.blob(Base64.decode(text) ?? [])
        default: return .string(text)
        }
    }

    /// A whole stream's messages as the stream member's list of events, with the items
    /// the protocol reads otherwise (an `initial-response`) given to `other`; the first
    /// exception or error ends it, as it ends botocore's iteration.
    public func readAll(_ body: [UInt8], status: Int, requestId: String?,
                        other: (StreamItem) -> Void = { _ in }) -> Result<[JSON], AWSErrorResponse> {
        let messages: [EventStreamMessage]
        do {
            messages = try EventStreamDecoder.messages(body)
        } catch {
            return .failure(AWSErrorResponse.brokenStream(error.description, status: status, requestId: requestId))
        }
        var events: [JSON] = []
        for message in messages {
            switch read(message, status: status, requestId: requestId) {
            case .event(let event): events.append(.object(event))
            case .failure(let error): return .failure(error)
            case let item: other(item)
            }
        }
        return .success(events)
    }
}

extension AWSErrorResponse {
    /// The code of a stream that broke (a bad CRC, cut short): the gateway answers it as
    /// AWS not reachable (-32011), naming why.
    public static let brokenStreamCode = "MalformedEventStream"

    static func brokenStream(_ why: String, status: Int, requestId: String?) -> AWSErrorResponse {
        var error = AWSErrorResponse(code: brokenStreamCode, message: why, httpStatus: status, requestId: requestId, shape: nil, fields: JSONObject())
        error.inStream = true
        return error
    }
}
