import AWSJSON
import AWSModels
import AWSPrimitives

/// The REST binding's request side (botocore's BaseRestSerializer: URI labels, query
/// string, headers), with the body written by the protocol's payload codec: JSON for
/// rest-json, XML for rest-xml, byte-compatible with botocore's RestJSONSerializer and
/// RestXMLSerializer. A plan is made once per operation and reused for every call.
public struct RESTSerializer: Sendable {
    public let operation: AWSModels.Operation
    let template: URITemplate
    public let options: CodecOptions
    let payload: any RESTPayloadCodec

    public init(operation: AWSModels.Operation, payload: any RESTPayloadCodec, options: CodecOptions = CodecOptions()) {
        self.operation = operation
        self.template = URITemplate(operation.requestURI)
        self.options = options
        self.payload = payload
    }

    /// rest-json's binding (the bench and tests make one for an operation alone).
    public init(operation: AWSModels.Operation, options: CodecOptions = CodecOptions()) {
        self.init(operation: operation, payload: RESTJSONPayload(options: options), options: options)
    }

    public func serialize(_ params: JSONObject) throws(SerializationError) -> SerializedRequest {
        var request = SerializedRequest(method: operation.httpMethod, path: "/", query: "", headers: [], body: [], hostPrefix: nil)
        request.hostPrefix = try HostPrefix.expand(operation, params)
        guard let shape = operation.input else {
            (request.path, request.query) = splitQuery(operation.requestURI)
            return request
        }
        var uriValues: [String: String] = [:]
        var queryPairs = QueryParameters()
        let bodyMembers = try bind(params, shape, labels: &uriValues, query: &queryPairs, headers: &request.headers)
        (request.path, request.query) = splitQuery(try renderPath(uriValues))
        if !queryPairs.entries.isEmpty {
            var encoded: [UInt8] = Array(request.query.utf8)
            for (key, values) in queryPairs.entries {
                for value in values {
                    if !encoded.isEmpty { encoded.append(UInt8(ascii: "&")) }
                    PercentEncoding.encode(key, safe: [], into: &encoded)
                    encoded.append(UInt8(ascii: "="))
                    PercentEncoding.encode(value, safe: [], into: &encoded)
                }
            }
            request.query = String(decoding: encoded, as: UTF8.self)
            // Only empty lists: botocore still puts a '?' on the URL.
            request.urlHasQueryMark = true
        }
        try payload.write(params, bodyMembers: bodyMembers, shape: shape, operation: operation, into: &request)
        return request
    }

    /// Each member to its place: a URI label, the query string, a header (or a prefixed
    /// set of them), or the body; the body members are returned for the payload codec.
    private func bind(_ params: JSONObject, _ shape: Shape, labels: inout [String: String], query: inout QueryParameters,
                      headers: inout [(name: String, value: String)]) throws(SerializationError) -> JSONObject {
        var bodyMembers = JSONObject()
        for entry in params {
            if case .null = entry.value { continue }
            guard let member = shape.member(named: entry.key) else {
                throw SerializationError(message: "unknown member \(entry.key)")
            }
            switch member.location {
            case .uri:
                labels[member.wireName] = scalarText(entry.value, member, timestampDefault: "iso8601")
            case .querystring:
                appendQuery(entry.value, member, to: &query)
            case .header:
                if case .array(let list) = entry.value, list.isEmpty, member.shape.type == .list { continue }
                setHeader(&headers, member.wireName, headerValue(entry.value, member))
            case .headers:
                if case .object(let map) = entry.value {
                    for item in map { setHeader(&headers, member.wireName + item.key, pythonString(item.value)) }
                }
            case .statusCode:
                continue
            case nil:
                bodyMembers.append(entry.key, entry.value)
            }
        }
        return bodyMembers
    }

