import AWSJSON
import AWSModels

/// rest-xml (S3, S3 Control, Route 53, CloudFront): the REST binding with XML bodies,
/// as botocore's RestXMLSerializer and RestXMLParser. Errors come as
/// `ErrorResponse/Error` or as S3's bare `<Error>`; the request id from
/// `x-amzn-RequestId` or `x-amz-request-id`.
public struct RestXMLCodec: ProtocolCodec {
    let serializer: RESTSerializer
    let operation: AWSModels.Operation
    let service: ServiceModel
    let results: ResultValues
    let xml: XMLValueReader
    let customization: any ProtocolCustomization

    public init(operation: AWSModels.Operation, service: ServiceModel, options: CodecOptions,
                customization: any ProtocolCustomization = NoProtocolCustomization()) {
        serializer = RESTSerializer(operation: operation, payload: RESTXMLPayload(options: options), options: options)
        self.operation = operation
        self.service = service
        results = ResultValues(options: options)
        xml = XMLValueReader(results: results)
        self.customization = customization
    }

    public func serialize(_ params: JSONObject) throws(SerializationError) -> SerializedRequest {
        var request = try serializer.serialize(customization.paramsToWrite(params, operation: operation))
        customization.written(&request, operation: operation)
        return request
    }

    public func eventStreamOutput() -> EventStreamOutput? {
        guard let output = operation.output, let payloadName = operation.outputPayload ?? output.payload,
              let stream = output.member(named: payloadName), stream.shape.isEventStream else { return nil }
        let results = self.results
        let reader = EventStreamReader(stream: stream, payloads: XMLEventPayloads(xml: xml))
        return EventStreamOutput(reader: reader) { head, _ in
            var result = JSONObject()
            RESTResponseBinding(results: results).bind(head, output, into: &result)
            return result
        }
    }

    public func parse(_ response: ResponseData) -> Result<JSONObject, AWSErrorResponse> {
        var response = response
        // S3's `_handle_200_error` reads the document first: parsed once, kept for the output.
        var document: XMLElementTable?
        if customization.mayHideErrorIn200(response, operation: operation) {
            document = try? XMLElementTable.parse(response.body)
            // An <Error> (or a body cut short) inside a 200 is treated as a 500, retried like one.
            if document == nil || document?.nameString(0) == "Error" { response.status = 500 }
        }
        if response.status >= 301 { return .failure(parseError(response)) }
        guard let output = operation.output else { return .success(JSONObject()) }
        if let payloadName = operation.outputPayload ?? output.payload, let stream = output.member(named: payloadName), stream.shape.isEventStream {
            return parseEventStream(response, output: output, stream: stream)
        }
        do {
            let result = try parseOutput(response, output, payload: operation.outputPayload, document: document)
            return .success(customization.result(result, response: response, operation: operation))
        } catch {
            return .failure(AWSErrorResponse(code: String(response.status), message: "the answer is not valid XML: \(error.description)",
                                             httpStatus: response.status, requestId: RestXMLCodec.requestId(response), shape: nil,
                                             fields: JSONObject()))
        }
    }

    /// Status and header members, then the body: a blob or string payload as it is,
    /// another payload member from the root element, else the members under the root.
    func parseOutput(_ response: ResponseData, _ shape: Shape, payload: String?, document: XMLElementTable? = nil) throws(XMLError) -> JSONObject {
        var result = JSONObject()
        RESTResponseBinding(results: results).bind(response, shape, into: &result)
        if let payloadName = payload ?? shape.payload, let member = shape.member(named: payloadName) {
            switch member.shape.type {
            case .blob: result.append(payloadName, results.blob(response.body))
            case .string: result.append(payloadName, .string(String(decoding: response.body, as: UTF8.self)))
            default:
                let value = try RestXMLCodec.document(response.body, parsed: document).map { xml.value($0, element: 0, member.shape) }
                    ?? xml.parseValue(XMLElement(name: ""), member.shape)
                if let value { result.append(payloadName, value) }
            }
        } else if let table = try RestXMLCodec.document(response.body, parsed: document),
                  let body = xml.structureMembers(table, element: 0, shape) {
            for member in body.members { result.append(member.key, member.value) }
        }
        return result
    }

    /// An event-stream payload (S3 `SelectObjectContent`, botocore's EventStreamXMLParser),
    /// read whole: the status and header members, then each event one `{"EventType": {...}}`
    /// entry of the payload member's list; an exception event is the error.
    func parseEventStream(_ response: ResponseData, output: Shape, stream: Member) -> Result<JSONObject, AWSErrorResponse> {
        var result = JSONObject()
        RESTResponseBinding(results: results).bind(response, output, into: &result)
        let reader = EventStreamReader(stream: stream, payloads: XMLEventPayloads(xml: xml))
        return reader.readAll(response.body, status: response.status, requestId: RestXMLCodec.requestId(response)).map { events in
            result.append(stream.name, .array(events))
            return result
        }
    }

    /// The body's document; nil for a body of only whitespace, which botocore reads as an
    /// empty element (so a structure without members).
    static func document(_ body: [UInt8], parsed: XMLElementTable? = nil) throws(XMLError) -> XMLElementTable? {
        if let parsed { return parsed }
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return nil }
        return try XMLElementTable.parse(body)
    }

    static func requestId(_ response: ResponseData) -> String? {
        response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id")
    }

    /// botocore's `_do_error_parse`: the code and message from the body when it is XML,
    /// else the status and its reason phrase; the modeled error's members from the headers
    /// and the `Error` element.
    func parseError(_ response: ResponseData) -> AWSErrorResponse {
        var code = String(response.status)
        var message = pythonHTTPReason(response.status)
        var requestId = response.header("x-amz-request-id")
        var errorNode: XMLElement?
        if !response.body.isEmpty, let root = try? XMLDocument.parse(response.body) {
            if root.name == "Error" {
                errorNode = root
                requestId = RestXMLCodec.requestId(response)
            } else {
                errorNode = root.children.first { $0.name == "Error" }
                requestId = root.children.first { $0.name == "RequestId" }?.text ?? requestId
            }
            code = errorNode?.children.first { $0.name == "Code" }?.text ?? ""
            message = errorNode?.children.first { $0.name == "Message" }?.text ?? ""
        }
        let shape = service.errorShapesByCode[code]
        var fields = JSONObject()
        if let shape {
            RESTResponseBinding(results: results).bind(response, shape, into: &fields)
            if let errorNode, let parsed = xml.parseStructure(errorNode, shape) {
                for member in parsed.members { fields.append(member.key, member.value) }
            }
        }
        return AWSErrorResponse(code: code, message: message, httpStatus: response.status, requestId: requestId, shape: shape, fields: fields)
    }
}
