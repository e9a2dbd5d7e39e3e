import AWSJSON
import AWSModels
import AWSPrimitives

/// rest-json: the REST binding (labels, query, headers, payload) with the JSON codec.
public struct RestJSONCodec: ProtocolCodec {
    let serializer: RESTSerializer
    let parser: RestJSONParser
    let operation: AWSModels.Operation
    let service: ServiceModel
    let customization: any ProtocolCustomization

    public init(operation: AWSModels.Operation, service: ServiceModel, options: CodecOptions,
                customization: any ProtocolCustomization = NoProtocolCustomization()) {
        serializer = RESTSerializer(operation: operation, payload: RESTJSONPayload(options: options), options: options)
        parser = RestJSONParser(options: options)
        self.operation = operation
        self.service = service
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
        let parser = self.parser
        let reader = EventStreamReader(stream: stream, payloads: JSONEventPayloads(json: parser.json))
        return EventStreamOutput(reader: reader) { head, _ in
            var result = JSONObject()
            RESTResponseBinding(results: parser.json.results).bind(head, output, into: &result)
            return result
        }
    }

    public func parse(_ response: ResponseData) -> Result<JSONObject, AWSErrorResponse> {
        parser.parse(response, operation: operation, model: service).map { customization.result($0, response: response, operation: operation) }
    }
}
