import AWSJSON
import AWSModels

/// The JSON payload codec shared by rest-json and json (botocore's JSONSerializer and
/// BaseJSONParser): member names, timestamps as epoch seconds unless the model says
/// otherwise, blobs as base64, documents as they are, unions with unknown members.
struct JSONValueCodec: Sendable {
    let options: CodecOptions
    /// Timestamps and blobs as results write them.
    var results: ResultValues { ResultValues(options: options) }

    // MARK: Writing

    // Request bodies are written straight to bytes as botocore's `json.dumps` writes them
    // (", " and ": ", non-ASCII escaped), with no tree of wire values in between, by a
    // visitor of the shape walker.

    /// A value of `member` as the request body carries it: names on the wire, timestamps
    /// in the member's format, blobs base64; values of the wrong type as they are.
    func write(_ value: JSON, _ member: Member, to out: inout [UInt8]) {
        var writer = JSONBodyWriter(options: options, out: out)
        out = []
        ShapeWalker.visit(value, member.shape, at: .root(member), &writer)
        out = writer.out
    }

    /// A structure as a whole request body: the members of `object` that `shape` has, by
    /// their wire names, in the caller's order.
    func body(_ object: JSONObject, _ shape: Shape) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        var writer = JSONBodyWriter(options: options, out: out)
        ShapeWalker.visit(.object(object), shape, &writer)
        return writer.out
    }

    // MARK: Reading

    func parseBodyJSON(_ body: [UInt8]) -> JSON? {
        guard !body.isEmpty else { return .object(JSONObject()) }
        return (try? JSON.parse(body)) ?? .object(JSONObject([("message", .string(String(decoding: body, as: UTF8.self)))]))
    }

    /// The body members of `shape`, in model order (as botocore's dict), appended to
    /// `result`; callers put only members bound elsewhere (headers) in it first.
    func parseMembers(_ object: JSONObject, _ shape: Shape, into result: inout JSONObject) {
        for member in shape.members where member.location == nil {
            guard let raw = object[member.wireName], !raw.isNull, let value = parseValue(raw, member.shape) else { continue }
            result.append(member.name, value)
        }
    }

    func parseValue(_ value: JSON, _ shape: Shape) -> JSON? {
        if value.isNull { return nil }
        switch shape.type {
        case .structure:
            if shape.isDocument { return value }
            guard case .object(let object) = value else { return nil }
            if shape.isUnion, let unknown = JSONValueCodec.unknownUnionMember(object, shape) {
                return .object(JSONObject([("SDK_UNKNOWN_MEMBER", .object(JSONObject([("name", .string(unknown))])))]))
            }
            var result = JSONObject()
            result.members.reserveCapacity(object.count)
            parseMembers(object, shape, into: &result)
            return .object(result)
        case .list:
            guard case .array(let list) = value, let element = shape.listMember else { return nil }
            return .array(list.map { $0.isNull ? .null : (parseValue($0, element.shape) ?? .null) })
        case .map:
            guard case .object(let map) = value, let valueMember = shape.mapValue else { return nil }
            var result = JSONObject()
            result.members.reserveCapacity(map.count)
            // A key given twice keeps its first place and takes the last value, as a dict
            // does; such answers are rare, so the check costs one pass only then.
            let setByKey = map.count > 1 && map.firstDuplicateKey != nil
            for item in map {
                let parsed = item.value.isNull ? .null : parseValue(item.value, valueMember.shape)
                guard let parsed else { continue }
                if setByKey { result[item.key] = parsed } else { result.append(item.key, parsed) }
            }
            return .object(result)
        case .timestamp:
            return Timestamp.parse(value).map(results.timestamp) ?? value
        case .blob:
            guard case .string(let s) = value else { return value }
            return results.blob(Base64.decode(s) ?? [])
        case .float, .double, .bigdecimal:
            if case .string(let s) = value {
                switch s {
                case "NaN": return .double(.nan)
                case "Infinity": return .double(.infinity)
                case "-Infinity": return .double(-.infinity)
                default: return Double(s).map(JSON.double) ?? value
                }
            }
            return value
        default:
            return value
        }
    }

    // MARK: Reading straight from the bytes

    /// The body parsed as `shape` in one pass over the bytes, without a tree of the whole
    /// answer first: what `parseValue(JSON.parse(body), shape)` gives, for the answers
    /// that are JSON. nil if the body is not JSON (callers fall back to the tree).
    func parseBody(_ body: [UInt8], as shape: Shape) -> JSON? {
        guard !body.isEmpty else { return parseValue(.object(JSONObject()), shape) }
        if shape.type == .structure, !shape.isDocument, let members = JSONResultTranscoder.members(of: body, as: shape, codec: self) {
            return .object(members)
        }
        return readBody(body, as: shape)
    }

    /// `parseBody` as a tree of values: for what the transcoder leaves to the tree's rules.
    func readBody(_ body: [UInt8], as shape: Shape) -> JSON? {
        return body.withUnsafeBufferPointer { buffer -> JSON? in
            var reader = JSONReader(buffer)
            do {
                let value = try read(&reader, shape)
                try reader.finish()
                return value ?? .null
            } catch {
                return nil
            }
        }
    }

    /// One value as `shape` (nil where `parseValue` gives nil).
    func read(_ reader: inout JSONReader, _ shape: Shape) throws(JSONParseError) -> JSON? {
        if try reader.readNullIfPresent() { return nil }
        switch shape.type {
        case .structure where !shape.isDocument:
            guard reader.peek() == .object else { _ = try reader.readValue(); return nil }
            return .object(try readStructure(&reader, shape))
        case .list:
            guard reader.peek() == .array, let element = shape.listMember else { _ = try reader.readValue(); return nil }
            var items: [JSON] = []
            try reader.readArray { (reader: inout JSONReader) throws(JSONParseError) in
                items.append(try read(&reader, element.shape) ?? .null)
            }
            return .array(items)
        case .map:
            guard reader.peek() == .object, let valueMember = shape.mapValue else { _ = try reader.readValue(); return nil }
            var result = JSONObject()
            try reader.readObject { (reader: inout JSONReader, key: String) throws(JSONParseError) in
                if try reader.readNullIfPresent() {
                    result.append(key, .null)
                } else if let parsed = try read(&reader, valueMember.shape) {
                    result.append(key, parsed)
                }
            }
            // A key given twice keeps its first place and takes the last value, as a dict does.
            if result.count > 1, result.firstDuplicateKey != nil {
                var deduplicated = JSONObject()
                for member in result.members { deduplicated[member.key] = member.value }
                result = deduplicated
            }
            return .object(result)
        case .structure, .timestamp, .blob, .float, .double, .bigdecimal:
            return parseValue(try reader.readValue(), shape)
        default:
            return try reader.readValue()
        }
    }

    /// A structure's body members in model order; keys the model does not name are
    /// skipped, and a later duplicate key wins (as Python's `json.loads`).
    func readStructure(_ reader: inout JSONReader, _ shape: Shape) throws(JSONParseError) -> JSONObject {
        var found: [(index: Int, value: JSON)] = []
        found.reserveCapacity(min(shape.members.count, 16))
        var setCount = 0
        var unknownKey: String?
        try reader.readObject { (reader: inout JSONReader, key: String) throws(JSONParseError) in
            guard let index = shape.bodyMemberIndex[key] else {
                // Read, not skipped: a union's one unknown member is reported by name.
                let value = try reader.readValue()
                if shape.isUnion, key != "__type", !value.isNull {
                    setCount += 1
                    unknownKey = key
                }
                return
            }
            if shape.isUnion, reader.peek() != .null { setCount += 1 }
            let value = try read(&reader, shape.members[index].shape)
            if let at = found.firstIndex(where: { $0.index == index }) {
                if let value { found[at].value = value } else { found.remove(at: at) }
            } else if let value {
                found.append((index, value))
            }
        }
        if shape.isUnion, setCount == 1, let unknownKey {
            return JSONObject([("SDK_UNKNOWN_MEMBER", .object(JSONObject([("name", .string(unknownKey))])))])
        }
        // Model order, as botocore's parser walks the shape's members.
        if found.count > 1 { found.sort { $0.index < $1.index } }
        var result = JSONObject()
        result.members.reserveCapacity(found.count)
        for entry in found { result.append(shape.members[entry.index].name, entry.value) }
        return result
    }

    /// botocore's union rule: exactly one member set, and its name not in the model.
    static func unknownUnionMember(_ object: JSONObject, _ shape: Shape) -> String? {
        var setKey: String?
        for entry in object.members where entry.key != "__type" && !entry.value.isNull {
            if setKey != nil { return nil }
            setKey = entry.key
        }
        guard let setKey, !shape.members.contains(where: { $0.wireName == setKey }) else { return nil }
        return setKey
    }
}