    /// The URI template with its labels filled, percent-encoded ('/' kept only in greedy labels).
    private func renderPath(_ labels: [String: String]) throws(SerializationError) -> String {
        var rendered = ""
        for part in template.parts {
            switch part {
            case .literal(let text): rendered += text
            case .label(let name, let greedy):
                guard let value = labels[name] else {
                    throw SerializationError(message: "missing value for URI label {\(name)}")
                }
                rendered += PercentEncoding.encode(value, safe: greedy ? "/~" : "")
            }
        }
        return rendered
    }

    // MARK: Locations

    private func splitQuery(_ uri: String) -> (String, String) {
        // By bytes in place: a search by Character runs grapheme breaking over the whole
        // path, and one by UTF8View index steps an index at a time.
        var text = uri
        guard let offset = text.withUTF8({ $0.firstIndex(of: UInt8(ascii: "?")) }) else { return (uri, "") }
        let q = uri.utf8.index(uri.utf8.startIndex, offsetBy: offset)
        return (String(uri[..<q]), String(uri[uri.utf8.index(after: q)...]))
    }

    private func setHeader(_ headers: inout [(name: String, value: String)], _ name: String, _ value: String) {
        if let index = headers.firstIndex(where: { $0.name == name }) {
            headers[index].value = value
        } else {
            headers.append((name, value))
        }
    }

    /// Query parameters with the semantics of the Python dict botocore collects them in:
    /// a key set again keeps its first position and takes the new value.
    struct QueryParameters {
        var entries: [(String, [String])] = []
        mutating func set(_ key: String, _ values: [String]) {
            if let index = entries.firstIndex(where: { $0.0 == key }) {
                entries[index].1 = values
            } else {
                entries.append((key, values))
            }
        }
    }

    private func appendQuery(_ value: JSON, _ member: Member, to query: inout QueryParameters) {
        switch value {
        case .object(let map):
            // A map bound to the query string adds its own keys.
            for item in map {
                if case .array(let list) = item.value {
                    query.set(item.key, list.map(pythonString))
                } else {
                    query.set(item.key, [pythonString(item.value)])
                }
            }
        case .array(let list):
            let elementMember = member.shape.listMember ?? member
            query.set(member.wireName, list.map { scalarText($0, elementMember, timestampDefault: "iso8601") })
        default:
            query.set(member.wireName, [scalarText(value, member, timestampDefault: "iso8601")])
        }
    }

    /// A scalar for a URI label or query value (botocore's `_get_uri_and_query_string_value`).
    private func scalarText(_ value: JSON, _ member: Member, timestampDefault: String) -> String {
        switch member.shape.type {
        case .timestamp:
            guard let t = Timestamp.parse(value) else { return pythonString(value) }
            return formatTimestampText(t, member.timestampFormat ?? timestampDefault)
        default:
            return pythonString(value)
        }
    }

    private func formatTimestampText(_ t: Timestamp, _ format: String) -> String {
        switch format.lowercased() {
        case "rfc822": return t.rfc822
        case "unixtimestamp": return t.unixString
        default: return t.iso8601
        }
    }

