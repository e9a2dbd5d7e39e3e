import AWSClient
import AWSJSON

/// One JSON-RPC call: `id` is nil for a notification (no `id` member at all).
public struct RPCCall: Sendable {
    public var id: JSON?
    public var method: String
    public var params: JSONObject

    public init(id: JSON?, method: String, params: JSONObject) {
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
    case invalid(id: JSON?, error: RPCError)
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
        do {
            json = try JSON.parse(bytes, maxDepth: limits.maxJSONDepth)
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
            return .batch(elements.map(entry))
        default:
            return .single(entry(json))
        }
    }

    static func limitData(_ limit: Int) -> JSON { .object(JSONObject([("limit", .int(Int64(limit)))])) }

    /// Checks one request object.
    static func entry(_ json: JSON) -> RPCEntry {
        guard case .object(let object) = json else {
            return .invalid(id: .null, error: RPCError(code: RPCError.invalidRequest, message: "a request must be a JSON object"))
        }
        var id: JSON?
        if let rawID = object["id"] {
            switch rawID {
            case .string, .int, .double, .null: id = rawID
            default:
                return .invalid(id: .null, error: RPCError(code: RPCError.invalidRequest, message: "id must be a string, a number or null"))
            }
        }
        let answerID = id ?? .null
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

    public static func response(id: JSON, result: JSON) -> JSON {
        .object(JSONObject([("jsonrpc", "2.0"), ("id", id), ("result", result)]))
    }

    public static func response(id: JSON, error: RPCError) -> JSON {
        .object(JSONObject([("jsonrpc", "2.0"), ("id", id), ("error", error.json)]))
    }
}
