import AWSJSON
import AWSModels

/// An HTTP response as the parsers see it.
public struct ResponseData: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first(where: { $0.name.lowercased() == lower })?.value
    }
}

/// An error answer from AWS, parsed as botocore parses it.
public struct AWSErrorResponse: Sendable, Error {
    /// The bare error code: no namespace (`#`), no `:` suffix.
    public var code: String
    public var message: String
    public var httpStatus: Int
    public var requestId: String?
    /// The modeled error shape, when the code names one.
    public var shape: Shape?
    /// The modeled error's members, parsed.
    public var fields: JSONObject
}

/// The rest-json response parser (botocore's RestJSONParser).
public struct RestJSONParser: Sendable {
    public let options: CodecOptions

    public init(options: CodecOptions = CodecOptions()) { self.options = options }

    /// Parses a response: the output structure on success, an error otherwise.
    public func parse(_ response: ResponseData, operation: AWSModels.Operation, model: ServiceModel) -> Result<JSONObject, AWSErrorResponse> {
        if response.status >= 301 {
            return .failure(parseError(response, model: model))
        }
        return .success(parseOutput(response, shape: operation.output, payload: operation.outputPayload))
    }

    public func parseOutput(_ response: ResponseData, shape: Shape?, payload: String? = nil) -> JSONObject {
        guard let shape else { return JSONObject() }
        var result = JSONObject()
        // Members bound to the status line and headers.
        for member in shape.members {
            switch member.location {
            case .statusCode:
                result.append(member.name, .int(Int64(response.status)))
            case .headers:
                let prefix = (member.locationName ?? "").lowercased()
                var map = JSONObject()
                for header in response.headers where header.name.lowercased().hasPrefix(prefix) {
                    map[String(header.name.dropFirst(prefix.count))] = .string(header.value)
                }
                result.append(member.name, .object(map))
            case .header:
                if let value = response.header(member.wireName), let parsed = headerValue(value, member) {
                    result.append(member.name, parsed)
                }
            default:
                break
            }
        }
        // The body: one payload member, or the members without a location.
        if let payloadName = payload ?? shape.payload, let payload = shape.member(named: payloadName) {
            if payload.shape.type == .blob {
                result.append(payloadName, blobResult(response.body))
            } else if payload.shape.type == .string {
                result.append(payloadName, .string(String(decoding: response.body, as: UTF8.self)))
            } else if let body = parseBodyJSON(response.body), let value = parseValue(body, payload.shape) {
                result.append(payloadName, value)
            }
        } else if let body = parseBodyJSON(response.body), case .object(let object) = body {
            parseMembers(object, shape, into: &result)
        }
        return result
    }

    public func parseError(_ response: ResponseData, model: ServiceModel) -> AWSErrorResponse {
        let requestId = response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id")
        // A 5xx with no body or an HTML page carries no AWS error.
        let trimmed = response.body.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
        if response.status >= 500, trimmed.isEmpty || trimmed.starts(with: Array("<html>".utf8)) {
            return AWSErrorResponse(
                code: String(response.status), message: httpReason(response.status), httpStatus: response.status,
                requestId: requestId, shape: nil, fields: JSONObject())
        }
        var body = JSONObject()
        if !response.body.isEmpty {
            if case .object(let object)? = try? JSON.parse(response.body) {
                body = object
            } else {
                body["message"] = .string(String(decoding: response.body, as: UTF8.self))
            }
        }
        let message = body["message"]?.stringValue ?? body["Message"]?.stringValue ?? ""
        var code = body["__type"]?.stringValue ?? String(response.status)
        if let header = response.header("x-amzn-ErrorType") {
            code = header
        } else if let bodyCode = body["code"] ?? body["Code"] {
            code = bodyCode.stringValue ?? ""
        }
        code = RestJSONParser.bareErrorCode(code)
        if let queryError = response.header("x-amzn-query-error") {
            let parts = queryError.split(separator: ";", omittingEmptySubsequences: false)
            if parts.count == 2, !parts[0].isEmpty { code = String(parts[0]) }
        }
        let shape = model.errorShapesByCode[code]
        var fields = JSONObject()
        if let shape {
            fields = parseOutput(response, shape: shape)
        }
        return AWSErrorResponse(code: code, message: message, httpStatus: response.status, requestId: requestId, shape: shape, fields: fields)
    }

