import AWSModels
import Foundation

/// Where the botocore models are: `--models`, the config file's `models:`, `AWSGW_MODELS`
/// (empty counts as unset), then the first of `./models`, the installed
/// `PREFIX/share/awsgw/models` and the `models` folder of the checkout the binary was built in.
enum ModelsLocation {
    /// A folder chosen, and what chose it (for the message when it holds no models).
    struct Choice {
        let path: String
        let origin: String
    }

    static func choose(flag: String?, config: String? = nil, environment: [String: String]) -> Choice {
        if let flag { return Choice(path: flag, origin: "--models") }
        if let config { return Choice(path: config, origin: "the config file's models:") }
        if let fromEnv = environment["AWSGW_MODELS"], !fromEnv.isEmpty { return Choice(path: fromEnv, origin: "AWSGW_MODELS") }
        let candidates = searched()
        let found = candidates.first { FileManager.default.fileExists(atPath: $0 + "/partitions.json") }
        return Choice(path: found ?? candidates[0], origin: found == nil ? "searched " + candidates.joined(separator: ", ") : "found")
    }

    /// The folders looked in when nothing names one, in order.
    static func searched() -> [String] {
        var candidates = [FileManager.default.currentDirectoryPath + "/models"]
        // The running binary itself (argv[0] is only "awsgw" when found on PATH).
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let executable = URL(fileURLWithPath: binary).resolvingSymlinksInPath()
        // An installed binary (`make install`): PREFIX/bin/awsgw → PREFIX/share/awsgw/models.
        candidates.append(executable.deletingLastPathComponent().deletingLastPathComponent().path + "/share/awsgw/models")
        // .build/<triple>/<config>/awsgw → the checkout's models folder.
        var dir = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.path + "/models")
            dir = dir.deletingLastPathComponent()
        }
        return candidates
    }

    /// The models of the chosen folder, or an error that says how to get them.
    static func open(_ choice: Choice) throws(ModelsNotFound) -> ModelStore {
        guard FileManager.default.fileExists(atPath: choice.path + "/partitions.json"), let store = try? ModelStore(root: choice.path) else {
            throw ModelsNotFound(choice: choice)
        }
        return store
    }

    static func open(_ flag: String?, config: String? = nil) throws(ModelsNotFound) -> ModelStore {
        try open(choose(flag: flag, config: config, environment: ProcessInfo.processInfo.environment))
    }
}

/// No botocore models where the gateway looked.
struct ModelsNotFound: Error, CustomStringConvertible {
    let choice: ModelsLocation.Choice
    var description: String {
        let place = choice.origin.hasPrefix("searched") ? "no AWS models found (\(choice.origin))"
            : "no AWS models at \(choice.path) (from \(choice.origin))"
        return place + ": run `make setup` in awsgw's checkout (it fetches them into models/), "
            + "or name a botocore data folder with --models DIR or AWSGW_MODELS (`make install` puts one in PREFIX/share/awsgw/models)"
    }
}
