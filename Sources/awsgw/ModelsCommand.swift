import AWSClient
import AWSModels
import AWSProtocols
import ArgumentParser

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "Lists the services awsgw knows, or one service's operations.",
        subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lists services, or the operations of SERVICE.")

        @Argument(help: "A service (botocore name or serviceId).") var service: String?
        @Option(help: "The botocore data folder (default: AWSGW_MODELS or ./models).") var models: String?

        func run() throws {
            let store: ModelStore
            do {
                store = try ModelsLocation.open(models)
            } catch {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
            guard let service else {
                // Service, the protocol botocore speaks to it, and whether awsgw serves it yet.
                let width = (store.serviceNames.map(\.count).max() ?? 0) + 2
                for name in store.serviceNames {
                    let metadata = store.metadata(name)
                    let proto = metadata?.resolvedProtocol ?? "?"
                    let served = metadata.map(ProtocolCodecs.serves) == true ? "callable" : "not yet"
                    print(name.padding(toLength: width, withPad: " ", startingAt: 0) + proto.padding(toLength: 20, withPad: " ", startingAt: 0) + served)
                }
                return
            }
            do {
                guard let model = try store.service(service) else {
                    let suggestions = store.serviceSuggestions(for: service)
                    printError("awsgw: unknown service \(service)" + (suggestions.isEmpty ? "" : "; did you mean \(suggestions.joined(separator: ", "))?"))
                    throw ExitCode(1)
                }
                for name in model.operationNames.sorted() { print(name) }
            } catch let error as ModelError {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
