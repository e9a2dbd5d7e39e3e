import AWSJSON
import AWSModels

/// Turns a JSON answer into the result's JSON text in one pass over its bytes, without a
/// tree of values: strings are copied as they are, structures come out in model order,
/// and only values that change (timestamps, blobs, numbers) are read into values.
///
/// It gives exactly the bytes `JSONValueCodec.parseValue` gives once written compactly.
/// What is rare and would need the tree's rules (a key given twice, an escaped map key,
/// a union's unknown member) stops it with `needsTree`, and the caller parses the tree.
struct JSONResultTranscoder {
    /// The answer needs the tree's rules; other errors thrown are the reader's (not JSON).
    enum Stop: Error { case needsTree }

    private let codec: JSONValueCodec
    private var reader: JSONReader
    private var out: [UInt8] = []
    /// Scratch shared by all levels (each level works above its own base): the members a
    /// structure wrote, and the keys a map wrote (hash, start, end in the input).
    private var segments: [WrittenMember] = []
    private var mapKeys: [(hash: Int, start: Int, end: Int)] = []

    private init(codec: JSONValueCodec, reader: JSONReader) {
        self.codec = codec
        self.reader = reader
    }

    /// The body's members as `shape` (a structure), in model order, each one's value as a
    /// fragment of JSON text; nil if the body is not JSON or needs the tree's rules.
    static func members(of body: [UInt8], as shape: Shape, codec: JSONValueCodec) -> JSONObject? {
        body.withUnsafeBufferPointer { buffer -> JSONObject? in
            var transcoder = JSONResultTranscoder(codec: codec, reader: JSONReader(buffer))
            transcoder.out.reserveCapacity(buffer.count + 64)
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
        guard reader.peek() == .object, !shape.isUnion else { throw Stop.needsTree }
        var found: [(index: Int, value: JSON)] = []
        found.reserveCapacity(min(shape.members.count, 16))
        var seen = Set<Int>()
        if try reader.enterObject() {
            repeat {
                let key = try reader.readKeyToken()
                guard let index = memberIndex(key, shape) else {
                    try skip()
                    continue
                }
                // A key given twice (even null once): the tree's last-one-wins rule.
                if !seen.insert(index).inserted { throw Stop.needsTree }
                if try value(shape.members[index].shape) {
                    // The text moves into the fragment; the next member starts a new one.
                    found.append((index, .fragment(JSONFragment(bytes: out))))
                    out = []
                    out.reserveCapacity(reader.bytes.count - reader.offset + 64)
                } else {
                    out.removeAll(keepingCapacity: true)
                }
            } while try reader.nextObjectMember()
        }
        if found.count > 1 { found.sort { $0.index < $1.index } }
        var result = JSONObject()
        result.members.reserveCapacity(found.count)
        for entry in found { result.append(shape.members[entry.index].name, entry.value) }
        return result
    }

    /// Writes one value as `shape`; false (and nothing written) where the tree gives nil.
    private mutating func value(_ shape: Shape) throws -> Bool {
        let kind = reader.peek()
        if kind == .null, try reader.readNullIfPresent() { return false }
        switch shape.type {
        case .structure where !shape.isDocument:
            guard kind == .object else { return try skipWrongType() }
            try structure(shape)
            return true
        case .list:
            guard kind == .array, let element = shape.listMember else { return try skipWrongType() }
            try list(element.shape)
            return true
        case .map:
            guard kind == .object, let valueMember = shape.mapValue else { return try skipWrongType() }
            try map(valueMember.shape)
            return true
        case .structure, .timestamp, .blob, .float, .double, .bigdecimal:
            // Values that change: read whole (they are small) and converted as the tree does.
            guard let parsed = codec.parseValue(try reader.readValue(), shape) else { return false }
            parsed.write(to: &out, style: .compact)
            return true
        default:
            if kind == .string {
                try copyString()
            } else {
                // Numbers are written again (`1.50` is `1.5` in the result), as are values of
                // the wrong type, which the tree keeps as they are.
                try reader.readValue().write(to: &out, style: .compact)
            }
            return true
        }
    }

    /// A structure's members in model order; out of order ones are put in order at the end.
    private mutating func structure(_ shape: Shape) throws {
        var structure = StructureOutput(&out, segments: segments)
        let members = shape.members
        let isUnion = shape.isUnion
        if try reader.enterObject() {
            repeat {
                let key = try reader.readKeyToken()
                guard let index = memberIndex(key, shape) else {
                    // A union's one unknown member is reported by name: the tree does that.
                    if isUnion, !isKey(key, "__type"), reader.peek() != .null { throw Stop.needsTree }
                    try skip()
                    continue
                }
                guard let mark = structure.begin(index, key: members[index].resultKey, &out, segments: segments) else { throw Stop.needsTree }
                structure.end(index, at: mark, wrote: try value(members[index].shape), &out, segments: &segments)
            } while try reader.nextObjectMember()
        }
        structure.finish(&out, segments: &segments)
    }

    private mutating func list(_ element: Shape) throws {
        out.append(UInt8(ascii: "["))
        if try reader.enterArray() {
            var first = true
            repeat {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if try !value(element) { out.append(contentsOf: Self.nullText) }
            } while try reader.nextArrayElement()
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A map's entries in the answer's order; a null value stays null.
    private mutating func map(_ valueShape: Shape) throws {
        out.append(UInt8(ascii: "{"))
        let base = mapKeys.count
        defer { while mapKeys.count > base { mapKeys.removeLast() } }
        if try reader.enterObject() {
            repeat {
                let key = try reader.readKeyToken()
                // Escaped keys could equal another written differently: the tree compares.
                guard key.decoded == nil else { throw Stop.needsTree }
                let hash = hashOf(key)
                for earlier in mapKeys[base...] where earlier.hash == hash && sameBytes(earlier, key) { throw Stop.needsTree }
                mapKeys.append((hash, key.start, key.end))
                let before = out.count
                if out.last != UInt8(ascii: "{") { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: UnsafeBufferPointer(rebasing: reader.bytes[key.start..<key.end]))
                out.append(UInt8(ascii: "\""))
                out.append(UInt8(ascii: ":"))
                if try reader.readNullIfPresent() {
                    out.append(contentsOf: Self.nullText)
                } else if try !value(valueShape) {
                    out.removeLast(out.count - before)
                }
            } while try reader.nextObjectMember()
        }
        out.append(UInt8(ascii: "}"))
    }

    // MARK: Small steps

    private static let nullText = Array("null".utf8)

    /// A string as the result writes it: the answer's bytes when they had no escapes
    /// (compact output escapes nothing else valid JSON may hold), else written again.
    private mutating func copyString() throws {
        let token = try reader.readStringToken()
        if let decoded = token.decoded {
            JSON.writeString(decoded, to: &out, asciiOnly: false)
        } else {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(rebasing: reader.bytes[token.start..<token.end]))
            out.append(UInt8(ascii: "\""))
        }
    }

    private func memberIndex(_ key: JSONReader.StringToken, _ shape: Shape) -> Int? {
        if let decoded = key.decoded { return shape.bodyMemberIndex[decoded] }
        return shape.bodyMemberIndex(forKey: UnsafeBufferPointer(rebasing: reader.bytes[key.start..<key.end]))
    }

    private func isKey(_ key: JSONReader.StringToken, _ name: StaticString) -> Bool {
        if let decoded = key.decoded { return decoded == name.description }
        guard key.end - key.start == name.utf8CodeUnitCount else { return false }
        for i in 0..<name.utf8CodeUnitCount where reader.bytes[key.start + i] != name.utf8Start[i] { return false }
        return true
    }

    private func hashOf(_ key: JSONReader.StringToken) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for i in key.start..<key.end { hash = (hash ^ UInt64(reader.bytes[i])) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: hash)
    }

    private func sameBytes(_ earlier: (hash: Int, start: Int, end: Int), _ key: JSONReader.StringToken) -> Bool {
        guard earlier.end - earlier.start == key.end - key.start else { return false }
        for i in 0..<(key.end - key.start) where reader.bytes[earlier.start + i] != reader.bytes[key.start + i] { return false }
        return true
    }

    private mutating func skip() throws { _ = try reader.readValue() }

    private mutating func skipWrongType() throws -> Bool {
        try skip()
        return false
    }
}
