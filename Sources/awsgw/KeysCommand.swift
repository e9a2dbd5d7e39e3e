import ArgumentParser
import Foundation
import GatewayCore

/// `awsgw keys generate --team NAME`: a key pair for callers of the AWS door to sign with,
/// and the config lines that give it to the team (the secret by environment variable).
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Gateway keys for the AWS door.", subcommands: [Generate.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A new gateway key pair for a team, and the config lines that use it (the secret by environment variable).")
        @Option(help: "The team the key is for.") var team: String

        func validate() throws {
            guard !team.isEmpty, team.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ValidationError("--team: expected a team name of letters, digits, - and _")
            }
        }

        func run() throws {
            let key = GatewayKeyPair.generate()
            let variable = "AWSGW_KEY_" + team.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            print("""
            # A gateway key for team \(team). The caller signs with it as with AWS keys:
            AWS_ACCESS_KEY_ID=\(key.id)
            AWS_SECRET_ACCESS_KEY=\(key.secret)
            # In the gateway's config (the secret stays out of the file):
            teams:
              \(team):
                access_keys: [ { id: \(key.id), secret_env: \(variable) } ]
            # and in awsgw serve's environment:
            \(variable)=\(key.secret)
            """)
        }
    }
}

/// A new key pair: an id in AWS's form (`AKGW` and 16 letters and digits) and a 40-character
/// secret, both from the system's secure random source.
struct GatewayKeyPair {
    let id: String
    let secret: String

    static func generate() -> GatewayKeyPair {
        var random = SystemRandomNumberGenerator()
        let idAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        let secretAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        let id = "AKGW" + String((0..<16).map { _ in idAlphabet[Int(random.next(upperBound: UInt32(idAlphabet.count)))] })
        let secret = String((0..<40).map { _ in secretAlphabet[Int(random.next(upperBound: UInt32(secretAlphabet.count)))] })
        return GatewayKeyPair(id: id, secret: secret)
    }
}
