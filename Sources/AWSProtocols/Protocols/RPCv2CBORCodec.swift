import AWSJSON
import AWSModels

/// smithy-rpc-v2-cbor: an RPC binding (`POST /service/<targetPrefix>/operation/<Operation>`,
/// `smithy-protocol: rpc-v2-cbor`) with the CBOR codec, as botocore's RpcV2CBORSerializer
/// and RpcV2CBORParser: structures as maps keyed by member name, timestamps as tag 1,
/// blobs as byte strings; errors from `__type`.
public struct RPCv2CBORCodec: ProtocolCodec {
    let operation: AWSModels.Operation
    let service: ServiceModel
    let options: CodecOptions
    let results: ResultValues

    public init(operation: AWSModels.Operation, service: ServiceModel, options: CodecOptions) {
        self.operation = operation
        self.service = service
        self.options = options
        results = ResultValues(options: options)
    }

    // MARK: Request

    public func serialize(_ params: JSONObject) throws(SerializationError) -> SerializedRequest {
        var writer = CBORBodyWriter(options: options)
        if let input = operation.input { ShapeWalker.visit(.object(params), input, &writer) }
        var headers: [(name: String, value: String)] = [("smithy-protocol", "rpc-v2-cbor")]
        if service.metadata.awsQueryCompatible { headers.append(("x-amzn-query-mode", "true")) }
        let eventStreamOut = operation.output?.members.contains { $0.shape.isEventStream } ?? false
        let eventStreamIn = operation.input?.members.contains { $0.shape.isEventStream } ?? false
        headers.append(("Accept", eventStreamOut ? "application/vnd.amazon.eventstream" : "application/cbor"))
        if !writer.cbor.bytes.isEmpty { headers.append(("Content-Type", eventStreamIn ? "application/vnd.amazon.eventstream" : "application/cbor")) }
        return SerializedRequest(method: "POST", path: "/service/\(service.metadata.targetPrefix ?? "")/operation/\(operation.name)", query: "",
                                 headers: headers, body: writer.cbor.bytes, hostPrefix: try HostPrefix.expand(operation, params))
    }

    // MARK: Answer

    public func parse(_ response: ResponseData) -> Result<JSONObject, AWSErrorResponse> {
        if response.status >= 301 { return .failure(parseError(response)) }
        guard let output = operation.output, !response.body.isEmpty else { return .success(JSONObject()) }
        if let members = CBORResultTranscoder.members(of: response.body, as: output, codec: self) { return .success(members) }
        do {
            let value = try CBORDecoder.decode(response.body)
            guard case .object(let result)? = read(value, output) else { return .success(JSONObject()) }
            return .success(result)
        } catch {
            return .failure(AWSErrorResponse(code: String(response.status), message: "the answer is not valid CBOR: \(error.description)",
                                             httpStatus: response.status, requestId: response.header("x-amzn-RequestId"), shape: nil,
                                             fields: JSONObject()))
        }
    }

    /// A decoded item as `shape` (botocore's RPC v2 parser: structure members by name,
    /// nulls in maps dropped, values of other shapes as they are).
    func read(_ value: CBORValue, _ shape: Shape) -> JSON? {
        switch (shape.type, value) {
        case (.structure, .map(let pairs)) where !shape.isDocument:
            // Each member from the last pair of its name, in model order.
            let members = shape.members
            var found = [Int](repeating: -1, count: members.count)
            for (position, pair) in pairs.enumerated() {
                guard case .text(let key) = pair.key, let index = shape.memberIndex[key] else { continue }
                found[index] = position
            }
            var result = JSONObject()
            for (index, member) in members.enumerated() where found[index] >= 0 {
                let value = pairs[found[index]].value
                guard value != .null, value != .undefined, let parsed = read(value, member.shape) else { continue }
                result.append(member.name, parsed)
            }
            return .object(result)
        case (.list, .array(let items)):
            guard let element = shape.listMember else { return nil }
            return .array(items.map { $0 == .null ? .null : (read($0, element.shape) ?? .null) })
        case (.map, .map(let pairs)):
            guard let valueMember = shape.mapValue else { return nil }
            var result = JSONObject()
            for pair in pairs where pair.value != .null && pair.value != .undefined {
                guard case .text(let key) = pair.key, let parsed = read(pair.value, valueMember.shape) else { continue }
                result[key] = parsed
            }
            return .object(result)
        case (.blob, .bytes(let bytes)):
            return results.blob(bytes)
        default:
            return plain(value)
        }
    }

    /// An item with no shape to guide it: a timestamp for tag 1, else the JSON kind.
    func plain(_ value: CBORValue) -> JSON? {
        switch value {
        case .unsigned(let n): return n <= UInt64(Int64.max) ? .int(Int64(n)) : .double(Double(n))
        case .negative(let n): return n < UInt64(Int64.max) ? .int(-1 - Int64(n)) : .double(-1 - Double(n))
        case .float(let d): return .double(d)
        case .text(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .bytes(let bytes): return results.blob(bytes)
        case .null, .undefined: return nil
        case .array(let items): return .array(items.map { plain($0) ?? .null })
        case .map(let pairs):
            var object = JSONObject()
            for pair in pairs {
                guard case .text(let key) = pair.key, let parsed = plain(pair.value) else { continue }
                object[key] = parsed
            }
            return .object(object)
        case .tag(1, let inner):
            guard let t = RPCv2CBORCodec.epochTimestamp(inner) else { return nil }
            return results.timestamp(t)
        case .tag(_, let inner): return plain(inner)
        }
    }

    /// The instant a tag 1 (epoch seconds) holds: an integer or a float, else nil.
    static func epochTimestamp(_ inner: CBORValue) -> Timestamp? {
        let seconds: Double
        switch inner {
        case .unsigned(let n): seconds = Double(n)
        case .negative(let n): seconds = -1 - Double(n)
        case .float(let d): seconds = d
        default: return nil
        }
        return Timestamp.parse(.double(seconds))
    }

    /// botocore's `_do_error_parse` for RPC v2 CBOR: `__type` (else the status) made bare,
    /// the query-compatible code from `x-amzn-query-error`, the message from `message`.
    func parseError(_ response: ResponseData) -> AWSErrorResponse {
        let requestId = response.header("x-amzn-RequestId")
        var body: [(key: CBORValue, value: CBORValue)] = []
        if !response.body.isEmpty, case .map(let pairs)? = try? CBORDecoder.decode(response.body) { body = pairs }
        func text(_ key: String) -> String? {
            if case .text(let value)? = body.last(where: { $0.key == .text(key) })?.value { return value }
            return nil
        }
        let message = text("message") ?? text("Message") ?? ""
        var code = JSONErrorParser.bareErrorCode(text("__type") ?? String(response.status))
        let modeledCode = code
        if let queryError = response.header("x-amzn-query-error") {
            let parts = queryError.split(separator: ";", omittingEmptySubsequences: false)
            if parts.count == 2, !parts[0].isEmpty { code = String(parts[0]) }
        }
        let shape = service.errorShapesByCode[modeledCode] ?? service.errorShapesByCode[code]
        var fields = JSONObject()
        if let shape, case .object(let parsed)? = read(.map(body), shape) { fields = parsed }
        return AWSErrorResponse(code: code, message: message, httpStatus: response.status, requestId: requestId, shape: shape, fields: fields)
    }
}
