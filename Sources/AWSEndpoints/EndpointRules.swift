import Foundation
import AWSJSON

/// A resolved endpoint: URL, properties (such as `authSchemes`) and extra headers.
public struct ResolvedEndpoint: Sendable, Equatable {
    public var url: String
    public var properties: JSONObject
    public var headers: [String: [String]]

    /// The first SigV4 auth scheme's signing name and region, if the rules give one.
    public var sigV4Scheme: (signingName: String?, signingRegion: String?, disableDoubleEncoding: Bool)? {
        guard let schemes = properties["authSchemes"]?.arrayValue else { return nil }
        for scheme in schemes where scheme["name"]?.stringValue == "sigv4" {
            return (scheme["signingName"]?.stringValue, scheme["signingRegion"]?.stringValue, scheme["disableDoubleEncoding"]?.boolValue ?? false)
        }
        return nil
    }
}

public struct EndpointError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An interpreter of the Endpoints 2.0 rules language (`endpoint-rule-set-1.json`).
///
/// Conditions are function calls whose result must be set and not `false`; an `assign`
/// binds the result for later conditions and templates. The first rule whose conditions
/// all hold decides: an endpoint, an error, or a tree of further rules.
public struct EndpointRuleSet: Sendable {
    let parameters: JSONObject
    let rules: [JSON]
    let partitions: Partitions

    public init(ruleSet: JSON, partitions: Partitions) throws(EndpointError) {
        guard let parameters = ruleSet["parameters"]?.objectValue, let rules = ruleSet["rules"]?.arrayValue else {
            throw EndpointError("endpoint rule set has no parameters or rules")
        }
        self.parameters = parameters
        self.rules = rules
        self.partitions = partitions
    }

    /// The declared parameters and the built-in each one is bound to (`AWS::Region`, ...).
    public var builtIns: [String: String] {
        var result: [String: String] = [:]
        for parameter in parameters {
            if let builtIn = parameter.value["builtIn"]?.stringValue { result[parameter.key] = builtIn }
        }
        return result
    }

    public var parameterNames: [String] { parameters.keys }

    public func resolve(_ input: [String: JSON]) throws(EndpointError) -> ResolvedEndpoint {
        var scope: [String: JSON] = [:]
        for parameter in parameters {
            if let value = input[parameter.key], !value.isNull {
                scope[parameter.key] = value
            } else if let value = parameter.value["default"] {
                scope[parameter.key] = value
            } else if parameter.value["required"]?.boolValue == true {
                throw EndpointError("missing required endpoint parameter \(parameter.key)")
            }
        }
        if let result = try evaluate(rules: rules, scope: scope) { return result }
        throw EndpointError("no endpoint rule matched")
    }

    private func evaluate(rules: [JSON], scope: [String: JSON]) throws(EndpointError) -> ResolvedEndpoint? {
        for rule in rules {
            var local = scope
            var matched = true
            for condition in rule["conditions"]?.arrayValue ?? [] {
                let value = try call(condition, &local)
                if value.isNull || value == .bool(false) {
                    matched = false
                    break
                }
                if let name = condition["assign"]?.stringValue { local[name] = value }
            }
            guard matched else { continue }
            switch rule["type"]?.stringValue {
            case "endpoint":
                guard let endpoint = rule["endpoint"] else { throw EndpointError("endpoint rule without endpoint") }
                return try buildEndpoint(endpoint, &local)
            case "error":
                let message = try evaluate(rule["error"] ?? .null, &local)
                throw EndpointError(message.stringValue ?? "endpoint error")
            case "tree":
                if let result = try evaluate(rules: rule["rules"]?.arrayValue ?? [], scope: local) { return result }
                // A tree whose rules all fail to match is an error in the rules language.
                throw EndpointError("no rule in a matched tree applied")
            default:
                throw EndpointError("unknown rule type \(rule["type"]?.stringValue ?? "?")")
            }
        }
        return nil
    }

    private func buildEndpoint(_ endpoint: JSON, _ scope: inout [String: JSON]) throws(EndpointError) -> ResolvedEndpoint {
        guard let url = try evaluate(endpoint["url"] ?? .null, &scope).stringValue else {
            throw EndpointError("endpoint url is not a string")
        }
        var properties = JSONObject()
        for property in endpoint["properties"]?.objectValue ?? JSONObject() {
            properties.append(property.key, try evaluateDeep(property.value, &scope))
        }
        var headers: [String: [String]] = [:]
        for header in endpoint["headers"]?.objectValue ?? JSONObject() {
            var values: [String] = []
            for value in header.value.arrayValue ?? [] {
                if let s = try evaluate(value, &scope).stringValue { values.append(s) }
            }
            headers[header.key] = values
        }
        return ResolvedEndpoint(url: url, properties: properties, headers: headers)
    }

    /// Properties may nest objects and arrays; every string in them is a template.
    private func evaluateDeep(_ value: JSON, _ scope: inout [String: JSON]) throws(EndpointError) -> JSON {
        switch value {
        case .string(let s): return .string(try template(s, scope))
        case .array(let items):
            var out: [JSON] = []
            for item in items { out.append(try evaluateDeep(item, &scope)) }
            return .array(out)
        case .object(let object):
            if object["fn"] != nil || object["ref"] != nil { return try evaluate(value, &scope) }
            var out = JSONObject()
            for member in object { out.append(member.key, try evaluateDeep(member.value, &scope)) }
            return .object(out)
        default: return value
        }
    }

