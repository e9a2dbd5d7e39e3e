import AWSSigning
import Foundation

/// ECS task roles and EKS Pod Identity: the agent's endpoint named by
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on 169.254.170.2) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (https, or http to a loopback address or one of
/// the agents' addresses, as the SDKs allow), with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`
/// (read on every fetch) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
public struct ContainerCredentialProvider: CredentialProvider {
    static let relativeBase = "http://169.254.170.2"
    /// The addresses plain http may reach besides loopback ones (ECS, EKS Pod Identity).
    static let agentHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23"]
    static let timeoutSeconds = 2.0
    static let attempts = 3

    let environment: [String: String]
    let http: any CredentialHTTPClient
    public var sourceName: String { "container credentials" }

    public init(environment: [String: String], http: any CredentialHTTPClient) {
        self.environment = environment
        self.http = http
    }

    /// Whether the environment names a container endpoint at all (the chain skips it if not).
    public static func isConfigured(_ environment: [String: String]) -> Bool {
        !(environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] ?? "").isEmpty || !(environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] ?? "").isEmpty
    }

    public func credentials() async throws(CredentialsError) -> Credentials {
        let url = try endpoint()
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let token = try authorizationToken() { headers.append(("Authorization", token)) }
        let request = CredentialHTTPRequest(method: "GET", url: url, headers: headers, timeoutSeconds: Self.timeoutSeconds)
        var lastProblem = ""
        for attempt in 1...Self.attempts {
            do throws(CredentialHTTPError) {
                let response = try await http.send(request)
                if response.status == 200 {
                    do throws(CredentialsError) {
                        return try TemporaryCredentialsJSON.parse(response.body, source: sourceName)
                    } catch {
                        lastProblem = error.reason
                    }
                } else {
                    lastProblem = "the endpoint answered HTTP \(response.status)"
                }
            } catch {
                lastProblem = error.timedOut ? "the endpoint did not answer within \(Int(Self.timeoutSeconds)) s" : "the endpoint could not be reached (\(error.message))"
            }
            if attempt < Self.attempts { try? await Task.sleep(nanoseconds: 1_000_000_000) }
        }
        throw CredentialsError(source: sourceName, reason: lastProblem)
    }

    func endpoint() throws(CredentialsError) -> String {
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            return Self.relativeBase + relative
        }
        guard let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty else {
            throw CredentialsError(source: sourceName, reason: "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set")
        }
        guard let (scheme, host) = Self.schemeAndHost(full) else {
            throw CredentialsError(source: sourceName, reason: "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL")
        }
        guard scheme == "https" || (scheme == "http" && Self.isAllowedPlainHost(host)) else {
            throw CredentialsError(source: sourceName, reason:
                "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23 (it names \(host))")
        }
        return full
    }

    /// The token file wins over the variable; a token with a line break is refused (it
    /// would split the request's headers).
    func authorizationToken() throws(CredentialsError) -> String? {
        var token: String?
        if let path = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !path.isEmpty {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CredentialsError(source: sourceName, reason: "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path)")
            }
            token = String(decoding: data, as: UTF8.self)
        } else if let value = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !value.isEmpty {
            token = value
        }
        if let token, token.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) {
            throw CredentialsError(source: sourceName, reason: "the container authorization token holds a line break")
        }
        return token
    }

    public static func isAllowedPlainHost(_ host: String) -> Bool {
        if agentHosts.contains(host) || host == "localhost" || host == "::1" { return true }
        // 127.0.0.0/8
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The scheme and host of a URL (an IPv6 host without its brackets).
    static func schemeAndHost(_ url: String) -> (String, String)? {
        guard let separator = url.range(of: "://") else { return nil }
        let scheme = url[..<separator.lowerBound].lowercased()
        var rest = url[separator.upperBound...]
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        let host: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
        } else {
            host = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }
        guard !host.isEmpty, scheme == "http" || scheme == "https" else { return nil }
        return (scheme, host.lowercased())
    }
}
