import AWSJSON
import AWSModels

/// Turns a CBOR answer into the result's JSON text in one pass over its bytes, along the
/// output shape, without a tree of `CBORValue`s or `JSON` values: text strings are checked
/// and copied, structures come out in model order, numbers written as they are read.
/// Items that are rare or need conversion (tags, so timestamps; indefinite-length
/// strings; items of another type than their shape) are decoded one at a time and read
/// by the codec's own rules (`RPCv2CBORCodec.read`).
///
/// It gives exactly the bytes the tree gives once written compactly. What would need the
/// tree's rules (a member or map key given twice: the last one wins in place; a key that
/// is not a definite text string) stops it with `needsTree`, and the caller reads the tree.
/// Malformed CBOR stops it too: the tree then reports it.
struct CBORResultTranscoder {
    enum Stop: Error { case needsTree }

    private let codec: RPCv2CBORCodec
    private var reader: CBORDecoder
    private var out: [UInt8] = []
    /// Scratch shared by all levels (each above its own base): the members a structure wrote.
    private var segments: [WrittenMember] = []

    private init(codec: RPCv2CBORCodec, bytes: [UInt8]) {
        self.codec = codec
        reader = CBORDecoder(bytes: bytes)
    }

    /// The answer's members as `shape` (a structure), in model order, each one's value a
    /// fragment of JSON text; nil if the answer is not one CBOR map or needs the tree.
    static func members(of body: [UInt8], as shape: Shape, codec: RPCv2CBORCodec) -> JSONObject? {
        guard let first = body.first, first >> 5 == 5, shape.type == .structure, !shape.isDocument, !shape.isUnion else { return nil }
        var transcoder = CBORResultTranscoder(codec: codec, bytes: body)
        transcoder.out.reserveCapacity(body.count + 64)
        do {
            var found: [(index: Int, value: JSON)] = []
            var seen = Set<Int>()
            try transcoder.mapEntries { transcoder, key in
                guard let index = transcoder.keyIndex(key, shape) else {
                    try transcoder.skip()
                    return
                }
                if !seen.insert(index).inserted { throw Stop.needsTree }
                if try transcoder.member(shape.members[index].shape) {
                    found.append((index, .fragment(JSONFragment(bytes: transcoder.out))))
                    transcoder.out = []
                } else {
                    transcoder.out.removeAll(keepingCapacity: true)
                }
            }
            guard transcoder.reader.offset == body.count else { return nil }
            if found.count > 1 { found.sort { $0.index < $1.index } }
            var result = JSONObject()
            for entry in found { result.append(shape.members[entry.index].name, entry.value) }
            return result
        } catch {
            return nil
        }
    }

    // MARK: Items

    /// A structure member's value or a map value: null and undefined leave it out.
    private mutating func member(_ shape: Shape) throws -> Bool {
        if try skipNullOrUndefined() { return false }
        return try value(shape)
    }

    /// Writes the next item as `shape`; false (and nothing written) where the tree gives nil.
    private mutating func value(_ shape: Shape) throws -> Bool {
        guard reader.offset < reader.bytes.count else { throw Stop.needsTree }
        let initial = reader.bytes[reader.offset]
        let major = initial >> 5, info = initial & 0x1F
        switch (major, shape.type) {
        case (5, .structure) where !shape.isDocument:
            try structure(shape)
            return true
        case (4, .list):
            guard let item = shape.listMember else { return try decoded(shape) }
            try list(item.shape)
            return true
        case (5, .map):
            guard let valueMember = shape.mapValue else { return try decoded(shape) }
            try map(valueMember.shape)
            return true
        case (0, _) where shape.type != .structure && shape.type != .list && shape.type != .map,
             (1, _) where shape.type != .structure && shape.type != .list && shape.type != .map:
            reader.offset += 1
            guard let n = try reader.argument(info) else { throw Stop.needsTree }
            if major == 0 {
                n <= UInt64(Int64.max) ? JSON.int(Int64(n)).write(to: &out, style: .compact) : JSON.double(Double(n)).write(to: &out, style: .compact)
            } else {
                n < UInt64(Int64.max) ? JSON.int(-1 - Int64(n)).write(to: &out, style: .compact) : JSON.double(-1 - Double(n)).write(to: &out, style: .compact)
            }
            return true
        case (3, _) where info != 31:
            try text()
            return true
        case (6, _) where info == 1:
            return try epochTimestamp()
        default:
            return try decoded(shape)
        }
    }

    /// Tag 1 (epoch seconds), read as the tree reads it (`RPCv2CBORCodec.plain`), the
    /// result written without a `JSON` value in between.
    private mutating func epochTimestamp() throws -> Bool {
        reader.offset += 1
        try enter()
        defer { reader.depth -= 1 }
        guard let t = RPCv2CBORCodec.epochTimestamp(try reader.item()) else { return false }
        codec.results.writeTimestamp(t, to: &out)
        return true
    }

    /// The next item decoded and read by the codec's rules, then written.
    private mutating func decoded(_ shape: Shape) throws -> Bool {
        guard let value = codec.read(try reader.item(), shape) else { return false }
        value.write(to: &out, style: .compact)
        return true
    }

