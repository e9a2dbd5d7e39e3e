import AWSJSON
import AWSModels
import AWSPrimitives

// The wire types every protocol shares: a request before its endpoint and signature,
// a response, an AWS error, and what the gateway and the botocore suites set apart.

/// An HTTP request before it has an endpoint and a signature.
public struct SerializedRequest: Sendable {
    public var method: String
    /// The percent-encoded path, without the query.
    public var path: String
    /// The percent-encoded query string ("" when there is none).
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The expanded `endpoint.hostPrefix` of the operation, if it has one.
    public var hostPrefix: String?
    /// The URL has a '?' even when the query is empty (botocore's, when query params were
    /// given but all were empty lists).
    public var urlHasQueryMark = false

    /// Path and query as they go on the request line.
    public var pathAndQuery: String { query.isEmpty ? path : path + "?" + query }
}

public struct SerializationError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// What changes between the gateway and botocore's own test suites.
public struct CodecOptions: Sendable {
    /// Input blobs are base64 text (the gateway) or raw text (botocore's tests).
    public var blobsAreBase64 = true
    /// How timestamps in results are written.
    public var resultTimestamps: ResultTimestampStyle = .iso8601
    /// How blobs in results are written.
    public var resultBlobs: ResultBlobStyle = .base64
    /// The largest blob, decoded, in params or a result (`limits.max_blob`).
    public var maxBlobBytes = 16 << 20

    public enum ResultTimestampStyle: Sendable { case iso8601, epochSeconds }
    public enum ResultBlobStyle: Sendable { case base64, utf8Text }

    public init() {}
}

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
        headers.first(where: { $0.name.equalsIgnoringASCIICase(name) })?.value
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
    /// Carried by an event of a stream that had begun: the call is never made again for
    /// it (botocore raises it while the caller reads the events).
    public var inStream = false

    public init(code: String, message: String, httpStatus: Int, requestId: String?, shape: Shape?, fields: JSONObject) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.requestId = requestId
        self.shape = shape
        self.fields = fields
    }
}

/// The reason phrase of a 5xx status (500–504), as botocore reports a generic error.
func httpReason(_ status: Int) -> String {
    (500...504).contains(status) ? pythonHTTPReason(status) : ""
}

/// Python's `http.client.responses` (3.11, as the boto3 reference runs it): the message
/// botocore gives a rest-xml error that has no body.
func pythonHTTPReason(_ status: Int) -> String { pythonReasonPhrases[status] ?? "" }

private let pythonReasonPhrases: [Int: String] = [
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Requested Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a Teapot",
    421: "Misdirected Request",
    422: "Unprocessable Entity",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Required",
]

/// Python's `str()` of a JSON scalar as botocore puts it in a query string, header, URI
/// label or form field: booleans `true`/`false`, floats as `repr`, non-finite floats by
/// botocore's names, structures as JSON.
public func pythonString(_ value: JSON) -> String {
    switch value.resolved {
    case .string(let s): return s
    case .int(let i): return String(i)
    case .double(let d):
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return pythonFloatRepr(d)
    case .bool(let b): return b ? "true" : "false"
    case .null: return ""
    case .array, .object, .fragment: return value.serializedString(.botocore)
    }
}
