import ArgumentParser
import GatewayCore

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Configuration files.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validates FILE; names each offending key or value.")
        @Argument(help: "The YAML configuration file.") var file: String

        func run() throws {
            do {
                _ = try GatewayConfig.load(file: file)
                print("awsgw: \(file) is valid")
            } catch {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
