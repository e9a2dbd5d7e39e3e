import AWSJSON
import AWSModels
import AWSPrimitives

/// rest-json: the REST binding (labels, query, headers, payload) with the JSON codec.
public struct RestJSONCodec: ProtocolCodec {
    let serializer: RESTSerializer
    let parser: RestJSONParser
    let operation: AWSModels.Operation
    let service: ServiceModel

    public init(operation: AWSModels.Operation, service: ServiceModel, options: CodecOptions) {
        serializer = RESTSerializer(operation: operation, format: .json, options: options)
        parser = RestJSONParser(options: options)
        self.operation = operation
        self.service = service
    }

    public func serialize(_ params: JSONObject) throws(SerializationError) -> SerializedRequest {
        var request = try serializer.serialize(params)
        // botocore's add_accept_header: API Gateway answers HAL+JSON without it.
        if service.name == "apigateway", !request.headers.contains(where: { $0.name.equalsIgnoringASCIICase("accept") }) {
            request.headers.append(("Accept", "application/json"))
        }
        // botocore's change_get_to_post: a CloudSearch search goes as a form POST, so that a
        // long query fits.
        if service.name == "cloudsearchdomain", operation.name == "Search", request.method == "GET", !request.query.isEmpty {
            request.method = "POST"
            request.body = Array(request.query.utf8)
            request.query = ""
            request.urlHasQueryMark = false
            request.headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        }
        return request
    }

    public func parse(_ response: ResponseData) -> Result<JSONObject, AWSErrorResponse> {
        parser.parse(response, operation: operation, model: service)
    }
}
