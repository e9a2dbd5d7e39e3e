import AWSSigning
import Foundation

/// The EC2 instance role from instance metadata, IMDSv2: a session token from
/// `PUT /latest/api/token`, then the role name and its credentials with that token.
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT` / `_MODE` (IPv4 or IPv6), `AWS_EC2_METADATA_DISABLED`,
/// `AWS_METADATA_SERVICE_TIMEOUT` (1 s) and `AWS_METADATA_SERVICE_NUM_ATTEMPTS` (1) as
/// botocore reads them; without a token (the PUT refused with 403, 404 or 405, or not
/// answered in time) it asks without one, as IMDSv1, unless `AWS_EC2_METADATA_V1_DISABLED`.
/// Credentials near their expiry are stretched as botocore does (`extendedIfExpiring`).
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    static let ipv4Endpoint = "http://169.254.169.254/"
    static let ipv6Endpoint = "http://[fd00:ec2::254]/"
    static let tokenPath = "latest/api/token"
    static let rolePath = "latest/meta-data/iam/security-credentials/"
    static let tokenTTLHeader = "x-aws-ec2-metadata-token-ttl-seconds"
    static let tokenHeader = "x-aws-ec2-metadata-token"
    static let tokenTTLSeconds = "21600"

    let environment: [String: String]
    let http: any CredentialHTTPClient
    public var sourceName: String { "instance metadata (IMDS)" }

    public init(environment: [String: String], http: any CredentialHTTPClient) {
        self.environment = environment
        self.http = http
    }

    var isDisabled: Bool { environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" }
    var v1Disabled: Bool { environment["AWS_EC2_METADATA_V1_DISABLED"]?.lowercased() == "true" }
    var timeout: Double { environment["AWS_METADATA_SERVICE_TIMEOUT"].flatMap(Double.init).map { max($0, 0.1) } ?? 1 }
    var attempts: Int { environment["AWS_METADATA_SERVICE_NUM_ATTEMPTS"].flatMap(Int.init).map { max($0, 1) } ?? 1 }

    var endpoint: String {
        if let configured = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"], !configured.isEmpty {
            return configured.hasSuffix("/") ? configured : configured + "/"
        }
        return environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() == "ipv6" ? Self.ipv6Endpoint : Self.ipv4Endpoint
    }

    public func credentials() async throws(CredentialsError) -> Credentials {
        if isDisabled { throw CredentialsError(source: sourceName, reason: "AWS_EC2_METADATA_DISABLED is true") }
        let token = try await sessionToken()
        var headers: [(name: String, value: String)] = []
        if let token { headers.append((Self.tokenHeader, token)) }
        let roleAnswer = try await get(Self.rolePath, headers: headers, what: "the role name")
        guard let role = String(decoding: roleAnswer, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw CredentialsError(source: sourceName, reason: "the instance has no IAM role")
        }
        let body = try await get(Self.rolePath + role, headers: headers, what: "the role's credentials")
        return Self.extendedIfExpiring(try TemporaryCredentialsJSON.parse(body, source: sourceName), now: Date())
    }

    /// The IMDSv2 token, or nil where botocore goes on without one: the PUT refused (403,
    /// 404, 405), timed out, or failing every attempt; a 400 is an error.
    func sessionToken() async throws(CredentialsError) -> String? {
        let request = CredentialHTTPRequest(method: "PUT", url: endpoint + Self.tokenPath, headers: [(Self.tokenTTLHeader, Self.tokenTTLSeconds)],
                                            timeoutSeconds: timeout)
        var fallback = "no token"
        var rejected = false
        attempts: for _ in 0..<attempts {
            do throws(CredentialHTTPError) {
                let response = try await http.send(request)
                switch response.status {
                case 200: return String(decoding: response.body, as: UTF8.self)
                case 400:
                    rejected = true
                    break attempts
                case 403, 404, 405:
                    fallback = "the token request was refused (HTTP \(response.status))"
                    break attempts
                default: fallback = "the token request answered HTTP \(response.status)"
                }
            } catch {
                fallback = error.timedOut ? "the token request timed out" : "the token request failed (\(error.message))"
                if error.timedOut { break attempts }
            }
        }
        if rejected { throw CredentialsError(source: sourceName, reason: "the token request was rejected as bad (HTTP 400)") }
        if v1Disabled { throw CredentialsError(source: sourceName, reason: "\(fallback), and IMDSv1 is disabled (AWS_EC2_METADATA_V1_DISABLED)") }
        return nil
    }

    /// A metadata path, tried `attempts` times (no pause) while it fails or answers nothing.
    func get(_ path: String, headers: [(name: String, value: String)], what: String) async throws(CredentialsError) -> [UInt8] {
        let request = CredentialHTTPRequest(method: "GET", url: endpoint + path, headers: headers, timeoutSeconds: timeout)
        var problem = ""
        for _ in 0..<attempts {
            do throws(CredentialHTTPError) {
                let response = try await http.send(request)
                if response.status == 200, !response.body.isEmpty { return response.body }
                problem = response.status == 200 ? "asking for \(what) gave an empty answer" : "asking for \(what) answered HTTP \(response.status)"
            } catch {
                problem = error.timedOut ? "asking for \(what) timed out" : "instance metadata could not be reached (\(error.message))"
            }
        }
        throw CredentialsError(source: sourceName, reason: problem)
    }

    /// botocore's static stability: credentials the service still hands out near or past
    /// their expiry are used for another 15 minutes plus 2 to 10 (instances keep working
    /// while the service cannot renew them).
    static func extendedIfExpiring(_ credentials: Credentials, now: Date) -> Credentials {
        guard let expiration = credentials.expiration else { return credentials }
        let interval = 900 + Double(Int.random(in: 120...600))
        guard now >= expiration.addingTimeInterval(-interval) else { return credentials }
        var extended = credentials
        extended.expiration = now.addingTimeInterval(interval)
        return extended
    }
}
