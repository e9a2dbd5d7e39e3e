import ArgumentParser

@main
struct AWSGW: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "awsgw",
        abstract: "A local gateway: unsigned JSON-RPC in, signed AWS API calls out.",
        subcommands: [CallCommand.self, ModelsCommand.self]
    )
}
