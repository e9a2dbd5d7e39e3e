import AWSJSON
import AWSModels

/// query and ec2: an RPC binding (`POST /`, a form body with `Action` and `Version`) with
/// the form codec in and the XML codec out, as botocore's QuerySerializer/EC2Serializer
/// and QueryParser/EC2QueryParser. ec2 differs in its names (`queryName`, else the
/// capitalized `locationName`), lists (always `Name.N`), answers (no result wrapper) and
/// errors (`Response/Errors/Error`).
public struct QueryCodec: ProtocolCodec {
    let operation: AWSModels.Operation
    let service: ServiceModel
    let isEC2: Bool
    let options: CodecOptions
    let results: ResultValues
    let xml: XMLValueReader
    /// The element the result is wrapped in (query), nil for ec2.
    let resultWrapper: String?
    let customization: any ProtocolCustomization

    public init(operation: AWSModels.Operation, service: ServiceModel, options: CodecOptions, isEC2: Bool, resultWrapper: String? = nil,
                customization: any ProtocolCustomization = NoProtocolCustomization()) {
        self.customization = customization
        self.operation = operation
        self.service = service
        self.isEC2 = isEC2
        self.options = options
        results = ResultValues(options: options)
        xml = XMLValueReader(results: results)
        self.resultWrapper = isEC2 ? nil : (resultWrapper ?? operation.outputResultWrapper)
    }

    // MARK: Request: the form body

    public func serialize(_ params: JSONObject) throws(SerializationError) -> SerializedRequest {
        var form = FormBody()
        form.set("Action", operation.name)
        form.set("Version", service.metadata.apiVersion)
        let params = customization.paramsToWrite(params, operation: operation)
        if let input = operation.input {
            var writer = FormWriter(isEC2: isEC2, options: options, form: form)
            form = FormBody()
            ShapeWalker.visit(.object(params), input, &writer)
            form = writer.form
        }
        return SerializedRequest(method: operation.httpMethod.isEmpty ? "POST" : operation.httpMethod, path: "/", query: "",
                                 headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                 body: form.encoded(), hostPrefix: try HostPrefix.expand(operation, params))
    }

    // MARK: Answer: XML

    public func parse(_ response: ResponseData) -> Result<JSONObject, AWSErrorResponse> {
        if response.status >= 301 { return .failure(parseError(response)) }
        guard let output = operation.output else { return .success(JSONObject()) }
        // An answer with no body has nothing to parse (botocore returns an empty result).
        if response.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .success(JSONObject()) }
        let table: XMLElementTable
        do {
            table = try XMLElementTable.parse(response.body)
        } catch {
            return .failure(AWSErrorResponse(code: String(response.status), message: "the answer is not valid XML: \(error.description)",
                                             httpStatus: response.status, requestId: nil, shape: nil, fields: JSONObject()))
        }
        var start = 0
        if let resultWrapper {
            start = table.firstChild(of: 0, named: resultWrapper)
            guard start >= 0 else { return .success(JSONObject()) }
        }
        guard let result = xml.structureMembers(table, element: start, output) else { return .success(JSONObject()) }
        return .success(customization.result(result, response: response, operation: operation))
    }

    func parseError(_ response: ResponseData) -> AWSErrorResponse {
        let trimmed = response.body.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
        if response.status >= 500, trimmed.isEmpty || trimmed.starts(with: Array("<html>".utf8)) {
            return AWSErrorResponse(code: String(response.status), message: httpReason(response.status), httpStatus: response.status,
                                    requestId: nil, shape: nil, fields: JSONObject())
        }
        guard let root = try? XMLDocument.parse(response.body) else {
            return AWSErrorResponse(code: String(response.status), message: String(decoding: response.body.prefix(200), as: UTF8.self),
                                    httpStatus: response.status, requestId: nil, shape: nil, fields: JSONObject())
        }
        // query: ErrorResponse/Error and RequestId; ec2: Response/Errors/Error and RequestID.
        var errorNode = root.children.first { $0.name == "Error" }
        if let errors = root.children.first(where: { $0.name == "Errors" }) { errorNode = errors.children.first { $0.name == "Error" } ?? errorNode }
        let code = errorNode?.children.first { $0.name == "Code" }?.text ?? ""
        let message = errorNode?.children.first { $0.name == "Message" }?.text ?? ""
        let requestId = root.children.first { $0.name == "RequestId" || $0.name == "RequestID" }?.text
        let shape = service.errorShapesByCode[code]
        var fields = JSONObject()
        if let shape, let errorNode, let parsed = xml.parseStructure(errorNode, shape) { fields = parsed }
        return AWSErrorResponse(code: code, message: message, httpStatus: response.status, requestId: requestId, shape: shape, fields: fields)
    }
}
