import AWSJSON
import Foundation

/// Where tests find their data: the fetched botocore models and suites (made by
/// `scripts/setup.sh`) and the SigV4 vectors in `../shared/conformance`.
public enum Fixtures {
    /// The package root, found from this file's path.
    public static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    public static var modelsDir: String { repoRoot + "/models" }

    /// The awsgw binary built beside the test bundle.
    public static var awsgwBinary: String {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("awsgw").path, dir.deletingLastPathComponent().appendingPathComponent("awsgw").path]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return repoRoot + "/.build/debug/awsgw"
    }
    public static var botocoreTests: String { repoRoot + "/fixtures/botocore/tests" }
    public static var sharedConformance: String { repoRoot + "/../shared/conformance" }

    /// Reads a fixture file, failing loudly with its path when it is missing.
    public static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FixtureError.missing(path)
        }
        return Array(data)
    }

    public static func readText(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    public static func readJSON(_ path: String) throws -> JSON {
        do {
            return try JSON.parse(try read(path))
        } catch let error as JSONParseError {
            throw FixtureError.invalid(path, error.description)
        }
    }

    public static func listDirectory(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    public static func isDirectory(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
    }
}

public enum FixtureError: Error, CustomStringConvertible {
    case missing(String)
    case invalid(String, String)
    public var description: String {
        switch self {
        case .missing(let path): return "fixture file missing: \(path) (run scripts/setup.sh)"
        case .invalid(let path, let why): return "fixture file \(path) is not valid: \(why)"
        }
    }
}
