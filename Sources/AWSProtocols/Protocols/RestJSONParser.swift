import AWSJSON
import AWSModels

/// The rest-json response parser (botocore's RestJSONParser): the REST binding's
/// status and headers, then a JSON body.
public struct RestJSONParser: Sendable {
    public let options: CodecOptions
    let json: JSONValueCodec

    public init(options: CodecOptions = CodecOptions()) {
        self.options = options
        json = JSONValueCodec(options: options)
    }

    /// Parses a response: the output structure on success, an error otherwise.
    public func parse(_ response: ResponseData, operation: AWSModels.Operation, model: ServiceModel) -> Result<JSONObject, AWSErrorResponse> {
        if response.status >= 301 {
            return .failure(parseError(response, model: model))
        }
        if let output = operation.output, let payloadName = operation.outputPayload ?? output.payload,
           let stream = output.member(named: payloadName), stream.shape.isEventStream {
            return parseEventStream(response, output: output, stream: stream)
        }
        return .success(parseOutput(response, shape: operation.output, payload: operation.outputPayload))
    }

    /// An event-stream payload (Bedrock's `ConverseStream`, Lambda's
    /// `InvokeWithResponseStream`), read whole: the status and header members, then each
    /// event one `{"EventType": {...}}` entry of the payload member's list; an exception
    /// event is the error.
    func parseEventStream(_ response: ResponseData, output: Shape, stream: Member) -> Result<JSONObject, AWSErrorResponse> {
        var result = JSONObject()
        RESTResponseBinding(results: json.results).bind(response, output, into: &result)
        let reader = EventStreamReader(stream: stream, payloads: JSONEventPayloads(json: json))
        return reader.readAll(response.body, status: response.status, requestId: response.header("x-amzn-RequestId")).map { events in
            result.append(stream.name, .array(events))
            return result
        }
    }

    public func parseOutput(_ response: ResponseData, shape: Shape?, payload: String? = nil) -> JSONObject {
        guard let shape else { return JSONObject() }
        var result = JSONObject()
        RESTResponseBinding(results: json.results).bind(response, shape, into: &result)
        // The body: one payload member, or the members without a location.
        if let payloadName = payload ?? shape.payload, let payload = shape.member(named: payloadName) {
            if payload.shape.type == .blob {
                result.append(payloadName, json.results.blob(response.body))
            } else if payload.shape.type == .string {
                result.append(payloadName, .string(String(decoding: response.body, as: UTF8.self)))
            } else if let body = json.parseBodyJSON(response.body), let value = json.parseValue(body, payload.shape) {
                result.append(payloadName, value)
            }
        } else if case .object(let parsed)? = json.parseBody(response.body, as: shape) {
            for member in parsed.members { result.append(member.key, member.value) }
        } else if let body = json.parseBodyJSON(response.body), case .object(let object) = body {
            json.parseMembers(object, shape, into: &result)
        }
        return result
    }

    public func parseError(_ response: ResponseData, model: ServiceModel) -> AWSErrorResponse {
        JSONErrorParser(readsErrorTypeHeader: true).parse(response, model: model) { shape in self.parseOutput(response, shape: shape) }
    }
}
