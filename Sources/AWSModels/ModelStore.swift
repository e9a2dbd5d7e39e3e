import AWSJSON
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Finds and lazily loads service models laid out as botocore's `data` folder:
/// `<service>/<api-version>/service-2.json[.gz]`, `endpoint-rule-set-1.json[.gz]`,
/// and `partitions.json` at the top.
///
/// A model is read and compiled the first time its service is asked for, then kept.
public final class ModelStore: Sendable {
    public let root: String

    private struct State {
        var services: [String: ServiceModel] = [:]
        var ruleSets: [String: JSON] = [:]
        var paginators: [String: JSONObject] = [:]
        var waiters: [String: JSONObject] = [:]
        var serviceIdIndex: [String: String]?
        var partitions: JSON?
    }
    private let state = Mutex(State())
    /// Folder names found under the root, sorted.
    public let serviceNames: [String]
    /// Folder names by their loose form (no dashes, lower case), made once.
    private let servicesByLooseName: [String: String]
    private let serviceSuggester: NameSuggester

    public init(root: String) throws(ModelError) {
        self.root = root
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelError.missingFile(root)
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        serviceNames = entries.filter { entry in
            var dir: ObjCBool = false
            return !entry.hasPrefix(".") && !entry.hasPrefix("_")
                && FileManager.default.fileExists(atPath: root + "/" + entry, isDirectory: &dir) && dir.boolValue
        }.sorted()
        var loose: [String: String] = [:]
        for name in serviceNames where loose[ServiceModel.looseName(name)] == nil { loose[ServiceModel.looseName(name)] = name }
        servicesByLooseName = loose
        serviceSuggester = NameSuggester(serviceNames)
    }

    /// A service's `metadata` alone, read without loading the whole model (for listings).
    public func metadata(_ service: String) -> ServiceMetadata? {
        guard let dir = try? latestVersionDirectory(service), let (_, bytes) = try? ModelFiles.readBytes(atPath: dir + "/service-2.json") else { return nil }
        // "metadata" is near the top of every model: parse just that object.
        let key = Array("\"metadata\"".utf8)
        guard let at = bytes.firstRange(of: key) else { return nil }
        var index = at.upperBound
        while index < bytes.count && bytes[index] != UInt8(ascii: "{") { index += 1 }
        var depth = 0, inString = false, escaped = false
        var end = index
        while end < bytes.count {
            let byte = bytes[end]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") {
                depth += 1
            } else if byte == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { break }
            }
            end += 1
        }
        guard end < bytes.count, case .object(let object)? = try? JSON.parse(Array(bytes[index...end])) else { return nil }
        return ServiceMetadata(object)
    }

    /// Whether a service's model file holds `text` (a key, quoted): a cheap look for a
    /// feature before loading the whole model.
    public func serviceFile(_ service: String, contains text: String) -> Bool {
        guard let dir = try? latestVersionDirectory(service), let (_, bytes) = try? ModelFiles.readBytes(atPath: dir + "/service-2.json") else { return false }
        // libc's strstr over the text (JSON holds no NUL byte): a generic search over every
        // model costs seconds in a debug build.
        var terminated = bytes
        terminated.append(0)
        return terminated.withUnsafeBufferPointer { haystack in
            haystack.withMemoryRebound(to: CChar.self) { strstr($0.baseAddress!, text) != nil }
        }
    }

    /// Resolves what a caller wrote (`networkmanager`, `NetworkManager`, `lambda-core`,
    /// `LambdaCore`) to the botocore folder name, or nil.
    public func canonicalServiceName(_ name: String) -> String? {
        if serviceNames.contains(name) { return name }
        let loose = ServiceModel.looseName(name)
        // Most serviceIds, spaces removed, equal the folder name without dashes.
        if let match = servicesByLooseName[loose] { return match }
        return serviceIdIndex()[loose]
    }

    public func serviceSuggestions(for name: String, limit: Int = 5) -> [String] {
        serviceSuggester.closest(to: name, limit: limit)
    }

    /// The model of a service (botocore name or serviceId), loaded on first use.
    public func service(_ name: String) throws(ModelError) -> ServiceModel? {
        guard let canonical = canonicalServiceName(name) else { return nil }
        if let cached = state.withLock({ $0.services[canonical] }) { return cached }
        var (path, json) = try loadJSON(service: canonical, file: "service-2.json")
        json = try ModelExtras.merged(json, extrasIn: try latestVersionDirectory(canonical))
        let model = try ServiceModel(name: canonical, json: json, file: path)
        return state.withLock { state in
            if let existing = state.services[canonical] { return existing }
            state.services[canonical] = model
            return model
        }
    }

    /// The model of a service if it is loaded already; nil otherwise (nothing is loaded).
    public func loadedService(_ name: String) -> ServiceModel? {
        state.withLock { $0.services[name] }
    }

    /// The service's Endpoints 2.0 rule set, loaded on first use.
    public func endpointRuleSet(_ service: String) throws(ModelError) -> JSON {
        if let cached = state.withLock({ $0.ruleSets[service] }) { return cached }
        let (_, json) = try loadJSON(service: service, file: "endpoint-rule-set-1.json")
        state.withLock { $0.ruleSets[service] = json }
        return json
    }

    /// The service's paginators (`pagination` of `paginators-1.json` with its sdk-extras)
    /// by operation name; empty when it has none. Loaded on first use.
    public func paginators(_ service: String) throws(ModelError) -> JSONObject {
        if let cached = state.withLock({ $0.paginators[service] }) { return cached }
        let table = try sideTable(service, file: "paginators-1", key: "pagination")
        state.withLock { $0.paginators[service] = table }
        return table
    }

    /// The service's waiters (`waiters` of `waiters-2.json` with its sdk-extras) by name;
    /// empty when it has none. Loaded on first use.
    public func waiters(_ service: String) throws(ModelError) -> JSONObject {
        if let cached = state.withLock({ $0.waiters[service] }) { return cached }
        let table = try sideTable(service, file: "waiters-2", key: "waiters")
        state.withLock { $0.waiters[service] = table }
        return table
    }

    /// `key` of the service's `file`.json, its sdk-extras merged in; empty without the file.
    private func sideTable(_ service: String, file: String, key: String) throws(ModelError) -> JSONObject {
        let dir = try latestVersionDirectory(service)
        guard ModelFiles.exists(dir + "/" + file + ".json") else { return JSONObject() }
        let json = try ModelExtras.merged(try ModelFiles.readJSON(atPath: dir + "/" + file + ".json"), extrasIn: dir, file: file)
        return json[key]?.objectValue ?? JSONObject()
    }

    /// `partitions.json` from the root.
    public func partitions() throws(ModelError) -> JSON {
        if let cached = state.withLock({ $0.partitions }) { return cached }
        let json = try ModelFiles.readJSON(atPath: root + "/partitions.json")
        state.withLock { $0.partitions = json }
        return json
    }

    /// The newest API version folder of a service, as botocore picks it.
    public func latestVersionDirectory(_ service: String) throws(ModelError) -> String {
        let dir = root + "/" + service
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { !$0.hasPrefix(".") }
            .filter { ModelFiles.exists(dir + "/" + $0 + "/service-2.json") }
            .sorted()
        guard let latest = versions.last else { throw ModelError.missingFile(dir + "/<api-version>/service-2.json") }
        return dir + "/" + latest
    }

    private func loadJSON(service: String, file: String) throws(ModelError) -> (String, JSON) {
        let dir = try latestVersionDirectory(service)
        let path = dir + "/" + file
        return (path, try ModelFiles.readJSON(atPath: path))
    }

    /// Maps loose serviceIds to folder names, built once by reading each model's
    /// metadata (only needed for the few services whose serviceId differs from the folder).
    private func serviceIdIndex() -> [String: String] {
        if let index = state.withLock({ $0.serviceIdIndex }) { return index }
        var index: [String: String] = [:]
        for service in serviceNames {
            guard let dir = try? latestVersionDirectory(service),
                let head = ModelFiles.readPrefix(atPath: dir + "/service-2.json", bytes: 16384),
                let serviceId = ModelFiles.extractStringField("serviceId", from: head)
            else { continue }
            // Folders are visited in order, so a shared serviceId resolves to the first.
            if index[ServiceModel.looseName(serviceId)] == nil { index[ServiceModel.looseName(serviceId)] = service }
        }
        state.withLock { $0.serviceIdIndex = index }
        return index
    }
}

