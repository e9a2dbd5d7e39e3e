import AWSPrimitives
import AWSSigning
import Foundation

/// botocore's `ec2-credentials-file`: the file `AWS_CREDENTIAL_FILE` names, in the format
/// of the original EC2 tools (`AWSAccessKeyId=...`, `AWSSecretKey=...`; no session token).
public struct EC2CredentialFileProvider: CredentialProvider {
    let environment: [String: String]
    public var sourceName: String { "AWS_CREDENTIAL_FILE" }

    public init(environment: [String: String]) { self.environment = environment }

    public func credentials() async throws(CredentialsError) -> Credentials {
        guard let path = environment["AWS_CREDENTIAL_FILE"] else { throw CredentialsError(source: sourceName, reason: "not set") }
        let file = SharedConfigFiles.expand(path, home: UserHome.path(environment: environment))
        guard let data = FileManager.default.contents(atPath: file) else { throw CredentialsError(source: sourceName, reason: "cannot read \(file)") }
        var values: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[line[..<eq].trimmingCharacters(in: .whitespaces)] = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        guard let id = values["AWSAccessKeyId"], let secret = values["AWSSecretKey"] else {
            throw CredentialsError(source: sourceName, reason: "\(file) has no AWSAccessKeyId/AWSSecretKey")
        }
        return Credentials(accessKeyId: id, secretAccessKey: secret)
    }
}

/// botocore's `boto-config`: boto2's `[Credentials]` section, in the file `BOTO_CONFIG`
/// names, else the first of `/etc/boto.cfg` and `~/.boto` that has one.
public struct BotoConfigProvider: CredentialProvider {
    let environment: [String: String]
    public var sourceName: String { "boto2 config (BOTO_CONFIG, /etc/boto.cfg, ~/.boto)" }

    public init(environment: [String: String]) { self.environment = environment }

    public func credentials() async throws(CredentialsError) -> Credentials {
        let home = UserHome.path(environment: environment)
        let candidates = environment["BOTO_CONFIG"].map { [$0] } ?? ["/etc/boto.cfg", "~/.boto"]
        for candidate in candidates {
            let path = SharedConfigFiles.expand(candidate, home: home)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let section = SharedConfigFiles.parseINI(atPath: path)["Credentials"], let id = section["aws_access_key_id"] else { continue }
            guard let secret = section["aws_secret_access_key"] else {
                throw CredentialsError(source: sourceName, reason: "\(path) has aws_access_key_id but no aws_secret_access_key")
            }
            return Credentials(accessKeyId: id, secretAccessKey: secret)
        }
        throw CredentialsError(source: sourceName, reason: "no [Credentials] section found")
    }
}
