import AWSJSON
import AWSModels

/// Turns a JSON answer into the result's JSON text in one pass over its bytes, without a
/// tree of values: strings are copied as they are, structures come out in model order,
/// and only values that change (timestamps, blobs, numbers) are read into values.
///
/// It gives exactly the bytes `JSONValueCodec.parseValue` gives once written compactly.
/// What is rare and would need the tree's rules (a key given twice, an escaped map key,
/// a union's unknown member) stops it with `needsTree`, and the caller parses the tree.
struct JSONResultTranscoder: ~Copyable {
    /// The answer needs the tree's rules; other errors thrown are the reader's (not JSON).
    enum Stop: Error { case needsTree }

    private let codec: JSONValueCodec
    private let plan: JSONResultPlan
    private var reader: JSONReader
    private var out: OutputBytes
    /// Scratch shared by all levels (each level works above its own base): the members a
    /// structure wrote.
    private var segments: [WrittenMember] = []

    private init(codec: JSONValueCodec, plan: JSONResultPlan, reader: JSONReader) {
        self.codec = codec
        self.plan = plan
        self.reader = reader
        out = OutputBytes(capacity: reader.bytes.count + 64)
    }

    /// The body's members as `shape` (a structure), in model order, each one's value as a
    /// fragment of JSON text; nil if the body is not JSON or needs the tree's rules.
    static func members(of body: [UInt8], as shape: Shape, codec: JSONValueCodec) -> JSONObject? {
        guard shape.type == .structure, !shape.isUnion, !shape.isDocument else { return nil }
        let plan = JSONResultPlan.plan(for: shape)
        return body.withUnsafeBufferPointer { buffer -> JSONObject? in
            var transcoder = JSONResultTranscoder(codec: codec, plan: plan, reader: JSONReader(buffer))
            do {
                let members = try transcoder.topLevel(shape)
                try transcoder.reader.finish()
                return members
            } catch {
                return nil
            }
        }
    }

    /// The top level, each member's value written on its own so the result's members can
    /// be put in model order (and headers put before them) by the caller.
    private mutating func topLevel(_ shape: Shape) throws -> JSONObject {
        guard reader.peek() == .object else { throw Stop.needsTree }
        let node = plan.nodes[plan.rootNode]
        var found: [(index: Int, value: JSON)] = []
        found.reserveCapacity(min(shape.members.count, 16))
        // Members seen: a bit each for the first 64 (no set to allocate), a set past them.
        var seenBits: UInt64 = 0
        var seenPast64 = Set<Int>()
        if try reader.enterObject() {
            repeat {
                let key = try reader.readKeyToken()
                guard let index = memberIndex(key, node) else {
                    try skip()
                    continue
                }
                // A key given twice (even null once): the tree's last-one-wins rule.
                if index < 64 {
                    if seenBits & (1 << UInt64(index)) != 0 { throw Stop.needsTree }
                    seenBits |= 1 << UInt64(index)
                } else if !seenPast64.insert(index).inserted {
                    throw Stop.needsTree
                }
                if try value(Int(plan.members[Int(node.first) + index].node)) {
                    found.append((index, .fragment(JSONFragment(bytes: out.bytes(from: 0)))))
                }
                out.truncate(to: 0)
            } while try reader.nextObjectMember()
        }
        if found.count > 1 { found.sort { $0.index < $1.index } }
        var result = JSONObject()
        result.members.reserveCapacity(found.count)
        for entry in found { result.append(shape.members[entry.index].name, entry.value) }
        return result
    }

    /// Writes one value as node `index` has it; false (and nothing written) where the tree gives nil.
    private mutating func value(_ index: Int) throws -> Bool {
        let node = plan.nodes[index]
        let kind = reader.peek()
        if kind == .null, try reader.readNullIfPresent() { return false }
        switch node.kind {
        case .structure, .union:
            guard kind == .object else { return try skipWrongType() }
            try structure(node)
            return true
        case .list:
            guard kind == .array else { return try skipWrongType() }
            try list(Int(node.first))
            return true
        case .map:
            guard kind == .object else { return try skipWrongType() }
            try map(Int(node.first))
            return true
        case .skipped:
            return try skipWrongType()
        case .converted:
            // Values that change: read whole (they are small) and converted as the tree does.
            guard let parsed = codec.parseValue(try reader.readValue(), plan.shapes[Int(node.first)]) else { return false }
            write(parsed)
            return true
        case .plain:
            if kind == .string {
                try copyString()
            } else {
                // Numbers are written again (`1.50` is `1.5` in the result), as are values of
                // the wrong type, which the tree keeps as they are.
                write(try reader.readValue())
            }
            return true
        }
    }