/// Reading model files: plain or gzip-compressed JSON.
public enum ModelFiles {
    /// True if `path` or `path.gz` exists.
    public static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path) || FileManager.default.fileExists(atPath: path + ".gz")
    }

    /// Reads `path`, or `path.gz` decompressed, and parses it as JSON.
    public static func readJSON(atPath path: String) throws(ModelError) -> JSON {
        let (actual, bytes) = try readBytes(atPath: path)
        do {
            return try JSON.parse(bytes)
        } catch {
            throw ModelError.invalidModel(file: actual, reason: error.description)
        }
    }

    public static func readBytes(atPath path: String) throws(ModelError) -> (String, [UInt8]) {
        if let data = FileManager.default.contents(atPath: path) {
            if path.hasSuffix(".gz") { return (path, try gunzip(Array(data), file: path)) }
            return (path, Array(data))
        }
        let gz = path + ".gz"
        if let data = FileManager.default.contents(atPath: gz) {
            return (gz, try gunzip(Array(data), file: gz))
        }
        throw ModelError.missingFile(path)
    }

    static func gunzip(_ bytes: [UInt8], file: String) throws(ModelError) -> [UInt8] {
        do {
            return try Inflater.inflate(bytes)
        } catch {
            throw ModelError.unreadableFile(file, reason: "\(error)")
        }
    }

    /// The first `bytes` bytes of a model file (decompressed if it is `.gz`).
    static func readPrefix(atPath path: String, bytes count: Int) -> [UInt8]? {
        if let handle = FileHandle(forReadingAtPath: path) {
            defer { try? handle.close() }
            return (try? handle.read(upToCount: count)).map { Array($0) }
        }
        guard let (_, all) = try? readBytes(atPath: path) else { return nil }
        return Array(all.prefix(count))
    }

    /// Finds `"field":"value"` (whitespace allowed) in raw JSON text without parsing it all.
    static func extractStringField(_ field: String, from bytes: [UInt8]) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let keyRange = text.range(of: "\"\(field)\"") else { return nil }
        var rest = text[keyRange.upperBound...].drop(while: { $0 == " " || $0 == "\n" || $0 == ":" || $0 == "\t" || $0 == "\r" })
        guard rest.first == "\"" else { return nil }
        rest = rest.dropFirst()
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }
}
