import ArgumentParser
import Foundation
import GatewayCore

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Configuration files.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validates FILE; names each offending key or value.")
        @Argument(help: "The YAML configuration file.") var file: String

        func run() throws {
            do {
                let environment = ProcessInfo.processInfo.environment
                let config = try GatewayConfig.load(file: file, environment: environment)
                print("awsgw: \(file) is valid")
                for warning in config.warnings(environment: environment) { printError("awsgw: warning: \(warning)") }
            } catch {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
