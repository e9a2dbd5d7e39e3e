import AWSClient
import ArgumentParser
import Foundation

@main
struct AWSGW: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "awsgw",
        abstract: "A local gateway: unsigned JSON-RPC in, signed AWS API calls out.",
        version: "awsgw \(AWSGWVersion.awsgw) (AWS models and protocols of botocore \(AWSGWVersion.botocore))",
        subcommands: [ServeCommand.self, CallCommand.self, PresignCommand.self, ModelsCommand.self, CertsCommand.self, ConfigCommand.self, CredentialsCommand.self, KeysCommand.self, LogsCommand.self]
    )

    /// ArgumentParser's own entry point, except that usage errors exit 2 (as INTERFACE.md
    /// says) rather than 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if !message.isEmpty {
                if code == .success { print(message) } else { printError(message) }
            }
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
