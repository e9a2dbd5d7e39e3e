import AWSJSON
import AWSModels
import Foundation

/// One thing wrong with the caller's params, with a JSONPath to it (`$.Tags[0].Key`).
public struct ValidationProblem: Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }
}

/// Checks params against an input shape before anything is sent, as botocore's
/// ParamValidator does (type, required, unknown members, `min`, unions), and reports
/// every problem rather than the first. No params, however wrong, make it crash.
public struct ParamValidator: Sendable {
    /// Whether blobs arrive base64-encoded (the gateway's contract) or as raw text
    /// (botocore's own protocol tests).
    public var blobsAreBase64: Bool
    /// The largest blob accepted, decoded (`limits.max_blob`).
    public var maxBlobBytes: Int

    public init(blobsAreBase64: Bool = true, maxBlobBytes: Int = 16 << 20) {
        self.blobsAreBase64 = blobsAreBase64
        self.maxBlobBytes = maxBlobBytes
    }

    public func validate(_ params: JSONObject, against shape: Shape?) -> [ValidationProblem] {
        guard let shape else {
            return params.map { ValidationProblem(path: "$" + ParamValidator.pathComponent($0.key), problem: "unknown member: this operation takes no input") }
        }
        var walk = Walk(validator: self)
        walk.structure(params, shape)
        return walk.problems
    }

    /// One walk over the params: the problems found, and where it is (kept as steps and
    /// made into a path only when a problem is reported: most params have none).
    private struct Walk {
        enum Step {
            case member(String)
            case index(Int)
            /// A map's key itself (`$.Tags['k'] (key)`).
            case key(String)
        }

        let validator: ParamValidator
        var problems: [ValidationProblem] = []
        var steps: [Step] = []

        init(validator: ParamValidator) { self.validator = validator }

        var path: String {
            var path = "$"
            for step in steps {
                switch step {
                case .member(let name): path += ParamValidator.pathComponent(name)
                case .index(let i): path += "[\(i)]"
                case .key(let key): path += ParamValidator.pathComponent(key) + " (key)"
                }
            }
            return path
        }

        mutating func report(_ problem: String, at step: Step? = nil) {
            if let step { steps.append(step) }
            problems.append(ValidationProblem(path: path, problem: problem))
            if step != nil { steps.removeLast() }
        }

        mutating func value(_ value: JSON, _ shape: Shape) {
            if case .null = value {
                report("null is not allowed here; leave the member out instead")
                return
            }
            if shape.isDocument {
                // Any JSON value is a valid document, but not an object with a key twice.
                ParamValidator.checkDuplicates(in: value, path: path, into: &problems)
                return
            }
            switch shape.type {
            case .structure:
                guard case .object(let object) = value else { return wrongType("object", value) }
                structure(object, shape)
            case .list:
                guard case .array(let elements) = value else { return wrongType("array", value) }
                checkMin(Double(elements.count), shape, what: "length")
                if let member = shape.listMember {
                    for (i, element) in elements.enumerated() {
                        steps.append(.index(i))
                        self.value(element, member.shape)
                        steps.removeLast()
                    }
                }
            case .map:
                guard case .object(let object) = value else { return wrongType("object", value) }
                if let duplicate = object.firstDuplicateKey { report("key appears more than once", at: .member(duplicate)) }
                for entry in object {
                    if let key = shape.mapKey {
                        steps.append(.key(entry.key))
                        self.value(.string(entry.key), key.shape)
                        steps.removeLast()
                    }
                    if let valueMember = shape.mapValue {
                        steps.append(.member(entry.key))
                        self.value(entry.value, valueMember.shape)
                        steps.removeLast()
                    }
                }
            case .string, .character:
                guard case .string(let s) = value else { return wrongType("string", value) }
                if shape.min != nil { checkMin(Double(s.count), shape, what: "length") }
            case .integer, .long, .biginteger:
                switch value {
                case .int(let i): checkMin(Double(i), shape, what: "value")
                default: wrongType("integer", value)
                }
            case .float, .double, .bigdecimal:
                switch value {
                case .int(let i): checkMin(Double(i), shape, what: "value")
                case .double(let d): checkMin(d, shape, what: "value")
                case .string(let s) where ["Infinity", "-Infinity", "NaN"].contains(s): break
                default: wrongType("number", value)
                }
            case .boolean:
                guard case .bool = value else { return wrongType("boolean", value) }
            case .timestamp:
                if Timestamp.parse(value) == nil {
                    report("expected a timestamp (ISO 8601 string or epoch seconds), got \(value.typeName)")
                }
            case .blob:
                blob(value)
            }
        }

