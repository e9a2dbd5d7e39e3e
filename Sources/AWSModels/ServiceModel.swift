import AWSJSON

/// Why a model could not be used. Every case names the file involved.
public enum ModelError: Error, Sendable, CustomStringConvertible, Equatable {
    case missingFile(String)
    case unreadableFile(String, reason: String)
    case invalidModel(file: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path): return "model file not found: \(path)"
        case .unreadableFile(let path, let reason): return "cannot read model file \(path): \(reason)"
        case .invalidModel(let file, let reason): return "invalid model file \(file): \(reason)"
        }
    }
}

/// The service-level facts of a model (`metadata` in service-2.json).
public struct ServiceMetadata: Sendable {
    public let apiVersion: String
    public let endpointPrefix: String
    public let protocolName: String
    public let protocols: [String]

    /// botocore 1.44.5's preference when a model lists several protocols.
    public static let protocolPriority = ["json", "rest-json", "rest-xml", "smithy-rpc-v2-cbor", "query", "ec2"]

    /// The protocol botocore speaks to this service: the first of `protocolPriority` that
    /// the model lists, else the model's `protocol`.
    public var resolvedProtocol: String {
        ServiceMetadata.protocolPriority.first(where: protocols.contains) ?? protocolName
    }
    public let serviceId: String
    public let serviceFullName: String
    public let signatureVersion: String
    public let signingName: String
    public let targetPrefix: String?
    public let jsonVersion: String?
    public let xmlNamespace: String?
    public let globalEndpoint: String?
    public let awsQueryCompatible: Bool
    public let auth: [String]

