import AWSJSON
import AWSSigning
import Foundation

/// One plain HTTP exchange with a local credentials endpoint (container agent, instance
/// metadata). The gateway supplies its own HTTP client; tests supply a real server.
public struct CredentialHTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var timeoutSeconds: Double

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], timeoutSeconds: Double) {
        self.method = method
        self.url = url
        self.headers = headers
        self.timeoutSeconds = timeoutSeconds
    }
}

public struct CredentialHTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// A transport failure (refused, timed out): distinct from an HTTP error status.
public struct CredentialHTTPError: Error, Sendable {
    public var timedOut: Bool
    public var message: String
    public init(timedOut: Bool, message: String) {
        self.timedOut = timedOut
        self.message = message
    }
}

public protocol CredentialHTTPClient: Sendable {
    func send(_ request: CredentialHTTPRequest) async throws(CredentialHTTPError) -> CredentialHTTPResponse
}

/// The JSON both the container agent and instance metadata answer with:
/// `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration` (ISO 8601); `credential_process`
/// prints the same with `SessionToken` for the token.
enum TemporaryCredentialsJSON {
    static func parse(_ body: [UInt8], source: String) throws(CredentialsError) -> Credentials {
        guard case .object(let object)? = try? JSON.parse(body) else {
            throw CredentialsError(source: source, reason: "the answer is not a JSON object")
        }
        return try credentials(object, tokenKey: "Token", source: source, what: "the answer")
    }

    /// The keys, token and expiry of an object; `what` names it in errors.
    static func credentials(_ object: JSONObject, tokenKey: String, source: String, what: String) throws(CredentialsError) -> Credentials {
        guard let id = object["AccessKeyId"]?.stringValue, let secret = object["SecretAccessKey"]?.stringValue else {
            throw CredentialsError(source: source, reason: "\(what) has no AccessKeyId/SecretAccessKey")
        }
        var expiration: Date?
        if let text = object["Expiration"]?.stringValue {
            guard let date = parseISO8601(text) else { throw CredentialsError(source: source, reason: "\(what)'s Expiration is not an ISO 8601 time") }
            expiration = date
        }
        return Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: object[tokenKey]?.stringValue, expiration: expiration)
    }
}

/// An ISO 8601 time as AWS writes expirations (`2026-11-30T12:00:00Z`, fractions allowed).
func parseISO8601(_ text: String) -> Date? {
    Timestamp.parse(text).map { Date(timeIntervalSince1970: Double($0.seconds) + Double($0.microseconds) / 1e6) }
}