        mutating func blob(_ value: JSON) {
            let maxBlobBytes = validator.maxBlobBytes
            guard case .string(let s) = value else { return wrongType(validator.blobsAreBase64 ? "base64 string" : "string", value) }
            let tooLarge = "blob larger than limits.max_blob (\(maxBlobBytes) bytes)"
            if validator.blobsAreBase64 {
                // Four base64 characters carry three bytes: no need to decode a huge one to refuse it.
                if s.utf8.count / 4 * 3 > maxBlobBytes + 3 {
                    report(tooLarge + "; for large S3 objects use a presigned URL ($presign)")
                } else if let bytes = Base64.decode(s) {
                    if bytes.count > maxBlobBytes { report(tooLarge + "; for large S3 objects use a presigned URL ($presign)") }
                } else {
                    report("not valid base64")
                }
            } else if s.utf8.count > maxBlobBytes {
                report(tooLarge)
            }
        }

        mutating func structure(_ object: JSONObject, _ shape: Shape) {
            // botocore takes a dict, which cannot hold a key twice; a body with both copies
            // would reach AWS, so refuse it.
            if let duplicate = object.firstDuplicateKey { report("member appears more than once", at: .member(duplicate)) }
            if shape.isUnion {
                let set = object.members.filter { !$0.value.isNull }
                if set.count != 1 {
                    report("exactly one member of this union must be set, one of: \(shape.members.map(\.name).joined(separator: ", "))")
                }
            }
            for required in shape.required where object[required] == nil { report("missing required member", at: .member(required)) }
            for entry in object {
                guard let member = shape.member(named: entry.key) else {
                    var message = "unknown member"
                    let close = closestNames(to: entry.key, among: shape.members.map(\.name), limit: 3)
                    if !close.isEmpty { message += "; did you mean \(close.joined(separator: ", "))?" }
                    report(message, at: .member(entry.key))
                    continue
                }
                steps.append(.member(entry.key))
                value(entry.value, member.shape)
                if member.hostLabel, case .string(let label) = entry.value, !ParamValidator.isValidHostLabel(label) {
                    report("must contain only letters, digits, hyphens and periods (it becomes part of the host name)")
                }
                steps.removeLast()
            }
        }

        mutating func wrongType(_ expected: String, _ value: JSON) {
            report("expected \(expected), got \(value.typeName)")
        }

        mutating func checkMin(_ value: Double, _ shape: Shape, what: String) {
            if let min = shape.min, value < min {
                report("\(what) \(ParamValidator.formatNumber(value)) is below the minimum \(ParamValidator.formatNumber(min))")
            }
        }
    }

    static func formatNumber(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }

    /// Reports objects with a key twice anywhere inside a document value.
    static func checkDuplicates(in value: JSON, path: String, into problems: inout [ValidationProblem]) {
        switch value {
        case .object(let object):
            if let duplicate = object.firstDuplicateKey {
                problems.append(ValidationProblem(path: path + pathComponent(duplicate), problem: "key appears more than once"))
            }
            for member in object { checkDuplicates(in: member.value, path: path + pathComponent(member.key), into: &problems) }
        case .array(let elements):
            for (i, element) in elements.enumerated() { checkDuplicates(in: element, path: "\(path)[\(i)]", into: &problems) }
        default: break
        }
    }

    static func isValidHostLabel(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { PercentEncoding.isUnreserved($0) && $0 != UInt8(ascii: "_") && $0 != UInt8(ascii: "~") }
    }

    /// `.Name` for plain names, `['odd key']` otherwise.
    static func pathComponent(_ key: String) -> String {
        let plain = !key.isEmpty && key.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D }
        if plain { return "." + key }
        return "['" + key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "']"
    }
}

/// Base64 as botocore uses it.
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// Standard alphabet; padding may be left out. Nil when it is not base64.
    public static func decode(_ s: String) -> [UInt8]? {
        var text = s
        let remainder = text.utf8.count % 4
        if remainder == 2 { text += "==" } else if remainder == 3 { text += "=" }
        return Data(base64Encoded: text).map { Array($0) }
    }
}
