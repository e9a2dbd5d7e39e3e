import AWSJSON
import Foundation

/// What one of the repository's Python reference scripts (`scripts/*_reference.py`,
/// run by the machine's python3 with botocore's pinned code) prints, parsed; the reason
/// when it cannot run, so that a suite can say why it is skipped.
public enum PythonReference {
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(_ script: String, _ arguments: [String] = ["--models", Fixtures.modelsDir]) -> Result<JSON, Unavailable> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Fixtures.repoRoot + "/scripts/" + script] + arguments
        let out = Pipe()
        process.standardOutput = out
        // Errors go to a file: a pipe nobody reads while stdout is drained could fill and stall.
        let errorPath = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-ref-\(UUID().uuidString).err").path
        FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        do {
            try process.run()
        } catch {
            return .failure(Unavailable(description: "python3 could not be started: \(error)"))
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let json = try? JSON.parse(Array(data)) else {
            let text = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            return .failure(Unavailable(description: "scripts/\(script) failed: \(text.suffix(400))"))
        }
        return .success(json)
    }

    /// Whether a suite needing a reference must run (under CI, a missing one is a failure).
    public static var required: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
}
