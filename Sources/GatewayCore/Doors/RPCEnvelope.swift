import AWSClient
import AWSJSON

/// A request's `id`, kept as the caller wrote it: a number is echoed byte for byte
/// (`1e2` stays `1e2`, a 30-digit integer keeps every digit).
public enum RPCID: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    case string(String)
    /// The number's literal JSON text.
    case number(String)
    case null

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .number(String(value)) }
    public init(floatLiteral value: Double) { self = .number(String(value)) }

    /// Appends the id as JSON.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .string(let s): JSON.writeString(s, to: &out, asciiOnly: false)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .null: out.append(contentsOf: "null".utf8)
        }
    }

    /// The id as a JSON value (for logs); numbers lose nothing only when they fit a double.
    public var json: JSON {
        switch self {
        case .string(let s): return .string(s)
        case .number(let text): return (try? JSON.parse(text)) ?? .string(text)
        case .null: return .null
        }
    }
}

/// One JSON-RPC call: `id` is nil for a notification (no `id` member at all).
public struct RPCCall: Sendable {
    public var id: RPCID?
    public var method: String
    public var params: JSONObject

    public init(id: RPCID?, method: String, params: JSONObject) {
        self.id = id
        self.method = method
        self.params = params
    }

    public var isNotification: Bool { id == nil }
}

/// A member of a request: a call to carry out, or an answer already decided (an
/// invalid request object, with the id it had; nil for a notification, which gets none).
public enum RPCEntry: Sendable {
    case call(RPCCall)
    case invalid(id: RPCID?, error: RPCError)
}

/// What a body held: one entry, a batch, or an error that answers for the whole body.
public enum RPCIncoming: Sendable {
    case single(RPCEntry)
    case batch([RPCEntry])
    case rejected(RPCError)
}

/// Parsing and answering the JSON-RPC 2.0 envelope (https://www.jsonrpc.org/specification).
public enum RPCEnvelope {
    public static func parse(_ bytes: [UInt8], limits: GatewayLimits) -> RPCIncoming {
        if bytes.count > limits.maxBodyBytes {
            return .rejected(RPCError(code: RPCError.invalidRequest, message: "request body over \(limits.maxBodyBytes) bytes",
                                      data: limitData(limits.maxBodyBytes)))
        }
        let json: JSON
        let idTexts: [Int: String]
        do {
            (json, idTexts) = try JSON.parseRequest(bytes, maxDepth: limits.maxJSONDepth)
        } catch {
            if case .tooDeep = error.reason {
                return .rejected(RPCError(code: RPCError.invalidRequest, message: "JSON nested deeper than \(limits.maxJSONDepth) levels",
                                          data: limitData(limits.maxJSONDepth)))
            }
            return .rejected(RPCError(code: RPCError.parseError, message: "parse error: \(error.description)"))
        }
        switch json {
        case .array(let elements):
            if elements.isEmpty {
                return .rejected(RPCError(code: RPCError.invalidRequest, message: "empty batch"))
            }
            if elements.count > limits.maxBatchSize {
                return .rejected(RPCError(code: RPCError.invalidRequest, message: "batch of \(elements.count) calls is over the limit of \(limits.maxBatchSize)",
                                          data: limitData(limits.maxBatchSize)))
            }
            return .batch(elements.enumerated().map { entry($0.element, idText: idTexts[$0.offset]) })
        default:
            return .single(entry(json, idText: idTexts[0]))
        }
    }

    static func limitData(_ limit: Int) -> JSON { .object(JSONObject([("limit", .int(Int64(limit)))])) }

    /// Checks one request object. `idText` is the literal text of a numeric id.
    static func entry(_ json: JSON, idText: String? = nil) -> RPCEntry {
        guard case .object(let object) = json else {
            return .invalid(id: .null, error: RPCError(code: RPCError.invalidRequest, message: "a request must be a JSON object"))
        }
        var id: RPCID?
        if let rawID = object["id"] {
            switch rawID {
            case .string(let s): id = .string(s)
            case .null: id = .null
            case .int(let i): id = .number(idText ?? String(i))
            case .double(let d):
                guard d.isFinite else {
                    return .invalid(id: .null, error: RPCError(code: RPCError.invalidRequest, message: "id is a number out of range"))
                }
                id = .number(idText ?? pythonFloatRepr(d))
            default:
                return .invalid(id: .null, error: RPCError(code: RPCError.invalidRequest, message: "id must be a string, a number or null"))
            }
        }
        let answerID = id ?? .null
        if let duplicate = object.firstDuplicateKey {
            return .invalid(id: answerID, error: RPCError(code: RPCError.invalidRequest, message: "member \"\(duplicate)\" appears twice in the request"))
        }
        guard object["jsonrpc"] == .string("2.0") else {
            return .invalid(id: answerID, error: RPCError(code: RPCError.invalidRequest, message: "\"jsonrpc\" must be exactly \"2.0\""))
        }
        guard case .string(let method)? = object["method"], !method.isEmpty else {
            return .invalid(id: answerID, error: RPCError(code: RPCError.invalidRequest, message: "\"method\" must be a non-empty string"))
        }
        for member in object where !["jsonrpc", "id", "method", "params"].contains(member.key) {
            return .invalid(id: answerID, error: RPCError(code: RPCError.invalidRequest, message: "unknown member \"\(member.key)\" in the request"))
        }
        let params: JSONObject
        switch object["params"] {
        case nil, .null?: params = JSONObject()
        case .object(let p)?: params = p
        default:
            // Positional params mean nothing for an AWS operation.
            let error = RPCError(code: RPCError.invalidParams, message: "params must be an object of the operation's input members",
                                 data: .object(JSONObject([("errors", .array([.object(JSONObject([("path", "$"), ("problem", "expected object")]))]))])))
            return .invalid(id: id, error: error)
        }
        return .call(RPCCall(id: id, method: method, params: params))
    }

    // MARK: Answers

    /// `{"jsonrpc":"2.0","id":…,"result":…}`, serialized.
    public static func response(id: RPCID, result: JSON) -> [UInt8] {
        answer(id: id, member: "result", value: result)
    }

    /// `{"jsonrpc":"2.0","id":…,"error":…}`, serialized.
    public static func response(id: RPCID, error: RPCError) -> [UInt8] {
        answer(id: id, member: "error", value: error.json)
    }

    /// `{"jsonrpc":"2.0","method":"$event","params":{"id":…,"event":…}}` (or `$page` with
    /// `page`): what a call sends before its answer, serialized.
    public static func notification(_ method: String, id: RPCID, member: String, value: JSONObject) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out.append(contentsOf: #"{"jsonrpc":"2.0","method":""#.utf8)
        out.append(contentsOf: method.utf8)
        out.append(contentsOf: #"","params":{"id":"#.utf8)
        id.write(to: &out)
        out.append(contentsOf: ",\"\(member)\":".utf8)
        JSON.object(value).write(to: &out, style: .compact)
        out.append(contentsOf: "}}".utf8)
        return out
    }

    private static func answer(id: RPCID, member: String, value: JSON) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out.append(contentsOf: #"{"jsonrpc":"2.0","id":"#.utf8)
        id.write(to: &out)
        out.append(contentsOf: ",\"\(member)\":".utf8)
        value.write(to: &out, style: .compact)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
