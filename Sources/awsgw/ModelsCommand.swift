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
                // Service, the protocol botocore speaks to it, and what of it awsgw serves.
                let width = (store.serviceNames.map(\.count).max() ?? 0) + 2
                for name in store.serviceNames {
                    let metadata = store.metadata(name)
                    let proto = metadata?.resolvedProtocol ?? "?"
                    print(name.padding(toLength: width, withPad: " ", startingAt: 0) + proto.padding(toLength: 20, withPad: " ", startingAt: 0)
                          + ModelsCommand.support(of: name, metadata: metadata, in: store).description)
                }
                return
            }
            do {
                guard let model = try store.service(service) else {
                    let suggestions = store.serviceSuggestions(for: service)
                    printError("awsgw: unknown service \(service)" + (suggestions.isEmpty ? "" : "; did you mean \(suggestions.joined(separator: ", "))?"))
                    throw ExitCode(1)
                }
                // Each operation, and why it cannot be called when it cannot.
                for name in model.operationNames.sorted() {
                    if let why = ProtocolCodecs.whyNotServed(model.metadata) ?? ProtocolCodecs.unsupportedFeature(of: model.operations[name], in: model.metadata) {
                        print(name + "  (not served: \(why))")
                    } else {
                        print(name)
                    }
                }
            } catch let error as ModelError {
                printError("awsgw: \(error)")
                throw ExitCode(1)
            }
        }
    }

    /// From the metadata alone, unless the model asks for a feature some operations need
    /// (endpoint discovery): then the model is loaded and each operation looked at.
    static func support(of name: String, metadata: ServiceMetadata?, in store: ModelStore) -> ServiceSupport {
        guard let metadata else { return .notServed(why: "model unreadable") }
        if let why = ProtocolCodecs.whyNotServed(metadata) { return .notServed(why: why) }
        guard store.serviceFile(name, contains: "\"endpointdiscovery\""), let model = try? store.service(name) else { return .callable }
        return ProtocolCodecs.support(of: model)
    }
}
