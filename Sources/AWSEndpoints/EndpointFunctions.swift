import AWSJSON
import Foundation

/// The standard library of the Endpoints 2.0 rules language.
enum EndpointFunctions {
    /// `getAttr(value, "a.b[0]")`: object members and array indexes; unset when absent.
    static func getAttr(_ value: JSON, path: String) -> JSON {
        var current = value
        for part in path.split(separator: ".") {
            var name = Substring(part)
            var index: Int?
            if let open = part.firstIndex(of: "["), part.hasSuffix("]") {
                name = part[..<open]
                index = Int(part[part.index(after: open)..<part.index(before: part.endIndex)])
                if index == nil { return .null }
            }
            if !name.isEmpty {
                guard let next = current[String(name)] else { return .null }
                current = next
            }
            if let index {
                guard case .array(let items) = current, index >= 0, index < items.count else { return .null }
                current = items[index]
            }
        }
        return current
    }

    static func substring(_ s: String, start: Int, stop: Int, reverse: Bool) -> String? {
        let bytes = Array(s.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }), start >= 0, start < stop, stop <= bytes.count else { return nil }
        let range = reverse ? (bytes.count - stop)..<(bytes.count - start) : start..<stop
        return String(decoding: bytes[range], as: UTF8.self)
    }

    /// `parseURL`: scheme, authority, path, normalizedPath, isIp — or unset for anything
    /// that is not a plain http(s) URL without a query.
    static func parseURL(_ s: String) -> JSON? {
        guard let schemeEnd = s.range(of: "://") else { return nil }
        let scheme = String(s[..<schemeEnd.lowerBound])
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = s[schemeEnd.upperBound...]
        if rest.contains("?") || rest.contains("#") { return nil }
        let authority: Substring
        let path: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[slash...]
        } else {
            authority = rest
            path = ""
        }
        guard !authority.isEmpty else { return nil }
        var host = authority
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { host = host[...close] }
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        let isIPv4: Bool = {
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts.allSatisfy { p in !p.isEmpty && p.count <= 3 && p.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } && (Int(p) ?? 256) <= 255 }
        }()
        let isIp = isIPv4 || host.hasPrefix("[")
        let normalized = path.hasSuffix("/") ? String(path) : String(path) + "/"
        return .object(JSONObject([
            ("scheme", .string(scheme)), ("authority", .string(String(authority))), ("path", .string(String(path))),
            ("normalizedPath", .string(normalized)), ("isIp", .bool(isIp)),
        ]))
    }

    /// A DNS label: letters, digits and hyphens, 1 to 63 long, not starting with a hyphen.
    static func isValidHostLabel(_ s: String, allowSubDomains: Bool) -> Bool {
        let labels = allowSubDomains ? s.split(separator: ".", omittingEmptySubsequences: false).map(String.init) : [s]
        return labels.allSatisfy { label in
            let bytes = Array(label.utf8)
            guard !bytes.isEmpty, bytes.count <= 63, bytes[0] != UInt8(ascii: "-") else { return false }
            return bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D }
        }
    }

    /// `arn:partition:service:region:account:resource` with the resource split on `:` and `/`.
    static func parseArn(_ s: String) -> JSON? {
        let parts = s.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", !parts[1].isEmpty, !parts[2].isEmpty, !parts[5].isEmpty else { return nil }
        let resource = parts[5].split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "/" }).map { JSON.string(String($0)) }
        return .object(JSONObject([
            ("partition", .string(String(parts[1]))), ("service", .string(String(parts[2]))), ("region", .string(String(parts[3]))),
            ("accountId", .string(String(parts[4]))), ("resourceId", .array(resource)),
        ]))
    }

    /// An S3 bucket name usable as a host name label (lower case, 3 to 63, no IP address).
    static func isVirtualHostableS3Bucket(_ s: String, allowSubDomains: Bool) -> Bool {
        if allowSubDomains {
            return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
                isVirtualHostableS3Bucket(String($0), allowSubDomains: false)
            } && !looksLikeIPv4(s)
        }
        let bytes = Array(s.utf8)
        guard bytes.count >= 3, bytes.count <= 63 else { return false }
        guard isLowerAlnum(bytes.first!), isLowerAlnum(bytes.last!) else { return false }
        return bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") } && !looksLikeIPv4(s)
    }

    private static func isLowerAlnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) }

    private static func looksLikeIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
    }
}

/// `partitions.json`: which partition a region belongs to, and that partition's facts.
public struct Partitions: Sendable {
    struct Partition {
        let id: String
        let regex: NSRegularExpression?
        let regions: [String: JSONObject]
        let outputs: JSONObject
    }
    private let partitions: [Partition]

    public init(_ json: JSON) throws(EndpointError) {
        guard let list = json["partitions"]?.arrayValue else { throw EndpointError("partitions.json has no partitions") }
        var result: [Partition] = []
        for item in list {
            guard let id = item["id"]?.stringValue, let outputs = item["outputs"]?.objectValue else { continue }
            let regex = item["regionRegex"]?.stringValue.flatMap { try? NSRegularExpression(pattern: $0) }
            var regions: [String: JSONObject] = [:]
            for region in item["regions"]?.objectValue ?? JSONObject() { regions[region.key] = region.value.objectValue ?? JSONObject() }
            result.append(Partition(id: id, regex: regex, regions: regions, outputs: outputs))
        }
        partitions = result
    }

    /// The partition's outputs (with `name`), for a region listed in it, else matching
    /// its regex, else the `aws` partition.
    public func partition(for region: String) -> JSON {
        func describe(_ partition: Partition, overrides: JSONObject?) -> JSON {
            var outputs = partition.outputs
            for member in overrides ?? JSONObject() where outputs[member.key] != nil { outputs[member.key] = member.value }
            if outputs["name"] == nil { outputs["name"] = .string(partition.id) }
            return .object(outputs)
        }
        for partition in partitions {
            if let overrides = partition.regions[region] { return describe(partition, overrides: overrides) }
        }
        for partition in partitions {
            if let regex = partition.regex,
                regex.firstMatch(in: region, range: NSRange(region.startIndex..., in: region)) != nil
            {
                return describe(partition, overrides: nil)
            }
        }
        if let aws = partitions.first(where: { $0.id == "aws" }) { return describe(aws, overrides: nil) }
        return .null
    }
}
