import AWSJSON
import AWSSigning
import Foundation

/// Calls an AWS operation the way the gateway calls any (endpoint rules, signing, retries),
/// for sources that get credentials from AWS itself (STS, SSO). `credentials` nil sends
/// it unsigned. Errors describe the failure without secrets.
public protocol AWSOperationCaller: Sendable {
    func call(_ method: String, params: JSONObject, region: String, credentials: Credentials?) async throws -> JSONObject
}

/// `sts.AssumeRole` with another source's credentials (a profile's `role_arn` with
/// `source_profile` or `credential_source`, or a config file's `assume_role` source).
public struct AssumeRoleCredentialProvider: CredentialProvider {
    public let roleArn: String
    let sessionName: String?
    let externalId: String?
    let durationSeconds: Int?
    let source: any CredentialProvider
    let caller: any AWSOperationCaller
    let region: String
    public let sourceName: String

    public init(roleArn: String, sessionName: String?, externalId: String?, durationSeconds: Int?, source: any CredentialProvider,
                caller: any AWSOperationCaller, region: String?, sourceName: String) {
        self.roleArn = roleArn
        self.sessionName = sessionName
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.source = source
        self.caller = caller
        self.region = STSRegion.pick(region)
        self.sourceName = sourceName
    }

    public func credentials() async throws(CredentialsError) -> Credentials {
        let sourceCredentials: Credentials
        do throws(CredentialsError) {
            sourceCredentials = try await source.credentials()
        } catch {
            throw CredentialsError(source: sourceName, reason: "its source credentials failed: \(error.source): \(error.reason)")
        }
        var params = JSONObject([("RoleArn", .string(roleArn)), ("RoleSessionName", .string(sessionName ?? STSRegion.defaultSessionName()))])
        if let externalId { params.append("ExternalId", .string(externalId)) }
        if let durationSeconds { params.append("DurationSeconds", .int(Int64(durationSeconds))) }
        return try await STSRegion.credentials(from: caller, "sts.AssumeRole", params: params, region: region, signedWith: sourceCredentials,
                                              sourceName: sourceName)
    }
}

/// `sts.AssumeRoleWithWebIdentity` (EKS IRSA and the like): the token file is read again
/// for every fetch, as the token is rotated under the gateway; the call is unsigned.
public struct WebIdentityCredentialProvider: CredentialProvider {
    public let roleArn: String
    let tokenFile: String
    let sessionName: String?
    let caller: any AWSOperationCaller
    let region: String
    public let sourceName: String

    public init(roleArn: String, tokenFile: String, sessionName: String?, caller: any AWSOperationCaller, region: String?, sourceName: String) {
        self.roleArn = roleArn
        self.tokenFile = tokenFile
        self.sessionName = sessionName
        self.caller = caller
        self.region = STSRegion.pick(region)
        self.sourceName = sourceName
    }

    public func credentials() async throws(CredentialsError) -> Credentials {
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw CredentialsError(source: sourceName, reason: "cannot read the web identity token file \(tokenFile)")
        }
        let params = JSONObject([("RoleArn", .string(roleArn)), ("RoleSessionName", .string(sessionName ?? STSRegion.defaultSessionName())),
                                 ("WebIdentityToken", .string(String(decoding: data, as: UTF8.self)))])
        return try await STSRegion.credentials(from: caller, "sts.AssumeRoleWithWebIdentity", params: params, region: region, signedWith: nil,
                                              sourceName: sourceName)
    }
}

enum STSRegion {
    /// botocore asks STS in the caller's region (regional endpoints, its default), or at
    /// the global endpoint (`aws-global`) when none is known.
    static func pick(_ region: String?) -> String {
        guard let region, !region.isEmpty else { return "aws-global" }
        return region
    }

    /// botocore's default `RoleSessionName`.
    static func defaultSessionName() -> String { "botocore-session-\(Int(Date().timeIntervalSince1970))" }

    /// The `Credentials` member of an STS answer.
    static func credentials(from caller: any AWSOperationCaller, _ method: String, params: JSONObject, region: String,
                            signedWith credentials: Credentials?, sourceName: String) async throws(CredentialsError) -> Credentials {
        let result: JSONObject
        do {
            result = try await caller.call(method, params: params, region: region, credentials: credentials)
        } catch {
            throw CredentialsError(source: sourceName, reason: "\(method) failed: \(error)")
        }
        guard let issued = result["Credentials"]?.objectValue, let id = issued["AccessKeyId"]?.stringValue,
              let secret = issued["SecretAccessKey"]?.stringValue, let token = issued["SessionToken"]?.stringValue
        else { throw CredentialsError(source: sourceName, reason: "\(method) answered without Credentials") }
        let expiration = issued["Expiration"]?.stringValue.flatMap(parseISO8601)
        return Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }
}

/// An IAM role ARN: `arn:<partition>:iam::<12 digits>:role/<path/name>`.
public func isValidRoleArn(_ arn: String) -> Bool {
    let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
    guard parts.count == 6, parts[0] == "arn", !parts[1].isEmpty, parts[2] == "iam", parts[3].isEmpty,
          parts[4].count == 12, parts[4].allSatisfy(\.isNumber), parts[5].hasPrefix("role/"), parts[5].count > 5
    else { return false }
    return true
}
