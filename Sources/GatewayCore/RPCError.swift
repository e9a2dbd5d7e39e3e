import AWSClient
import AWSCredentials
import AWSJSON
import AWSProtocols

/// A JSON-RPC 2.0 error object as INTERFACE.md defines the codes.
public struct RPCError: Error, Sendable {
    public var code: Int
    public var message: String
    public var data: JSON?

    public init(code: Int, message: String, data: JSON? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var json: JSON {
        var object = JSONObject([("code", .int(Int64(code))), ("message", .string(message))])
        if let data { object.append("data", data) }
        return .object(object)
    }

    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let policyDenied = -32001
    public static let rateLimited = -32002
    public static let overloaded = -32003
    public static let awsError = -32010
    public static let awsUnreachable = -32011
    public static let noCredentials = -32012
    public static let waiterEnded = -32013
    public static let internalError = -32603
}

extension ClientError {
    public var rpcError: RPCError {
        switch self {
        case .malformedMethod(_, let suggestions):
            return RPCError(code: RPCError.methodNotFound, message: description,
                            data: .object(JSONObject([("suggestions", .array(suggestions.map(JSON.string)))])))
        case .unknownService(let name, let suggestions):
            return RPCError(code: RPCError.methodNotFound, message: "unknown service \(name)",
                            data: .object(JSONObject([("suggestions", .array(suggestions.map(JSON.string)))])))
        case .unknownOperation(let service, let operation, let suggestions):
            return RPCError(code: RPCError.methodNotFound, message: "unknown operation \(operation) of service \(service)",
                            data: .object(JSONObject([("suggestions", .array(suggestions.map { .string(service + "." + $0) }))])))
        case .invalidParams(let problems):
            let errors = problems.map { JSON.object(JSONObject([("path", .string($0.path)), ("problem", .string($0.problem))])) }
            return RPCError(code: RPCError.invalidParams, message: "params do not fit the operation's input",
                            data: .object(JSONObject([("errors", .array(errors))])))
        case .unsupportedProtocol(_, let protocolName):
            return RPCError(code: RPCError.methodNotFound, message: description,
                            data: .object(JSONObject([("protocol", .string(protocolName)), ("suggestions", .array([]))])))
        case .noRegion:
            let message = "no region: give $region, or set AWS_REGION, AWS_DEFAULT_REGION or a profile region where the gateway runs"
            return RPCError(code: RPCError.invalidParams, message: "cannot resolve the endpoint: \(message)",
                            data: .object(JSONObject([("errors", .array([.object(JSONObject([("path", "$.$region"), ("problem", .string(message))]))]))])))
        case .endpoint(let message):
            return RPCError(code: RPCError.invalidParams, message: "cannot resolve the endpoint: \(message)",
                            data: .object(JSONObject([("errors", .array([.object(JSONObject([("path", "$.$region"), ("problem", .string(message))]))]))])))
        case .model, .serialization:
            return RPCError(code: RPCError.internalError, message: description)
        }
    }
}

extension AWSErrorResponse {
    /// -32010 with the AWS error's type, message, status and request id.
    public func rpcError(retryable: Bool) -> RPCError {
        var data = JSONObject([("type", .string(code)), ("message", .string(message)), ("httpStatus", .int(Int64(httpStatus)))])
        if let requestId { data.append("requestId", .string(requestId)) }
        data.append("retryable", .bool(retryable))
        if !fields.isEmpty { data.append("fields", .object(fields)) }
        return RPCError(code: RPCError.awsError, message: message.isEmpty ? code : message, data: .object(data))
    }
}
