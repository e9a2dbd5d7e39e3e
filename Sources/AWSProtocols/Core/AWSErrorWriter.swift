import AWSJSON
import AWSModels

/// An error answered in a service's own protocol, as AWS writes it, so that an SDK raises
/// it as it would AWS's (the AWS door's refusals: a bad signature, a denied call, a rate
/// limit). What the codecs parse back from it is the code and message given.
public struct AWSErrorWriter: Sendable {
    public let protocolName: String
    /// S3's errors are `<Error>` at the root; other rest-xml services wrap them in
    /// `<ErrorResponse>`.
    public let isS3: Bool
    public let jsonVersion: String?

    public init(service: ServiceMetadata) {
        protocolName = service.resolvedProtocol
        isS3 = service.signingName == "s3" || service.endpointPrefix == "s3"
        jsonVersion = service.jsonVersion
    }

    /// The answer: status, headers and body.
    public func response(status: Int, code: String, message: String, requestId: String, extraHeaders: [(String, String)] = []) -> ResponseData {
        var headers: [(name: String, value: String)] = [("x-amzn-RequestId", requestId)]
        let body: [UInt8]
        switch protocolName {
        case "json":
            headers.append(("Content-Type", "application/x-amz-json-\(jsonVersion ?? "1.0")"))
            headers.append(("x-amzn-ErrorType", code))
            body = JSON.object(JSONObject([("__type", .string(code)), ("message", .string(message))])).serialized()
        case "rest-json":
            headers.append(("Content-Type", "application/json"))
            headers.append(("x-amzn-ErrorType", code))
            body = JSON.object(JSONObject([("message", .string(message))])).serialized()
        case "smithy-rpc-v2-cbor":
            headers.append(("Content-Type", "application/cbor"))
            headers.append(("smithy-protocol", "rpc-v2-cbor"))
            var writer = CBORWriter()
            writer.head(5, 2)
            writer.text("__type")
            writer.text(code)
            writer.text("message")
            writer.text(message)
            body = writer.bytes
        case "ec2":
            headers.append(("Content-Type", "text/xml;charset=UTF-8"))
            body = Array(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>\(Self.xml(code))</Code><Message>\(Self.xml(message))"
                + "</Message></Error></Errors><RequestID>\(Self.xml(requestId))</RequestID></Response>").utf8)
        default:
            headers.append(("Content-Type", "application/xml"))
            if isS3 {
                headers.append(("x-amz-request-id", requestId))
                body = Array(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(Self.xml(code))</Code><Message>\(Self.xml(message))</Message>"
                    + "<RequestId>\(Self.xml(requestId))</RequestId></Error>").utf8)
            } else {
                body = Array(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>\(status >= 500 ? "Receiver" : "Sender")</Type>"
                    + "<Code>\(Self.xml(code))</Code><Message>\(Self.xml(message))</Message></Error><RequestId>\(Self.xml(requestId))</RequestId></ErrorResponse>").utf8)
            }
        }
        headers.append(("Content-Length", String(body.count)))
        for header in extraHeaders { headers.append(header) }
        return ResponseData(status: status, headers: headers, body: body)
    }

    static func xml(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