    init(_ metadata: JSONObject) {
        apiVersion = metadata["apiVersion"]?.stringValue ?? ""
        endpointPrefix = metadata["endpointPrefix"]?.stringValue ?? ""
        protocolName = metadata["protocol"]?.stringValue ?? ""
        protocols = metadata["protocols"]?.arrayValue?.compactMap(\.stringValue) ?? [protocolName]
        serviceId = metadata["serviceId"]?.stringValue ?? ""
        serviceFullName = metadata["serviceFullName"]?.stringValue ?? ""
        signatureVersion = metadata["signatureVersion"]?.stringValue ?? "v4"
        signingName = metadata["signingName"]?.stringValue ?? endpointPrefix
        targetPrefix = metadata["targetPrefix"]?.stringValue
        jsonVersion = metadata["jsonVersion"]?.stringValue
        xmlNamespace = metadata["xmlNamespace"]?.stringValue
        globalEndpoint = metadata["globalEndpoint"]?.stringValue
        awsQueryCompatible = metadata["awsQueryCompatible"] != nil
        auth = metadata["auth"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// One operation: its HTTP binding and its input, output and error shapes.
public struct Operation: Sendable {
    public let name: String
    public let httpMethod: String
    public private(set) var requestURI: String
    public let responseCode: Int?
    public let input: Shape?
    public let output: Shape?
    /// The member that is the whole request/response body: from the operation's
    /// input/output reference (old models) or the shape's own `payload` trait.
    public let inputPayload: String?
    public let outputPayload: String?
    /// botocore finds this operation's endpoint with `DescribeEndpoints` first.
    public let requiresEndpointDiscovery: Bool
    /// The operation that answers endpoint discovery (`DescribeEndpoints`).
    public let isEndpointOperation: Bool
    /// rest-xml: the root element of the request body, from the input reference
    /// (`locationName`, `xmlNamespace`), else from the input shape.
    public let inputXMLName: String?
    public let inputXMLNamespace: JSON?
    /// The element a query answer wraps its result in (`output.resultWrapper`).
    public let outputResultWrapper: String?
    public let errors: [Shape]
    public private(set) var hostPrefix: String?
    public let isReadOnly: Bool
    public let isIdempotent: Bool
    public let authType: String?
    public let auth: [String]
    public let httpChecksumRequired: Bool
    public let requestChecksumRequired: Bool
    /// `httpChecksum.requestAlgorithmMember`: the input member naming the request's
    /// checksum algorithm (flexible checksums).
    public let requestAlgorithmMember: String?
    /// `httpChecksum.requestValidationModeMember`: the member that asks for checksums of
    /// the answer (`ChecksumMode`).
    public let requestValidationModeMember: String?
    /// `httpChecksum.responseAlgorithms`: checksums the answer may carry.
    public let responseAlgorithms: [String]
    /// `requestcompression.encodings` (CloudWatch `PutMetricData`: gzip).
    public let requestCompression: [String]
    public let unsignedPayload: Bool
    /// `staticContextParams` for endpoint resolution.
    public let staticContextParams: [(String, JSON)]
    public let deprecated: Bool

    /// The operation with its request URI and host prefix changed, as botocore's
    /// handlers change an operation model (S3 drops `/{Bucket}`, S3 Control `{AccountId}.`,
    /// because the endpoint rules put them in the host).
    public func rebound(requestURI: String, hostPrefix: String?) -> Operation {
        var copy = self
        copy.requestURI = requestURI
        copy.hostPrefix = hostPrefix
        return copy
    }

    /// botocore's `resolved_auth_type`: the first scheme of `auth` it knows (`none` for
    /// `smithy.api#noAuth`), else the legacy `authtype`.
    public var resolvedAuthType: String? {
        for scheme in auth {
            switch scheme {
            case "smithy.api#noAuth": return "none"
            case "aws.auth#sigv4": return "v4"
            case "aws.auth#sigv4a": return "v4a"
            case "smithy.api#httpBearerAuth": return "bearer"
            default: continue
            }
        }
        return authType
    }

    /// Sent unsigned (Cognito Identity `GetId`, STS `AssumeRoleWithWebIdentity`, SSO…).
    public var isUnsigned: Bool { resolvedAuthType == "none" }

    /// Signed with `UNSIGNED-PAYLOAD` in place of the body's hash over https (uploads).
    public var hasUnsignedPayload: Bool { unsignedPayload || authType == "v4-unsigned-body" }

    /// botocore's `has_streaming_input`: the input's payload member is a blob.
    public var hasStreamingInput: Bool {
        guard let name = inputPayload, let member = input?.member(named: name) else { return false }
        return member.shape.type == .blob
    }

    /// Members of the input marked as idempotency tokens, filled when left out.
    public var idempotencyTokenMembers: [Member] {
        input?.members.filter(\.idempotencyToken) ?? []
    }
}

/// A loaded service model with shapes resolved into a graph.
public final class ServiceModel: Sendable {
    /// The botocore folder name (`networkmanager`).
    public let name: String
    public let metadata: ServiceMetadata
    public let operations: [String: Operation]
    /// Operation names in model order.
    public let operationNames: [String]
    public let shapes: [String: Shape]
    /// Error shapes by their wire code (the `error.code` trait or the shape name).
    public let errorShapesByCode: [String: Shape]
    /// The file it came from, for error messages.
    public let file: String
    private let operationsByLooseName: [String: String]
    private let operationSuggester: NameSuggester

    public init(name: String, json: JSON, file: String) throws(ModelError) {
        self.name = name
        self.file = file
        guard let root = json.objectValue, let metadataObject = root["metadata"]?.objectValue else {
            throw ModelError.invalidModel(file: file, reason: "no metadata object")
        }
        metadata = ServiceMetadata(metadataObject)
        guard let shapeDefinitions = root["shapes"]?.objectValue else {
            throw ModelError.invalidModel(file: file, reason: "no shapes object")
        }
        let shapes = try ServiceModel.shapeGraph(shapeDefinitions, file: file)
        self.shapes = shapes
        if ["query", "ec2", "rest-xml"].contains(metadata.resolvedProtocol) {
            for shape in shapes.values where shape.type == .structure { shape.indexXMLMembers() }
        }

        var errorShapes: [String: Shape] = [:]
        for shape in shapes.values where shape.isException {
            errorShapes[shape.errorCode ?? shape.name] = shape
        }
        errorShapesByCode = errorShapes

        guard let operationDefinitions = root["operations"]?.objectValue else {
            throw ModelError.invalidModel(file: file, reason: "no operations object")
        }
        var operations: [String: Operation] = [:]
        var names: [String] = []
        var loose: [String: String] = [:]
        for entry in operationDefinitions {
            operations[entry.key] = try ServiceModel.operation(entry.key, entry.value, shapes: shapes, file: file)
            names.append(entry.key)
            loose[ServiceModel.looseName(entry.key)] = entry.key
        }
        self.operations = operations
        operationNames = names
        operationsByLooseName = loose
        operationSuggester = NameSuggester(names)
    }

    /// Every shape with its members resolved: two passes, one that makes each shape and one
    /// that links members to shapes (so cycles are allowed).
    static func shapeGraph(_ definitions: JSONObject, file: String) throws(ModelError) -> [String: Shape] {
        var shapes: [String: Shape] = [:]
        shapes.reserveCapacity(definitions.count)
        for entry in definitions {
            guard let definition = entry.value.objectValue else {
                throw ModelError.invalidModel(file: file, reason: "shape \(entry.key) is not an object")
            }
            shapes[entry.key] = try Shape(name: entry.key, definition: definition, file: file)
        }
        for entry in definitions {
            try link(shapes[entry.key]!, entry.value.objectValue!, shapes: shapes, file: file)
        }
        return shapes
    }

    /// A shape's members, list member or map key and value, pointed at their shapes.
    static func link(_ shape: Shape, _ definition: JSONObject, shapes: [String: Shape], file: String) throws(ModelError) {
        func resolve(_ reference: JSON?, memberName: String) throws(ModelError) -> Member {
            guard let reference = reference?.objectValue, let target = reference["shape"]?.stringValue,
                let targetShape = shapes[target]
            else {
                throw ModelError.invalidModel(file: file, reason: "\(shape.name).\(memberName) refers to a missing shape")
            }
            return Member(name: memberName, reference: reference, shape: targetShape)
        }
        switch shape.type {
        case .structure:
            if let members = definition["members"]?.objectValue {
                shape._members.reserveCapacity(members.count)
                for member in members {
                    shape._memberIndex[member.key] = shape.members.count
                    shape.memberKeys.insert(Array(member.key.utf8), shape.members.count)
                    let resolved = try resolve(member.value, memberName: member.key)
                    if resolved.location == nil, shape.bodyMemberIndex[resolved.wireName] == nil {
                        shape._bodyMemberIndex[resolved.wireName] = shape.members.count
                        shape.bodyMemberKeys.insert(Array(resolved.wireName.utf8), shape.members.count)
                    }
                    shape._members.append(resolved)
                }
            }
            shape._required = definition["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        case .list:
            shape._listMember = try resolve(definition["member"], memberName: "member")
        case .map:
            shape._mapKey = try resolve(definition["key"], memberName: "key")
            shape._mapValue = try resolve(definition["value"], memberName: "value")
        default:
            break
        }
    }

    /// One operation of the model, its shapes looked up in `shapes`.
    static func operation(_ name: String, _ value: JSON, shapes: [String: Shape], file: String) throws(ModelError) -> Operation {
        guard let definition = value.objectValue else {
            throw ModelError.invalidModel(file: file, reason: "operation \(name) is not an object")
        }
        func shapeRef(_ key: String) throws(ModelError) -> Shape? {
            guard let ref = definition[key]?["shape"]?.stringValue else { return nil }
            guard let shape = shapes[ref] else {
                throw ModelError.invalidModel(file: file, reason: "operation \(name) \(key) refers to missing shape \(ref)")
            }
            return shape
        }
        let http = definition["http"]?.objectValue ?? JSONObject()
        var errors: [Shape] = []
        for error in definition["errors"]?.arrayValue ?? [] {
            if let ref = error["shape"]?.stringValue, let shape = shapes[ref] { errors.append(shape) }
        }
        var staticParams: [(String, JSON)] = []
        for param in definition["staticContextParams"]?.objectValue ?? JSONObject() {
            if let value = param.value["value"] { staticParams.append((param.key, value)) }
        }
        let inputShape = try shapeRef("input")
        let outputShape = try shapeRef("output")
        let checksum = definition["httpChecksum"]
        return Operation(
            name: name,
            httpMethod: http["method"]?.stringValue ?? "POST",
            requestURI: http["requestUri"]?.stringValue ?? "/",
            responseCode: http["responseCode"]?.intValue.map { Int($0) },
            input: inputShape,
            output: outputShape,
            inputPayload: definition["input"]?["payload"]?.stringValue ?? inputShape?.payload,
            outputPayload: definition["output"]?["payload"]?.stringValue ?? outputShape?.payload,
            requiresEndpointDiscovery: definition["endpointdiscovery"]?["required"]?.boolValue ?? false,
            isEndpointOperation: definition["endpointoperation"]?.boolValue ?? false,
            inputXMLName: definition["input"]?["locationName"]?.stringValue ?? inputShape?.locationName,
            inputXMLNamespace: definition["input"]?["xmlNamespace"] ?? inputShape?.xmlNamespace,
            outputResultWrapper: definition["output"]?["resultWrapper"]?.stringValue,
            errors: errors,
            hostPrefix: definition["endpoint"]?["hostPrefix"]?.stringValue,
            isReadOnly: definition["readonly"]?.boolValue ?? false,
            isIdempotent: definition["idempotent"]?.boolValue ?? false,
            authType: definition["authtype"]?.stringValue,
            auth: definition["auth"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            httpChecksumRequired: definition["httpChecksumRequired"]?.boolValue ?? false,
            requestChecksumRequired: checksum?["requestChecksumRequired"]?.boolValue ?? false,
            requestAlgorithmMember: checksum?["requestAlgorithmMember"]?.stringValue,
            requestValidationModeMember: checksum?["requestValidationModeMember"]?.stringValue,
            responseAlgorithms: checksum?["responseAlgorithms"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            requestCompression: definition["requestcompression"]?["encodings"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            unsignedPayload: definition["unsignedPayload"]?.boolValue ?? false,
            staticContextParams: staticParams,
            deprecated: definition["deprecated"]?.boolValue ?? false
        )
    }

    /// Lower-cased with underscores removed, so that `AssociateConnectPeer` and
    /// boto3's `associate_connect_peer` meet.
    static func looseName(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.filter { $0 != "_" && $0 != "-" && $0 != " " })).lowercased()
    }

    /// Finds an operation by its model name or boto3's snake_case name.
    public func operation(named name: String) -> Operation? {
        if let operation = operations[name] { return operation }
        guard let canonical = operationsByLooseName[ServiceModel.looseName(name)] else { return nil }
        return operations[canonical]
    }

    /// Operation names close to `name`, best first, for "did you mean" answers.
    public func suggestions(for name: String, limit: Int = 5) -> [String] {
        operationSuggester.closest(to: name, limit: limit)
    }
}

/// Candidates ranked by edit distance on their loose form, then by prefix match.
public func closestNames(to query: String, among candidates: [String], limit: Int) -> [String] {
    NameSuggester(candidates).closest(to: query, limit: limit)
}

/// Names close to a misspelt one ("did you mean"), among a fixed list whose loose forms
/// (`ServiceModel.looseName` as bytes) are made once: a wrong name is cheap to send, and
/// comparing it with every service or operation must stay cheap too.
public struct NameSuggester: Sendable {
    let names: [String]
    /// Every name's loose bytes, one after another; `ends[i]` is where name i's end.
    let loose: [UInt8]
    let ends: [Int]

    public init(_ names: [String]) {
        self.names = names
        var loose: [UInt8] = [], ends: [Int] = []
        ends.reserveCapacity(names.count)
        for name in names {
            appendLoose(name, to: &loose)
            ends.append(loose.count)
        }
        self.loose = loose
        self.ends = ends
    }

    /// At most `limit` names, closest first (then by name): within an edit distance that
    /// grows with the query's length, or starting one another, or with the query's
    /// letters in order (`netmanager` for `networkmanager`).
    public func closest(to query: String, limit: Int) -> [String] {
        // Names are short; a long query is no typo, and comparing it would cost a caller's
        // whole request worth of CPU per candidate.
        guard query.utf8.count <= 100 else { return [] }
        var q: [UInt8] = []
        appendLoose(query, to: &q)
        let allowed = q.count <= 4 ? 1 : Swift.max(2, q.count / 3)
        var rows = ([Int](), [Int]())
        var scored: [(Int, String)] = []
        loose.withUnsafeBufferPointer { loose in
            q.withUnsafeBufferPointer { q in
                var start = 0
                for (index, end) in ends.enumerated() {
                    let c = UnsafeBufferPointer(rebasing: loose[start..<end])
                    start = end
                    var distance = Int.max
                    if c.elementsEqual(q) {
                        distance = 0
                    } else if !q.isEmpty, c.starts(with: q) || q.starts(with: c) {
                        distance = 1
                    }
                    if distance > 2, q.count >= 4, q.count * 2 >= c.count, isSubsequence(q, of: c) { distance = 2 }
                    // The edit distance is at least the difference in length.
                    if distance > 1, abs(q.count - c.count) <= allowed { distance = Swift.min(distance, editDistance(q, c, rows: &rows)) }
                    if distance <= allowed { scored.append((distance, names[index])) }
                }
            }
        }
        scored.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        return scored.prefix(limit).map(\.1)
    }
}

/// `ServiceModel.looseName` as bytes, for comparing: ASCII letters lower-cased, `_`, `-`
/// and spaces left out.
func appendLoose(_ name: String, to out: inout [UInt8]) {
    for byte in name.utf8 where byte != UInt8(ascii: "_") && byte != UInt8(ascii: "-") && byte != UInt8(ascii: " ") {
        out.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
    }
}

func isSubsequence(_ a: UnsafeBufferPointer<UInt8>, of b: UnsafeBufferPointer<UInt8>) -> Bool {
    var j = 0
    for byte in b where j < a.count && a[j] == byte { j += 1 }
    return j == a.count
}

/// Levenshtein distance, with the two rows of the table kept by the caller between calls.
func editDistance(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>, rows: inout ([Int], [Int])) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    rows.0.removeAll(keepingCapacity: true)
    rows.0.append(contentsOf: 0...b.count)
    rows.1.removeAll(keepingCapacity: true)
    rows.1.append(contentsOf: repeatElement(0, count: b.count + 1))
    for i in 1...a.count {
        rows.1[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            rows.1[j] = Swift.min(rows.0[j] + 1, rows.1[j - 1] + 1, rows.0[j - 1] + cost)
        }
        swap(&rows.0, &rows.1)
    }
    return rows.0[b.count]
}
