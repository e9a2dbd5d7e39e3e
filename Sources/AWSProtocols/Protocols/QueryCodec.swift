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
    let json: JSONValueCodec
    let xml: XMLValueReader
    /// The element the result is wrapped in (query), nil for ec2.
    let resultWrapper: String?

    public init(operation: AWSModels.Operation, service: ServiceModel, options: CodecOptions, isEC2: Bool, resultWrapper: String? = nil) {
        self.operation = operation
        self.service = service
        self.isEC2 = isEC2
        self.options = options
        json = JSONValueCodec(options: options)
        xml = XMLValueReader(json: json)
        self.resultWrapper = isEC2 ? nil : (resultWrapper ?? operation.outputResultWrapper)
    }

    // MARK: Request: the form body

    public func serialize(_ params: JSONObject) throws(SerializationError) -> SerializedRequest {
        var form = FormBody()
        form.set("Action", operation.name)
        form.set("Version", service.metadata.apiVersion)
        let params = QueryCustomizations.params(params, service: service.name, operation: operation.name)
        if let input = operation.input { serializeStructure(params, input, prefix: "", into: &form) }
        return SerializedRequest(method: operation.httpMethod.isEmpty ? "POST" : operation.httpMethod, path: "/", query: "",
                                 headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                 body: form.encoded(), hostPrefix: try HostPrefix.expand(operation, params))
    }

    /// `_get_serialized_name`: query uses `locationName`; ec2 `queryName`, else the
    /// capitalized `locationName`.
    func serializedName(_ member: Member?, default name: String) -> String {
        guard let member else { return name }
        if isEC2 {
            if let queryName = member.queryName { return queryName }
            if let location = member.locationName, let first = location.first { return first.uppercased() + location.dropFirst() }
            return name
        }
        return member.locationName ?? name
    }

    func serializeStructure(_ object: JSONObject, _ shape: Shape, prefix: String, into form: inout FormBody) {
        for entry in object {
            guard let member = shape.member(named: entry.key) else { continue }
            let name = serializedName(member, default: entry.key)
            serialize(entry.value, member, prefix: prefix.isEmpty ? name : prefix + "." + name, into: &form)
        }
    }

    func serialize(_ value: JSON, _ member: Member, prefix: String, into form: inout FormBody) {
        let shape = member.shape
        switch shape.type {
        case .structure:
            guard case .object(let object) = value else { return }
            serializeStructure(object, shape, prefix: prefix, into: &form)
        case .list:
            guard case .array(let items) = value, let element = shape.listMember else { return }
            var listPrefix: String
            if isEC2 {
                listPrefix = prefix
            } else if items.isEmpty {
                // The query protocol sends an empty list as an empty value.
                form.set(prefix, "")
                return
            } else if member.flattened {
                // A flattened list named by its member replaces the last part of the prefix.
                listPrefix = prefix
                if element.locationName != nil {
                    var parts = prefix.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                    parts[parts.count - 1] = serializedName(element, default: "")
                    listPrefix = parts.joined(separator: ".")
                }
            } else {
                listPrefix = prefix + "." + (element.locationName ?? "member")
            }
            for (i, item) in items.enumerated() { serialize(item, element, prefix: "\(listPrefix).\(i + 1)", into: &form) }
        case .map:
            guard case .object(let map) = value, let key = shape.mapKey, let valueMember = shape.mapValue else { return }
            let full = member.flattened ? prefix : prefix + ".entry"
            let keySuffix = serializedName(key, default: "key"), valueSuffix = serializedName(valueMember, default: "value")
            for (i, entry) in map.enumerated() {
                form.set("\(full).\(i + 1).\(keySuffix)", entry.key)
                serialize(entry.value, valueMember, prefix: "\(full).\(i + 1).\(valueSuffix)", into: &form)
            }
        case .blob:
            guard case .string(let s) = value else { return }
            let bytes = options.blobsAreBase64 ? (Base64.decode(s) ?? []) : Array(s.utf8)
            form.set(prefix, Base64.encode(bytes))
        case .timestamp:
            guard let t = Timestamp.parse(value) else { return }
            switch (member.timestampFormat ?? "iso8601").lowercased() {
            case "rfc822": form.set(prefix, t.rfc822)
            case "unixtimestamp": form.set(prefix, t.unixString)
            default: form.set(prefix, t.iso8601)
            }
        case .boolean:
            form.set(prefix, value.boolValue == true ? "true" : "false")
        default:
            form.set(prefix, pythonString(value))
        }
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
        return .success(QueryCustomizations.result(result, service: service.name, operation: operation))
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
