import AWSJSON
import AWSModels

/// json (awsJson1_0, awsJson1_1): an RPC binding (`POST /`, `X-Amz-Target:
/// <targetPrefix>.<Operation>`, `Content-Type: application/x-amz-json-<jsonVersion>`)
/// with the JSON codec, as botocore's JSONSerializer and JSONParser.
public struct AWSJSONCodec: ProtocolCodec {
    let operation: AWSModels.Operation
    let service: ServiceModel
    let json: JSONValueCodec
    /// Headers every request of this operation carries, in botocore's order.
    let headers: [(name: String, value: String)]
    let customization: any ProtocolCustomization

    public init(operation: AWSModels.Operation, service: ServiceModel, options: CodecOptions,
                customization: any ProtocolCustomization = NoProtocolCustomization()) {
        self.customization = customization
        self.operation = operation
        self.service = service
        json = JSONValueCodec(options: options)
        var headers: [(name: String, value: String)] = [
            ("X-Amz-Target", (service.metadata.targetPrefix ?? "") + "." + operation.name),
            ("Content-Type", "application/x-amz-json-" + (service.metadata.jsonVersion ?? "1.0")),
        ]
        // Services that moved from query say so, so that AWS answers query-style codes.
        if service.metadata.awsQueryCompatible { headers.append(("x-amzn-query-mode", "true")) }
        self.headers = headers
    }

    public func serialize(_ params: JSONObject) throws(SerializationError) -> SerializedRequest {
        let body = operation.input.map { json.body(params, $0) } ?? Array("{}".utf8)
        return SerializedRequest(method: operation.httpMethod.isEmpty ? "POST" : operation.httpMethod, path: "/", query: "", headers: headers,
                                 body: body, hostPrefix: try HostPrefix.expand(operation, params))
    }

    public func parse(_ response: ResponseData) -> Result<JSONObject, AWSErrorResponse> {
        if let refusal = customization.refusal(of: response) { return .failure(refusal) }
        if response.status >= 301 {
            return .failure(JSONErrorParser(readsErrorTypeHeader: false).parse(response, model: service) { shape in self.parseBody(response.body, shape) })
        }
        guard let output = operation.output else { return .success(JSONObject()) }
        if let stream = output.members.first(where: { $0.shape.isEventStream }) {
            return parseEventStream(response, output: output, stream: stream)
        }
        return .success(parseBody(response.body, output))
    }

    /// An event-stream answer (botocore's EventStreamJSONParser), read whole: the
    /// `initial-response` event gives the other members, each further event one entry of
    /// the stream member's list (`{"EventType": {...}}`); an error event is the error.
    func parseEventStream(_ response: ResponseData, output: Shape, stream: Member) -> Result<JSONObject, AWSErrorResponse> {
        let messages: [EventStreamMessage]
        do {
            messages = try EventStreamDecoder.messages(response.body)
        } catch {
            return .failure(AWSErrorResponse(code: "MalformedEventStream", message: error.description, httpStatus: response.status,
                                             requestId: response.header("x-amzn-RequestId"), shape: nil, fields: JSONObject()))
        }
        var result = JSONObject()
        var events: [JSON] = []
        for message in messages {
            switch message.headers[":message-type"] {
            case "event" where message.headers[":event-type"] == "initial-response":
                result = parseBody(message.payload, output)
            case "event":
                guard let type = message.headers[":event-type"], let eventMember = stream.shape.member(named: type) else { continue }
                events.append(.object(JSONObject([(type, .object(parseEvent(message, eventMember.shape)))])))
            case "exception":
                let type = message.headers[":exception-type"] ?? ""
                let shape = stream.shape.member(named: type)?.shape
                let fields = shape.map { parseBody(message.payload, $0) } ?? JSONObject()
                return .failure(AWSErrorResponse(code: type, message: fields["Message"]?.stringValue ?? fields["message"]?.stringValue ?? "",
                                                 httpStatus: response.status, requestId: response.header("x-amzn-RequestId"), shape: shape,
                                                 fields: fields))
            default:
                return .failure(AWSErrorResponse(code: message.headers[":error-code"] ?? "", message: message.headers[":error-message"] ?? "",
                                                 httpStatus: response.status, requestId: response.header("x-amzn-RequestId"), shape: nil,
                                                 fields: JSONObject()))
            }
        }
        result[stream.name] = .array(events)
        return .success(result)
    }

    /// One event: its payload member (blob, string or structure), else its members from
    /// the JSON payload; header members from the message headers.
    func parseEvent(_ message: EventStreamMessage, _ shape: Shape) -> JSONObject {
        var event = JSONObject()
        for member in shape.members where member.isEventHeader {
            if let text = message.headers[member.name] { event[member.name] = .string(text) }
        }
        if let payload = shape.members.first(where: \.eventPayload) {
            switch payload.shape.type {
            case .blob: event[payload.name] = json.results.blob(message.payload)
            case .string: event[payload.name] = .string(String(decoding: message.payload, as: UTF8.self))
            default:
                if let value = json.parseBodyJSON(message.payload), let parsed = json.parseValue(value, payload.shape) { event[payload.name] = parsed }
            }
            return event
        }
        for member in parseBody(message.payload, shape).members { event[member.key] = member.value }
        return event
    }

    /// The body as the given structure (the output, or a modeled error).
    func parseBody(_ body: [UInt8], _ shape: Shape) -> JSONObject {
        if case .object(let parsed)? = json.parseBody(body, as: shape) { return parsed }
        guard let value = json.parseBodyJSON(body), case .object(let parsed)? = json.parseValue(value, shape) else { return JSONObject() }
        return parsed
    }
}
