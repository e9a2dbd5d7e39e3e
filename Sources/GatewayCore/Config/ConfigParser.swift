import AWSClient
import Foundation
import Yams

/// Reading a configuration file: YAML to plain values, then each key to its typed setting
/// (ConfigReader), every problem named with its key path.
extension GatewayConfig {
    /// The most YAML nodes a file may hold, aliases counted each time they are used (an
    /// alias bomb is refused rather than expanded).
    static let maxYAMLNodes = 100_000

    /// A YAML node as the plain values the reader expects ([String: Any], [Any], String,
    /// Int, Double, Bool, NSNull): every mapping key a plain value, none twice; quoted
    /// scalars always strings; integers in decimal only; the file bounded once aliases are
    /// expanded.
    static func plainValue(_ node: Node, path: String, budget: inout Int) throws(ConfigProblem) -> Any {
        budget -= 1
        if budget < 0 { throw ConfigProblem(path: "(file)", problem: "too large: more than \(maxYAMLNodes) values, aliases expanded") }
        switch node {
        case .mapping(let mapping):
            var out: [String: Any] = [:]
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw ConfigProblem(path: path.isEmpty ? "(file)" : path, problem: "a key must be a plain value, not a list or mapping")
                }
                let name = scalar.string
                let childPath = path.isEmpty ? name : path + "." + name
                guard out[name] == nil else {
                    throw ConfigProblem(path: childPath, problem: "given twice; a second value would silently replace the first")
                }
                out[name] = try plainValue(value, path: childPath, budget: &budget)
            }
            return out
        case .sequence(let sequence):
            var out: [Any] = []
            for (i, item) in sequence.enumerated() { out.append(try plainValue(item, path: "\(path)[\(i)]", budget: &budget)) }
            return out
        case .scalar(let scalar):
            let text = scalar.string
            guard scalar.style == .plain || scalar.style == .any else { return text }
            switch text {
            case "", "~", "null", "Null", "NULL": return NSNull()
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
            let body = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
            if !body.isEmpty, body.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let int = Int(text) { return int }
            if body.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), body.first?.isNumber == true, let double = Double(text), double.isFinite {
                return double
            }
            return text
        case .alias:
            throw ConfigProblem(path: path.isEmpty ? "(file)" : path, problem: "an alias that names no anchor")
        }
    }


    /// Keys the file may hold. Anything else is an error: a typo must never silently
    /// weaken policy.
    static let topLevelKeys: Set<String> = [
        "listen", "socket_mode", "tls", "models", "region", "credentials", "allow_plaintext_non_loopback", "allowed_hosts", "limits",
        "upstream", "teams", "cache", "logs", "log_level", "log_format", "shared", "idle_poll",
    ]

    /// Reads a file. Relative paths in it (listeners' sockets, TLS files, models, logs, CA
    /// and token files) are relative to the file's folder, so it means the same from any
    /// working directory.
    public static func load(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> GatewayConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(file: file, problems: [ConfigProblem(path: "(file)", problem: "cannot read the file")])
        }
        return try parse(String(decoding: data, as: UTF8.self), file: file, environment: environment,
                         directory: (absolutePath(file) as NSString).deletingLastPathComponent)
    }

    /// `path` made absolute against the working directory, `.` and `..` removed.
    public static func absolutePath(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (absolute as NSString).standardizingPath
    }

    /// `directory`: where relative paths in the text lead (the file's folder); nil keeps
    /// them as written.
    public static func parse(_ text: String, file: String = "(config)", environment: [String: String] = [:],
                             directory: String? = nil) throws(ConfigError) -> GatewayConfig {
        let (document, root) = try plainDocument(text, file: file)
        var config = GatewayConfig()
        config.upstream.retry = RetrySettings.fromEnvironment(environment)
        guard let root else { return config }
        guard let top = root as? [String: Any] else {
            throw ConfigError(file: file, problems: [ConfigProblem(path: "(file)", problem: "the top level must be a mapping")])
        }
        var reader = ConfigReader(document: document)
        reader.read(top, into: &config)
        if !reader.problems.isEmpty { throw ConfigError(file: file, problems: reader.problems) }
        if let directory { config.resolvePaths(against: directory) }
        return config
    }

    /// The YAML document, and its plain values (nil for an empty file).
    static func plainDocument(_ text: String, file: String) throws(ConfigError) -> (Node?, Any?) {
        do {
            // The document is turned into values here, not by Yams's constructor: it traps on
            // a key that is a list, on base-60 integers that overflow (`2:2:2:…:21`), and
            // keeps the last of two equal keys without a word (all found by make fuzz).
            var budget = GatewayConfig.maxYAMLNodes
            let document = try Yams.compose(yaml: text)
            return (document, try document.map { node throws(ConfigProblem) in try GatewayConfig.plainValue(node, path: "", budget: &budget) })
        } catch let problem as ConfigProblem {
            throw ConfigError(file: file, problems: [problem])
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: file, problems: [ConfigProblem(path: "(file)", problem: "not valid YAML: \(error)")])
        }
    }

    static func suggestion(_ key: String, among known: Set<String>) -> String {
        let close = known.filter { k in
            let a = Array(k), b = Array(key)
            return abs(a.count - b.count) <= 2 && (k.hasPrefix(String(key.prefix(3))) || k.hasSuffix(String(key.suffix(3))))
        }.sorted()
        return close.isEmpty ? "" : " (did you mean \(close.joined(separator: ", "))?)"
    }
}