    /// A structure's members in model order; out-of-order ones are put in order at the end.
    private mutating func structure(_ shape: Shape) throws {
        var structure = StructureOutput(&out, segments: segments)
        let members = shape.members
        try mapEntries { transcoder, key in
            guard let index = transcoder.keyIndex(key, shape) else {
                try transcoder.skip()
                return
            }
            guard let mark = structure.begin(index, &transcoder.out, segments: transcoder.segments) else {
                throw Stop.needsTree
            }
            transcoder.out.append(contentsOf: members[index].resultKey)
            let wrote = try transcoder.member(members[index].shape)
            structure.end(index, at: mark, wrote: wrote, &transcoder.out, segments: &transcoder.segments)
        }
        structure.finish(&out, segments: &segments)
    }

    /// A list's items; null, undefined and what the tree reads as nil are null.
    private mutating func list(_ item: Shape) throws {
        let initial = try reader.byte()
        let count = try reader.argument(initial & 0x1F)
        if let count, count > UInt64(reader.bytes.count - reader.offset) { throw Stop.needsTree }
        try enter()
        defer { reader.depth -= 1 }
        out.append(UInt8(ascii: "["))
        var written = 0
        while try more(count, done: written) {
            if written > 0 { out.append(UInt8(ascii: ",")) }
            if try !value(item) { out.append(contentsOf: "null".utf8) }
            written += 1
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A map's entries in the answer's order; null and undefined values left out.
    private mutating func map(_ valueShape: Shape) throws {
        out.append(UInt8(ascii: "{"))
        var written = WrittenKeys()
        try mapEntries { transcoder, key in
            // A key given twice keeps its first place with the last value: the tree's rule.
            let new = transcoder.reader.bytes.withUnsafeBufferPointer { written.insert(key.start, key.end, of: $0) }
            if !new { throw Stop.needsTree }
            let before = transcoder.out.count
            if transcoder.out.last != UInt8(ascii: "{") { transcoder.out.append(UInt8(ascii: ",")) }
            transcoder.writeText(key)
            transcoder.out.append(UInt8(ascii: ":"))
            if try !transcoder.member(valueShape) { transcoder.out.removeLast(transcoder.out.count - before) }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Reads a map's head, then each key (a definite text string, checked) and hands it
    /// to `entry`, which reads the value.
    private mutating func mapEntries(_ entry: (inout CBORResultTranscoder, (start: Int, end: Int)) throws -> Void) throws {
        let initial = try reader.byte()
        let count = try reader.argument(initial & 0x1F)
        if let count, count > UInt64(reader.bytes.count - reader.offset) { throw Stop.needsTree }
        try enter()
        defer { reader.depth -= 1 }
        var read = 0
        while try more(count, done: read) {
            let key = try textRange()
            try entry(&self, key)
            read += 1
        }
    }

    // MARK: Small steps

    private mutating func enter() throws {
        reader.depth += 1
        if reader.depth > CBORDecoder.maxDepth { throw Stop.needsTree }
    }

    /// Whether another element follows: by count, or until the break of an indefinite item.
    private mutating func more(_ count: UInt64?, done: Int) throws -> Bool {
        if let count { return UInt64(done) < count }
        return try !reader.atBreak()
    }

    /// A definite text string's range in the input, checked to be UTF-8 (unless its
    /// writer checks it).
    private mutating func textRange(checked: Bool = true) throws -> (start: Int, end: Int) {
        guard reader.offset < reader.bytes.count, reader.bytes[reader.offset] >> 5 == 3 else { throw Stop.needsTree }
        let info = reader.bytes[reader.offset] & 0x1F
        guard info != 31 else { throw Stop.needsTree }
        reader.offset += 1
        guard let length = try reader.argument(info) else { throw Stop.needsTree }
        let slice = try reader.take(length)
        if checked {
            let valid = reader.bytes.withUnsafeBufferPointer { UTF8Validation.isValid(UnsafeBufferPointer(rebasing: $0[slice.startIndex..<slice.endIndex])) }
            guard valid else { throw Stop.needsTree }
        }
        return (slice.startIndex, slice.endIndex)
    }

    /// A text string as a JSON string; text that is not UTF-8 is left to the tree (an error there).
    private mutating func text() throws {
        let range = try textRange(checked: false)
        let valid = reader.bytes.withUnsafeBufferPointer { bytes in
            JSON.writeString(utf8: UnsafeBufferPointer(rebasing: bytes[range.start..<range.end]), to: &out, onlyIfValid: true)
        }
        guard valid else { throw Stop.needsTree }
    }

    private mutating func writeText(_ range: (start: Int, end: Int)) {
        reader.bytes.withUnsafeBufferPointer { bytes in
            JSON.writeString(utf8: UnsafeBufferPointer(rebasing: bytes[range.start..<range.end]), to: &out)
        }
    }

    private mutating func skipNullOrUndefined() throws -> Bool {
        guard reader.offset < reader.bytes.count else { throw Stop.needsTree }
        let byte = reader.bytes[reader.offset]
        guard byte == 0xF6 || byte == 0xF7 else { return false }
        reader.offset += 1
        return true
    }

    private mutating func skip() throws { _ = try reader.item() }

    private func keyIndex(_ key: (start: Int, end: Int), _ shape: Shape) -> Int? {
        reader.bytes.withUnsafeBufferPointer { shape.memberIndex(forName: UnsafeBufferPointer(rebasing: $0[key.start..<key.end])) }
    }

}
