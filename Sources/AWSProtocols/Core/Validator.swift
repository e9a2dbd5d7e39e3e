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
        var problems: [ValidationProblem] = []
        guard let shape else {
            for member in params { problems.append(ValidationProblem(path: "$." + member.key, problem: "unknown member: this operation takes no input")) }
            return problems
        }
        validateStructure(params, shape, path: "$", into: &problems)
        return problems
    }

    private func validate(_ value: JSON, _ shape: Shape, path: String, into problems: inout [ValidationProblem]) {
        if case .null = value {
            problems.append(ValidationProblem(path: path, problem: "null is not allowed here; leave the member out instead"))
            return
        }
        func wrongType(_ expected: String) {
            problems.append(ValidationProblem(path: path, problem: "expected \(expected), got \(value.typeName)"))
        }
        if shape.isDocument {
            // Any JSON value is a valid document, but not an object with a key twice.
            ParamValidator.checkDuplicates(in: value, path: path, into: &problems)
            return
        }
        switch shape.type {
        case .structure:
            guard case .object(let object) = value else { return wrongType("object") }
            validateStructure(object, shape, path: path, into: &problems)
        case .list:
            guard case .array(let elements) = value else { return wrongType("array") }
            checkMin(Double(elements.count), shape, path: path, what: "length", into: &problems)
            if let member = shape.listMember {
                for (i, element) in elements.enumerated() {
                    validate(element, member.shape, path: "\(path)[\(i)]", into: &problems)
                }
            }
        case .map:
            guard case .object(let object) = value else { return wrongType("object") }
            if let duplicate = object.firstDuplicateKey {
                problems.append(ValidationProblem(path: path + ParamValidator.pathComponent(duplicate), problem: "key appears more than once"))
            }
            for entry in object {
                let entryPath = path + ParamValidator.pathComponent(entry.key)
                if let key = shape.mapKey {
                    validate(.string(entry.key), key.shape, path: entryPath + " (key)", into: &problems)
                }
                if let valueMember = shape.mapValue {
                    validate(entry.value, valueMember.shape, path: entryPath, into: &problems)
                }
            }
        case .string, .character:
            guard case .string(let s) = value else { return wrongType("string") }
            checkMin(Double(s.count), shape, path: path, what: "length", into: &problems)
        case .integer, .long, .biginteger:
            switch value {
            case .int(let i): checkMin(Double(i), shape, path: path, what: "value", into: &problems)
            default: wrongType("integer")
            }
        case .float, .double, .bigdecimal:
            switch value {
            case .int(let i): checkMin(Double(i), shape, path: path, what: "value", into: &problems)
            case .double(let d): checkMin(d, shape, path: path, what: "value", into: &problems)
            case .string(let s) where ["Infinity", "-Infinity", "NaN"].contains(s): break
            default: wrongType("number")
            }
        case .boolean:
            guard case .bool = value else { return wrongType("boolean") }
        case .timestamp:
            if Timestamp.parse(value) == nil {
                problems.append(ValidationProblem(
                    path: path, problem: "expected a timestamp (ISO 8601 string or epoch seconds), got \(value.typeName)"))
            }
        case .blob:
            guard case .string(let s) = value else { return wrongType(blobsAreBase64 ? "base64 string" : "string") }
            if blobsAreBase64 {
                // Four base64 characters carry three bytes: no need to decode a huge one to refuse it.
                if s.utf8.count / 4 * 3 > maxBlobBytes + 3 {
                    problems.append(ValidationProblem(
                        path: path, problem: "blob larger than limits.max_blob (\(maxBlobBytes) bytes); for large S3 objects use a presigned URL ($presign)"))
                } else if let bytes = Base64.decode(s) {
                    if bytes.count > maxBlobBytes {
                        problems.append(ValidationProblem(
                            path: path, problem: "blob larger than limits.max_blob (\(maxBlobBytes) bytes); for large S3 objects use a presigned URL ($presign)"))
                    }
                } else {
                    problems.append(ValidationProblem(path: path, problem: "not valid base64"))
                }
            } else if s.utf8.count > maxBlobBytes {
                problems.append(ValidationProblem(path: path, problem: "blob larger than limits.max_blob (\(maxBlobBytes) bytes)"))
            }
        }
    }

    private func validateStructure(_ object: JSONObject, _ shape: Shape, path: String, into problems: inout [ValidationProblem]) {
        // botocore takes a dict, which cannot hold a key twice; a body with both copies
        // would reach AWS, so refuse it.
        if let duplicate = object.firstDuplicateKey {
            problems.append(ValidationProblem(path: path + ParamValidator.pathComponent(duplicate), problem: "member appears more than once"))
        }
        if shape.isUnion {
            let set = object.members.filter { !$0.value.isNull }
            if set.count != 1 {
                problems.append(ValidationProblem(
                    path: path,
                    problem: "exactly one member of this union must be set, one of: \(shape.members.map(\.name).joined(separator: ", "))"))
            }
        }
        for required in shape.required where object[required] == nil {
            problems.append(ValidationProblem(path: path + ParamValidator.pathComponent(required), problem: "missing required member"))
        }
        for entry in object {
            let memberPath = path + ParamValidator.pathComponent(entry.key)
            guard let member = shape.member(named: entry.key) else {
                var message = "unknown member"
                let close = closestNames(to: entry.key, among: shape.members.map(\.name), limit: 3)
                if !close.isEmpty { message += "; did you mean \(close.joined(separator: ", "))?" }
                problems.append(ValidationProblem(path: memberPath, problem: message))
                continue
            }
            validate(entry.value, member.shape, path: memberPath, into: &problems)
            if member.hostLabel, case .string(let label) = entry.value, !ParamValidator.isValidHostLabel(label) {
                problems.append(ValidationProblem(
                    path: memberPath, problem: "must contain only letters, digits, hyphens and periods (it becomes part of the host name)"))
            }
        }
    }

    private func checkMin(_ value: Double, _ shape: Shape, path: String, what: String, into problems: inout [ValidationProblem]) {
        if let min = shape.min, value < min {
            problems.append(ValidationProblem(path: path, problem: "\(what) \(formatNumber(value)) is below the minimum \(formatNumber(min))"))
        }
    }

    private func formatNumber(_ d: Double) -> String {
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
