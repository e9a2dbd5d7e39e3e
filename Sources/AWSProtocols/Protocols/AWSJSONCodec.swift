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

    public func eventStreamOutput() -> EventStreamOutput? {
        guard let output = operation.output, let stream = output.members.first(where: { $0.shape.isEventStream }) else { return nil }
        let codec = self
        return EventStreamOutput(reader: EventStreamReader(stream: stream, payloads: JSONEventPayloads(json: json))) { _, initial in
            initial.map { codec.parseBody($0, output) } ?? JSONObject()
        }
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
        var result = JSONObject()
        let reader = EventStreamReader(stream: stream, payloads: JSONEventPayloads(json: json))
        let events = reader.readAll(response.body, status: response.status, requestId: response.header("x-amzn-RequestId")) { item in
            if case .initialResponse(let payload) = item { result = parseBody(payload, output) }
        }
        return events.map { events in
            result[stream.name] = .array(events)
            return result
        }
    }

    /// The body as the given structure (the output, or a modeled error).
    func parseBody(_ body: [UInt8], _ shape: Shape) -> JSONObject {
        if case .object(let parsed)? = json.parseBody(body, as: shape) { return parsed }
        guard let value = json.parseBodyJSON(body), case .object(let parsed)? = json.parseValue(value, shape) else { return JSONObject() }
        return parsed
    }
}