/// Writes the JSON request body as `ShapeWalker.visit` walks the params: a separator before
/// every value but a container's first, member names on the wire, map keys as given.
struct JSONBodyWriter: ShapeVisitor {
    static var visitsMapKeys: Bool { false }
    let options: CodecOptions
    var out: [UInt8]
    /// Whether the next member or element needs ", " first (false right after "{" or "[").
    private var separate = false

    init(options: CodecOptions, out: [UInt8]) {
        self.options = options
        self.out = out
    }

    mutating func enter(_ step: ShapeStep) {
        switch step {
        case .member(let member):
            separator()
            JSON.writeString(member.wireName, to: &out, asciiOnly: true)
            out.append(contentsOf: Self.keySeparator)
        case .key(let key, _):
            separator()
            JSON.writeString(key, to: &out, asciiOnly: true)
            out.append(contentsOf: Self.keySeparator)
        case .index:
            separator()
        case .value, .root:
            break
        }
    }

    mutating func leave(_ step: ShapeStep) {
        if case .key = step { return }
        separate = true
    }

    private mutating func separator() {
        if separate { out.append(contentsOf: Self.itemSeparator) }
    }

    mutating func visit(_ value: JSON, _ shape: Shape, at step: ShapeStep) -> Bool {
        switch shape.type {
        case .structure where !shape.isDocument:
            guard case .object = value else { break }
            return open(UInt8(ascii: "{"))
        case .list:
            guard case .array = value, shape.listMember != nil else { break }
            return open(UInt8(ascii: "["))
        case .map:
            guard case .object = value, shape.mapKey != nil, shape.mapValue != nil else { break }
            return open(UInt8(ascii: "{"))
        case .timestamp:
            guard let t = Timestamp.parse(value) else { break }
            switch (step.member?.timestampFormat ?? "unixtimestamp").lowercased() {
            case "iso8601": JSON.writeString(t.iso8601, to: &out, asciiOnly: true)
            case "rfc822": JSON.writeString(t.rfc822, to: &out, asciiOnly: true)
            default: t.unixJSON.write(to: &out, style: .botocore)
            }
            return false
        case .blob:
            guard case .string(let s) = value else { break }
            let bytes = options.blobsAreBase64 ? (Base64.decode(s) ?? []) : Array(s.utf8)
            JSON.writeString(Base64.encode(bytes), to: &out, asciiOnly: true)
            return false
        default:
            break
        }
        // Scalars, documents, and values of the wrong type: as they are.
        value.write(to: &out, style: .botocore)
        return false
    }

    private mutating func open(_ bracket: UInt8) -> Bool {
        out.append(bracket)
        separate = false
        return true
    }

    mutating func finish(_ value: JSON, _ shape: Shape) {
        out.append(shape.type == .list ? UInt8(ascii: "]") : UInt8(ascii: "}"))
    }

    private static let itemSeparator: [UInt8] = Array(", ".utf8), keySeparator: [UInt8] = Array(": ".utf8)
}

/// Event payloads in JSON (json, rest-json): an event's members, or its payload member.
struct JSONEventPayloads: EventPayloadParser {
    let json: JSONValueCodec
    var results: ResultValues { json.results }

    func structure(_ payload: [UInt8], _ shape: Shape) -> JSONObject {
        if case .object(let parsed)? = json.parseBody(payload, as: shape) { return parsed }
        guard let value = json.parseBodyJSON(payload), case .object(let parsed)? = json.parseValue(value, shape) else { return JSONObject() }
        return parsed
    }

    func value(_ payload: [UInt8], _ shape: Shape) -> JSON? {
        json.parseBodyJSON(payload).flatMap { json.parseValue($0, shape) }
    }
}