    /// botocore's `_convert_header_value`.
    private func headerValue(_ value: JSON, _ member: Member) -> String {
        let shape = member.shape
        switch shape.type {
        case .timestamp:
            // Headers carry whole seconds.
            guard var t = Timestamp.parse(value) else { return pythonString(value) }
            t.microseconds = 0
            return formatTimestampText(t, member.timestampFormat ?? "rfc822")
        case .list:
            guard case .array(let list) = value, let element = shape.listMember else { return pythonString(value) }
            var parts: [String] = []
            for item in list where !item.isNull {
                if element.shape.type == .string, case .string(let s) = item {
                    parts.append(s.contains("\"") || s.contains(",") ? "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : s)
                } else {
                    parts.append(headerValue(item, element))
                }
            }
            return parts.joined(separator: ",")
        case .string where member.jsonValue:
            let json = value.serialized(JSONWriteStyle(pythonSeparators: false, asciiOnly: true))
            return Base64.encode(json)
        default:
            return pythonString(value)
        }
    }
}

/// How a REST request's body is written: the payload codec of rest-json or rest-xml.
public protocol RESTPayloadCodec: Sendable {
    /// Writes the body (and its Content-Type, where the protocol sends one): a blob or
    /// string payload as it is, another payload member, or the body members.
    func write(_ params: JSONObject, bodyMembers: JSONObject, shape: Shape, operation: AWSModels.Operation,
               into request: inout SerializedRequest) throws(SerializationError)
}

/// A blob or string payload's bytes as they are sent.
func rawPayloadBytes(_ value: JSON, _ shape: Shape, options: CodecOptions) -> [UInt8] {
    guard case .string(let s) = value else { return Array(pythonString(value).utf8) }
    if shape.type == .blob, options.blobsAreBase64 { return Base64.decode(s) ?? [] }
    return Array(s.utf8)
}

/// rest-json's body: the payload member or the body members as JSON, `{}` when the shape
/// has body members but none was given; `Content-Type: application/json` unless the
/// payload streams or a header set one.
public struct RESTJSONPayload: RESTPayloadCodec {
    let json: JSONValueCodec

    public init(options: CodecOptions) { json = JSONValueCodec(options: options) }

    public func write(_ params: JSONObject, bodyMembers: JSONObject, shape: Shape, operation: AWSModels.Operation,
                      into request: inout SerializedRequest) throws(SerializationError) {
        var streamingPayload = false
        if let payloadName = operation.inputPayload, let payloadMember = shape.member(named: payloadName) {
            let payloadValue = params[payloadName].flatMap { $0.isNull ? nil : $0 }
            if payloadMember.shape.type == .blob || payloadMember.shape.type == .string {
                streamingPayload = true
                if let payloadValue { request.body = rawPayloadBytes(payloadValue, payloadMember.shape, options: json.options) }
            } else if let payloadValue {
                var body: [UInt8] = []
                json.write(payloadValue, payloadMember, to: &body)
                request.body = body
            } else {
                request.body = Array("{}".utf8)
            }
        } else if !bodyMembers.isEmpty {
            request.body = json.body(bodyMembers, shape)
        } else if shape.members.contains(where: { $0.location == nil }) {
            request.body = Array("{}".utf8)
        }
        if !streamingPayload, !request.body.isEmpty, !request.headers.contains(where: { $0.name.equalsIgnoringASCIICase("content-type") }) {
            request.headers.append(("Content-Type", "application/json"))
        }
    }
}

/// rest-xml's body: a blob or string payload as it is, another payload member as its
/// element, else the body members inside the input shape's element; nothing (not even a
/// Content-Type) when there is nothing to send.
public struct RESTXMLPayload: RESTPayloadCodec {
    let options: CodecOptions

    public init(options: CodecOptions) { self.options = options }

    public func write(_ params: JSONObject, bodyMembers: JSONObject, shape: Shape, operation: AWSModels.Operation,
                      into request: inout SerializedRequest) throws(SerializationError) {
        let writer = XMLBodyWriter(options: options)
        if let payloadName = operation.inputPayload, let payloadMember = shape.member(named: payloadName) {
            guard let value = params[payloadName], !value.isNull else { return }
            if payloadMember.shape.type == .blob || payloadMember.shape.type == .string {
                request.body = rawPayloadBytes(value, payloadMember.shape, options: options)
            } else {
                request.body = writer.document(value, XMLBodyWriter.Node(payloadMember), name: payloadMember.locationName ?? payloadName)
            }
            return
        }
        guard !bodyMembers.isEmpty else { return }
        guard let rootName = operation.inputXMLName else {
            throw SerializationError(message: "the input shape \(shape.name) names no XML root element")
        }
        request.body = writer.document(.object(bodyMembers), XMLBodyWriter.Node(shape, namespace: operation.inputXMLNamespace), name: rootName)
    }
}