    /// A structure's members in model order; out of order ones are put in order at the end.
    private mutating func structure(_ node: JSONResultPlan.Node) throws {
        var structure = StructureOutput(&out, segments: segments)
        if try reader.enterObject() {
            repeat {
                let key = try reader.readKeyToken()
                guard let index = memberIndex(key, node) else {
                    // A union's one unknown member is reported by name: the tree does that.
                    if node.kind == .union, !isKey(key, "__type"), reader.peek() != .null { throw Stop.needsTree }
                    try skip()
                    continue
                }
                let row = plan.members[Int(node.first) + index]
                guard let mark = structure.begin(index, &out, segments: segments) else { throw Stop.needsTree }
                out.append(resultKey(row))
                structure.end(index, at: mark, wrote: try value(Int(row.node)), &out, segments: &segments)
            } while try reader.nextObjectMember()
        }
        structure.finish(&out, segments: &segments)
    }

    private mutating func list(_ element: Int) throws {
        out.append(UInt8(ascii: "["))
        if try reader.enterArray() {
            var first = true
            repeat {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if try !value(element) { writeNull() }
            } while try reader.nextArrayElement()
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A map's entries in the answer's order; a null value stays null.
    private mutating func map(_ valueNode: Int) throws {
        out.append(UInt8(ascii: "{"))
        var written = WrittenKeys()
        if try reader.enterObject() {
            repeat {
                let key = try reader.readKeyToken()
                // Escaped keys could equal another written differently: the tree compares.
                guard key.decoded == nil else { throw Stop.needsTree }
                // A key given twice: the tree's "first place, last value" rule.
                guard written.insert(key.start, key.end, of: reader.bytes) else { throw Stop.needsTree }
                let before = out.count
                if out.last != UInt8(ascii: "{") { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\""))
                out.append(UnsafeBufferPointer(rebasing: reader.bytes[key.start..<key.end]))
                out.append(UInt8(ascii: "\""))
                out.append(UInt8(ascii: ":"))
                if try reader.readNullIfPresent() {
                    writeNull()
                } else if try !value(valueNode) {
                    out.truncate(to: before)
                }
            } while try reader.nextObjectMember()
        }
        out.append(UInt8(ascii: "}"))
    }

    // MARK: Small steps

    private mutating func writeNull() {
        for byte in "null".utf8 { out.append(byte) }
    }

    /// A string as the result writes it: the answer's bytes when they had no escapes
    /// (compact output escapes nothing else valid JSON may hold), else written again.
    private mutating func copyString() throws {
        let token = try reader.readStringToken()
        if let decoded = token.decoded {
            var text: [UInt8] = []
            JSON.writeString(decoded, to: &text, asciiOnly: false)
            out.append(contentsOf: text)
        } else {
            out.append(UInt8(ascii: "\""))
            out.append(UnsafeBufferPointer(rebasing: reader.bytes[token.start..<token.end]))
            out.append(UInt8(ascii: "\""))
        }
    }

    private mutating func write(_ value: JSON) {
        var text: [UInt8] = []
        value.write(to: &text, style: .compact)
        out.append(contentsOf: text)
    }

    private func resultKey(_ row: JSONResultPlan.MemberRow) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: plan.text[Int(row.resultKeyStart)..<Int(row.resultKeyStart + row.resultKeyLength)])
    }

    private func memberIndex(_ key: JSONReader.StringToken, _ node: JSONResultPlan.Node) -> Int? {
        if var decoded = key.decoded {
            return decoded.withUTF8 { plan.member(node, key: $0, readable: 0) }
        }
        let bytes = UnsafeBufferPointer(rebasing: reader.bytes[key.start..<key.end])
        return plan.member(node, key: bytes, readable: reader.bytes.count - key.start)
    }

    private func isKey(_ key: JSONReader.StringToken, _ name: StaticString) -> Bool {
        if let decoded = key.decoded { return decoded == name.description }
        guard key.end - key.start == name.utf8CodeUnitCount else { return false }
        for i in 0..<name.utf8CodeUnitCount where reader.bytes[key.start + i] != name.utf8Start[i] { return false }
        return true
    }

    private mutating func skip() throws { _ = try reader.readValue() }

    private mutating func skipWrongType() throws -> Bool {
        try skip()
        return false
    }
}