    /// An expression: a literal (strings are templates), `{"ref": name}`, or `{"fn": ..., "argv": [...]}`.
    private func evaluate(_ expression: JSON, _ scope: inout [String: JSON]) throws(EndpointError) -> JSON {
        switch expression {
        case .string(let s): return .string(try template(s, scope))
        case .object(let object):
            if let ref = object["ref"]?.stringValue { return scope[ref] ?? .null }
            if object["fn"] != nil { return try call(expression, &scope) }
            return expression
        default: return expression
        }
    }

    /// `"https://{Region}.{PartitionResult#dnsSuffix}"`; `{{` and `}}` are literal braces.
    private func template(_ text: String, _ scope: [String: JSON]) throws(EndpointError) -> String {
        guard text.contains("{") || text.contains("}") else { return text }
        var out = ""
        var chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "{" {
                if i + 1 < chars.count, chars[i + 1] == "{" {
                    out.append("{")
                    i += 2
                    continue
                }
                guard let close = chars[i...].firstIndex(of: "}") else { throw EndpointError("unclosed template in \(text)") }
                let name = String(chars[(i + 1)..<close])
                let value: JSON
                if let hash = name.firstIndex(of: "#") {
                    value = EndpointFunctions.getAttr(scope[String(name[..<hash])] ?? .null, path: String(name[name.index(after: hash)...]))
                } else {
                    value = scope[name] ?? .null
                }
                switch value {
                case .string(let s): out += s
                case .bool(let b): out += b ? "true" : "false"
                case .int(let n): out += String(n)
                default: throw EndpointError("template value {\(name)} is not set")
                }
                i = close + 1
            } else if c == "}" {
                out.append("}")
                i += (i + 1 < chars.count && chars[i + 1] == "}") ? 2 : 1
            } else {
                out.append(c)
                i += 1
            }
        }
        chars.removeAll()
        return out
    }

    private func call(_ expression: JSON, _ scope: inout [String: JSON]) throws(EndpointError) -> JSON {
        guard let fn = expression["fn"]?.stringValue else { return try evaluate(expression, &scope) }
        var args: [JSON] = []
        for arg in expression["argv"]?.arrayValue ?? [] { args.append(try evaluate(arg, &scope)) }
        func arg(_ i: Int) -> JSON { i < args.count ? args[i] : .null }
        switch fn {
        case "isSet": return .bool(!arg(0).isNull)
        case "not": return .bool(!(arg(0).boolValue ?? false))
        case "booleanEquals":
            guard let a = arg(0).boolValue, let b = arg(1).boolValue else { return .bool(false) }
            return .bool(a == b)
        case "stringEquals":
            guard let a = arg(0).stringValue, let b = arg(1).stringValue else { return .bool(false) }
            return .bool(a == b)
        case "getAttr": return EndpointFunctions.getAttr(arg(0), path: arg(1).stringValue ?? "")
        case "substring":
            guard let s = arg(0).stringValue, let start = arg(1).intValue, let stop = arg(2).intValue else { return .null }
            return EndpointFunctions.substring(s, start: Int(start), stop: Int(stop), reverse: arg(3).boolValue ?? false).map(JSON.string) ?? .null
        case "uriEncode":
            guard let s = arg(0).stringValue else { return .null }
            return .string(PercentEncoding.encode(s))
        case "parseURL":
            guard let s = arg(0).stringValue else { return .null }
            return EndpointFunctions.parseURL(s) ?? .null
        case "isValidHostLabel":
            guard let s = arg(0).stringValue else { return .bool(false) }
            return .bool(EndpointFunctions.isValidHostLabel(s, allowSubDomains: arg(1).boolValue ?? false))
        case "aws.partition":
            guard let region = arg(0).stringValue else { return .null }
            return partitions.partition(for: region)
        case "aws.parseArn":
            guard let s = arg(0).stringValue else { return .null }
            return EndpointFunctions.parseArn(s) ?? .null
        case "aws.isVirtualHostableS3Bucket":
            guard let s = arg(0).stringValue else { return .bool(false) }
            return .bool(EndpointFunctions.isVirtualHostableS3Bucket(s, allowSubDomains: arg(1).boolValue ?? false))
        case "coalesce":
            return args.first(where: { !$0.isNull }) ?? .null
        case "split":
            guard let s = arg(0).stringValue, let delimiter = arg(1).stringValue, !delimiter.isEmpty else { return .null }
            let limit = Int(arg(2).intValue ?? 0)
            var parts = s.components(separatedBy: delimiter)
            if limit > 0, parts.count > limit {
                parts = Array(parts[..<(limit - 1)]) + [parts[(limit - 1)...].joined(separator: delimiter)]
            }
            return .array(parts.map(JSON.string))
        default:
            throw EndpointError("unsupported endpoint rules function \(fn)")
        }
    }
}