    /// `aws.protocoltests#FooError:http://internal.amazon.com/` → `FooError`.
    public static func bareErrorCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return String(code)
    }

    // MARK: Values

    func parseBodyJSON(_ body: [UInt8]) -> JSON? {
        guard !body.isEmpty else { return .object(JSONObject()) }
        return (try? JSON.parse(body)) ?? .object(JSONObject([("message", .string(String(decoding: body, as: UTF8.self)))]))
    }

    func parseMembers(_ object: JSONObject, _ shape: Shape, into result: inout JSONObject) {
        for member in shape.members where member.location == nil {
            guard let raw = object[member.wireName], !raw.isNull, let value = parseValue(raw, member.shape) else { continue }
            result[member.name] = value
        }
    }

    func parseValue(_ value: JSON, _ shape: Shape) -> JSON? {
        if value.isNull { return nil }
        switch shape.type {
        case .structure:
            if shape.isDocument { return value }
            guard case .object(let object) = value else { return nil }
            if shape.isUnion {
                let set = object.members.filter { $0.key != "__type" && !$0.value.isNull }
                if set.count == 1, !shape.members.contains(where: { $0.wireName == set[0].key }) {
                    return .object(JSONObject([("SDK_UNKNOWN_MEMBER", .object(JSONObject([("name", .string(set[0].key))])))]))
                }
            }
            var result = JSONObject()
            parseMembers(object, shape, into: &result)
            return .object(result)
        case .list:
            guard case .array(let list) = value, let element = shape.listMember else { return nil }
            return .array(list.map { $0.isNull ? .null : (parseValue($0, element.shape) ?? .null) })
        case .map:
            guard case .object(let map) = value, let valueMember = shape.mapValue else { return nil }
            var result = JSONObject()
            result.members.reserveCapacity(map.count)
            for item in map {
                if item.value.isNull {
                    result[item.key] = .null
                } else if let parsed = parseValue(item.value, valueMember.shape) {
                    result[item.key] = parsed
                }
            }
            return .object(result)
        case .timestamp:
            return Timestamp.parse(value).map(timestampResult) ?? value
        case .blob:
            guard case .string(let s) = value else { return value }
            return blobResult(Base64.decode(s) ?? [])
        case .float, .double, .bigdecimal:
            if case .string(let s) = value {
                switch s {
                case "NaN": return .double(.nan)
                case "Infinity": return .double(.infinity)
                case "-Infinity": return .double(-.infinity)
                default: return Double(s).map(JSON.double) ?? value
                }
            }
            return value
        default:
            return value
        }
    }

    func headerValue(_ text: String, _ member: Member) -> JSON? {
        let shape = member.shape
        switch shape.type {
        case .string, .character:
            if member.jsonValue {
                guard let decoded = Base64.decode(text) else { return nil }
                return try? JSON.parse(decoded)
            }
            return .string(text)
        case .integer, .long, .biginteger:
            return Int64(text.trimmingCharacters(in: .whitespaces)).map(JSON.int)
        case .float, .double, .bigdecimal:
            return Double(text.trimmingCharacters(in: .whitespaces)).map(JSON.double)
        case .boolean:
            return .bool(text.lowercased() == "true")
        case .timestamp:
            return Timestamp.parse(text).map(timestampResult)
        case .blob:
            return blobResult(Base64.decode(text) ?? [])
        case .list:
            guard let element = shape.listMember else { return nil }
            return .array(RestJSONParser.splitHeaderList(text, timestamps: element.shape.type == .timestamp).compactMap { headerValue($0, element) })
        default:
            return .string(text)
        }
    }

    /// Splits a comma-separated header into items, honouring double quotes.
    static func splitHeaderList(_ text: String, timestamps: Bool) -> [String] {
        if timestamps {
            // HTTP dates contain a comma after the weekday: pair them back up.
            let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            var items: [String] = []
            var i = 0
            while i < parts.count {
                if i + 1 < parts.count, parts[i].count == 3, parts[i].allSatisfy(\.isLetter) {
                    items.append(parts[i] + ", " + parts[i + 1])
                    i += 2
                } else {
                    items.append(parts[i])
                    i += 1
                }
            }
            return items
        }
        var items: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        var wasQuoted = false
        for ch in text {
            if escaped {
                current.append(ch)
                escaped = false
            } else if inQuotes && ch == "\\" {
                escaped = true
            } else if ch == "\"" {
                inQuotes.toggle()
                wasQuoted = true
            } else if ch == "," && !inQuotes {
                items.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
                current = ""
                wasQuoted = false
            } else if !(wasQuoted && !inQuotes) {
                current.append(ch)
            }
        }
        items.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
        return items
    }

    func timestampResult(_ t: Timestamp) -> JSON {
        switch options.resultTimestamps {
        case .iso8601: return .string(t.iso8601Result)
        case .epochSeconds: return t.unixJSON
        }
    }

    func blobResult(_ bytes: [UInt8]) -> JSON {
        switch options.resultBlobs {
        case .base64: return .string(Base64.encode(bytes))
        case .utf8Text: return .string(String(decoding: bytes, as: UTF8.self))
        }
    }
}

func httpReason(_ status: Int) -> String {
    switch status {
    case 500: return "Internal Server Error"
    case 501: return "Not Implemented"
    case 502: return "Bad Gateway"
    case 503: return "Service Unavailable"
    case 504: return "Gateway Timeout"
    default: return ""
    }
}
