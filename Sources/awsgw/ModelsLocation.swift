import AWSModels
import Foundation

/// Where the botocore models are: `--models`, `AWSGW_MODELS`, `./models`, or the
/// `models` folder of the checkout the binary was built in.
enum ModelsLocation {
    static func open(_ explicit: String?) throws -> ModelStore {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let fromEnv = environment["AWSGW_MODELS"], !fromEnv.isEmpty { candidates.append(fromEnv) }
        candidates.append(FileManager.default.currentDirectoryPath + "/models")
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
        let chosen = explicit ?? environment["AWSGW_MODELS"] ?? candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/partitions.json") }) ?? candidates[0]
        return try ModelStore(root: chosen)
    }
}
