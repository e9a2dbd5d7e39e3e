import AWSJSON
import AWSModels

/// An error answer in JSON, as botocore parses it for rest-json (the `x-amzn-ErrorType`
/// header, then `__type`, `code`) and json (`__type` only); `x-amzn-query-error` gives the
/// code of query-compatible services, while the modeled error is found by the code the
/// body names (botocore's `QueryErrorCode`).
struct JSONErrorParser: Sendable {
    let readsErrorTypeHeader: Bool

    func parse(_ response: ResponseData, model: ServiceModel, fields parseFields: (Shape) -> JSONObject) -> AWSErrorResponse {
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
        if readsErrorTypeHeader {
            if let header = response.header("x-amzn-ErrorType") {
                code = header
            } else if let bodyCode = body["code"] ?? body["Code"] {
                code = bodyCode.stringValue ?? ""
            }
        }
        code = JSONErrorParser.bareErrorCode(code)
        // The modeled error is the one the body names, even when a query-compatible
        // service reports another code.
        let modeledCode = code
        if let queryError = response.header("x-amzn-query-error") {
            let parts = queryError.split(separator: ";", omittingEmptySubsequences: false)
            if parts.count == 2, !parts[0].isEmpty { code = String(parts[0]) }
        }
        let shape = model.errorShapesByCode[modeledCode] ?? model.errorShapesByCode[code]
        let fields = shape.map(parseFields) ?? JSONObject()
        return AWSErrorResponse(code: code, message: message, httpStatus: response.status, requestId: requestId, shape: shape, fields: fields)
    }

    /// `aws.protocoltests#FooError:http://internal.amazon.com/` → `FooError`.
    public static func bareErrorCode(_ raw: String) -> String {
        var code = Substring(raw)
        if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
        if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
        return String(code)
    }
}
