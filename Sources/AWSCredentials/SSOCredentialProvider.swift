import AWSJSON
import AWSSigning
import Crypto
import Foundation

/// IAM Identity Center (SSO) profiles: the token `aws sso login` cached in
/// `~/.aws/sso/cache/<sha1>.json` (of the `sso_session` name, or of `sso_start_url` in the
/// legacy form), exchanged by `sso.GetRoleCredentials` (unsigned) for the role's keys.
/// The gateway cannot log in: an expired token says to run `aws sso login`.
public struct SSOCredentialProvider: CredentialProvider {
    let profile: String
    let accountId: String
    let roleName: String
    let region: String
    /// The `sso_session` name, or nil for a legacy profile.
    let session: String?
    let startURL: String
    let cacheDirectory: String
    let caller: any AWSOperationCaller
    public var sourceName: String { "profile \(profile) (SSO)" }

    /// The settings of an SSO profile, merged with its `[sso-session]` section.
    init(profile: String, settings: [String: String], files: SharedConfigFiles, home: String, caller: any AWSOperationCaller) throws(CredentialsError) {
        self.profile = profile
        self.caller = caller
        var merged = settings
        if let session = settings["sso_session"] {
            guard let sessionSettings = files.ssoSession(session) else {
                throw CredentialsError(source: "profile \(profile)", reason: "its sso_session \(session) has no [sso-session \(session)] section")
            }
            for (key, value) in sessionSettings {
                if let own = settings[key], own != value {
                    throw CredentialsError(source: "profile \(profile)", reason: "\(key) differs between the profile and [sso-session \(session)]")
                }
                merged[key] = value
            }
        }
        let missing = ["sso_start_url", "sso_region", "sso_account_id", "sso_role_name"].filter { merged[$0] == nil }
        guard missing.isEmpty, let startURL = merged["sso_start_url"], let region = merged["sso_region"], let accountId = merged["sso_account_id"],
              let roleName = merged["sso_role_name"]
        else { throw CredentialsError(source: "profile \(profile)", reason: "the SSO profile lacks \(missing.joined(separator: ", "))") }
        self.session = settings["sso_session"]
        self.startURL = startURL
        self.region = region
        self.accountId = accountId
        self.roleName = roleName
        cacheDirectory = home + "/.aws/sso/cache"
    }

    /// The cache file's name, as the SDKs derive it.
    var cacheFile: String {
        let digest = Insecure.SHA1.hash(data: Array((session ?? startURL).utf8))
        return cacheDirectory + "/" + digest.map { String(format: "%02x", $0) }.joined() + ".json"
    }

    public func credentials() async throws(CredentialsError) -> Credentials {
        let token = try await accessToken()
        let login = loginCommand
        let result: JSONObject
        do {
            result = try await caller.call("sso.GetRoleCredentials", params: JSONObject([("roleName", .string(roleName)), ("accountId", .string(accountId)),
                                                                                   ("accessToken", .string(token))]),
                                           region: region, credentials: nil)
        } catch {
            throw CredentialsError(source: sourceName, reason: "sso.GetRoleCredentials failed: \(error); if the session ended, run `\(login)`")
        }
        guard let issued = result["roleCredentials"]?.objectValue, let id = issued["accessKeyId"]?.stringValue,
              let secret = issued["secretAccessKey"]?.stringValue
        else { throw CredentialsError(source: sourceName, reason: "sso.GetRoleCredentials answered without roleCredentials") }
        let expiration = issued["expiration"]?.doubleValue.map { Date(timeIntervalSince1970: $0 / 1000) }
        return Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: issued["sessionToken"]?.stringValue, expiration: expiration)
    }

    var loginCommand: String { session.map { "aws sso login --sso-session \($0)" } ?? "aws sso login --profile \(profile)" }

    /// The cached token; for an `sso_session` one within 15 minutes of expiry, a new one
    /// from `sso-oidc.CreateToken` (its refresh token), written back to the cache as the
    /// SDKs do. A failed refresh keeps a token that is still valid.
    func accessToken() async throws(CredentialsError) -> String {
        guard let data = FileManager.default.contents(atPath: cacheFile), case .object(var cached)? = try? JSON.parse(Array(data)),
              let token = cached["accessToken"]?.stringValue, let expiresAt = cached["expiresAt"]?.stringValue.flatMap(parseISO8601)
        else { throw CredentialsError(source: sourceName, reason: "no cached SSO token (\(cacheFile)); run `\(loginCommand)`") }
        let now = Date()
        if session != nil, expiresAt.timeIntervalSince(now) < 15 * 60, let refreshToken = cached["refreshToken"]?.stringValue,
           let clientId = cached["clientId"]?.stringValue, let clientSecret = cached["clientSecret"]?.stringValue,
           let registrationExpires = cached["registrationExpiresAt"]?.stringValue.flatMap(parseISO8601), registrationExpires > now {
            let params = JSONObject([("grantType", "refresh_token"), ("clientId", .string(clientId)), ("clientSecret", .string(clientSecret)),
                                     ("refreshToken", .string(refreshToken))])
            if let answer = try? await caller.call("sso-oidc.CreateToken", params: params, region: region, credentials: nil),
               let fresh = answer["accessToken"]?.stringValue, let expiresIn = answer["expiresIn"]?.intValue {
                cached["accessToken"] = .string(fresh)
                cached["expiresAt"] = .string(iso8601(now.addingTimeInterval(Double(expiresIn))))
                if let next = answer["refreshToken"]?.stringValue { cached["refreshToken"] = .string(next) }
                Self.writePrivately(JSON.object(cached).serialized(), to: cacheFile)
                return fresh
            }
        }
        guard expiresAt > now else { throw CredentialsError(source: sourceName, reason: "the SSO token has expired; run `\(loginCommand)`") }
        return token
    }

    /// Replaces the file at once (a temporary file renamed over it), readable by its owner only.
    static func writePrivately(_ bytes: [UInt8], to path: String) {
        let temporary = path + ".awsgw-\(UUID().uuidString.prefix(8))"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else { return }
        if rename(temporary, path) != 0 { try? FileManager.default.removeItem(atPath: temporary) }
    }
}
