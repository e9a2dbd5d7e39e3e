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
        var checks = Checks(validator: self)
        ShapeWalker.visit(.object(params), shape, &checks)
        return checks.problems
    }

    /// The checks made on each value `ShapeWalker.visit` meets: the problems found, and
    /// where the walk is (kept as steps and made into a path only when a problem is
    /// reported: most params have none).
    private struct Checks: ShapeVisitor {
        let validator: ParamValidator
        var problems: [ValidationProblem] = []
        var steps: [PathStep] = []

        /// A step of the path to a value, by name (a structure member or a map's value),
        /// index, or map key.
        enum PathStep {
            case name(String)
            case index(Int)
            case key(String)
        }

        init(validator: ParamValidator) { self.validator = validator }

        var path: String {
            var path = "$"
            for step in steps {
                switch step {
                case .name(let name): path += ParamValidator.pathComponent(name)
                case .index(let i): path += "[\(i)]"
                case .key(let key): path += ParamValidator.pathComponent(key) + " (key)"
                }
            }
            return path
        }

        mutating func enter(_ step: ShapeStep) {
            switch step {
            case .root: break
            case .member(let member): steps.append(.name(member.name))
            case .index(let i, _): steps.append(.index(i))
            case .key(let key, _): steps.append(.key(key))
            case .value(let key, _): steps.append(.name(key))
            }
        }

        mutating func leave(_ step: ShapeStep) {
            if case .root = step { return }
            steps.removeLast()
        }

        mutating func report(_ problem: String, at step: PathStep? = nil) {
            if let step { steps.append(step) }
            problems.append(ValidationProblem(path: path, problem: problem))
            if step != nil { steps.removeLast() }
        }

        mutating func unknownMember(_ key: String, _ value: JSON, of shape: Shape) {
            var message = "unknown member"
            let close = closestNames(to: key, among: shape.members.map(\.name), limit: 3)
            if !close.isEmpty { message += "; did you mean \(close.joined(separator: ", "))?" }
            report(message, at: .name(key))
        }

        /// Checks one value; true when the walk should go into it (structures, lists, maps
        /// of the right type).
        mutating func visit(_ value: JSON, _ shape: Shape, at step: ShapeStep) -> Bool {
            if case .null = value {
                report("null is not allowed here; leave the member out instead")
                return false
            }
            if shape.isDocument {
                // Any JSON value is a valid document, but not an object with a key twice.
                ParamValidator.checkDuplicates(in: value, path: path, into: &problems)
                return false
            }
            switch shape.type {
            case .structure:
                guard case .object(let object) = value else { return wrongType("object", value) }
                structure(object, shape)
                return true
            case .list:
                guard case .array(let elements) = value else { return wrongType("array", value) }
                checkMin(Double(elements.count), shape, what: "length")
                return true
            case .map:
                guard case .object(let object) = value else { return wrongType("object", value) }
                if let duplicate = object.firstDuplicateKey { report("key appears more than once", at: .name(duplicate)) }
                return true
            case .string, .character:
                guard case .string(let s) = value else { return wrongType("string", value) }
                // Python's len: code points, not grapheme clusters (which are also slow to count).
                // A code point takes 1 to 4 UTF-8 bytes: they are counted only when the bytes cannot tell.
                if let min = shape.min, Double(s.utf8.count) < 4 * min { checkMin(Double(s.unicodeScalars.count), shape, what: "length") }
                if case .member(let member) = step, member.hostLabel, !ParamValidator.isValidHostLabel(s) {
                    report("must contain only letters, digits, hyphens and periods (it becomes part of the host name)")
                }
            case .integer, .long, .biginteger:
                switch value {
                case .int(let i): checkMin(Double(i), shape, what: "value")
                default: return wrongType("integer", value)
                }
            case .float, .double, .bigdecimal:
                switch value {
                case .int(let i): checkMin(Double(i), shape, what: "value")
                case .double(let d): checkMin(d, shape, what: "value")
                case .string(let s) where ["Infinity", "-Infinity", "NaN"].contains(s): break
                default: return wrongType("number", value)
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
            return false
        }

        /// What is checked on a structure before its members are walked.
        mutating func structure(_ object: JSONObject, _ shape: Shape) {
            // botocore takes a dict, which cannot hold a key twice; a body with both copies
            // would reach AWS, so refuse it.
            if let duplicate = object.firstDuplicateKey { report("member appears more than once", at: .name(duplicate)) }
            if shape.isUnion {
                let set = object.members.filter { !$0.value.isNull }
                if set.count != 1 {
                    report("exactly one member of this union must be set, one of: \(shape.members.map(\.name).joined(separator: ", "))")
                }
            }
            for required in shape.required where object[required] == nil { report("missing required member", at: .name(required)) }
        }

        mutating func blob(_ value: JSON) {
            let maxBlobBytes = validator.maxBlobBytes
            guard case .string(let s) = value else {
                _ = wrongType(validator.blobsAreBase64 ? "base64 string" : "string", value)
                return
            }
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

        /// Reports a value of the wrong type; false (nothing to walk into).
        mutating func wrongType(_ expected: String, _ value: JSON) -> Bool {
            report("expected \(expected), got \(value.typeName)")
            return false
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
