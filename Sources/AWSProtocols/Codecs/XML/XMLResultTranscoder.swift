import AWSJSON
import AWSModels
import AWSPrimitives

/// Writes the result's JSON text straight from an `XMLElementTable`, along the output
/// shape, with no `XMLElement` or `JSON` tree in between.
///
/// It gives exactly the bytes `XMLValueReader` gives once written compactly (botocore's
/// XML rules: structure members from the first element of their name, in model order;
/// `member` and flattened lists; `entry` and flattened maps; attributes). What is rare
/// and would need the tree's rules (a map key given twice, a union's unknown member)
/// stops it with `needsTree`, and the caller reads the tree.
struct XMLResultTranscoder {
    enum Stop: Error { case needsTree }

    private let table: XMLElementTable
    private let results: ResultValues
    private var out: [UInt8] = []
    /// Scratch shared by all levels (each above its own base): the first element of each
    /// member of the structures being written.
    private var firstElements: [Int] = []

    private init(table: XMLElementTable, results: ResultValues) {
        self.table = table
        self.results = results
    }

    /// The members of `element` read as `shape` (a structure), in model order, each value
    /// one fragment of JSON text; nil where the tree's rules are needed.
    static func members(of table: XMLElementTable, element: Int, as shape: Shape, results: ResultValues) -> JSONObject? {
        var transcoder = XMLResultTranscoder(table: table, results: results)
        guard !shape.isUnion, (try? transcoder.findMembers(element, shape)) != nil else { return nil }
        var result = JSONObject()
        do {
            let members = shape.members
            for index in members.indices where members[index].isXMLBodyMember {
                if try transcoder.member(index, of: shape, in: element, base: 0) {
                    result.append(members[index].name, .fragment(JSONFragment(bytes: transcoder.out)))
                    transcoder.out = []
                }
            }
        } catch {
            return nil
        }
        return result
    }

    /// `element` read as `shape`, as one fragment; nil where the tree gives nil, or
    /// where its rules are needed (`needsTree` is then reported by `tree`).
    static func value(of table: XMLElementTable, element: Int, as shape: Shape, results: ResultValues) -> (JSON?, needsTree: Bool) {
        var transcoder = XMLResultTranscoder(table: table, results: results)
        do {
            guard try transcoder.value(element, shape) else { return (nil, false) }
            return (.fragment(JSONFragment(bytes: transcoder.out)), false)
        } catch {
            return (nil, true)
        }
    }

    // MARK: Shapes

    /// Writes `element` as `shape`; false (and nothing written) where the tree gives nil.
    private mutating func value(_ element: Int, _ shape: Shape) throws -> Bool {
        switch shape.type {
        case .structure:
            try structure(element, shape)
            return true
        case .list:
            guard let item = shape.listMember else { return false }
            try list(Items(first: table.elements[element].firstChild, sameName: false), item.shape)
            return true
        case .map:
            guard shape.mapKey != nil, shape.mapValue != nil else { return false }
            try map(Items(first: table.elements[element].firstChild, sameName: false), shape)
            return true
        case .string, .character:
            writeText(element)
            return true
        case .boolean:
            let text = table.elements[element]
            let isTrue = text.textEnd - text.textStart == 4 && table.text[text.textStart] == UInt8(ascii: "t")
                && table.text[text.textStart + 1] == UInt8(ascii: "r") && table.text[text.textStart + 2] == UInt8(ascii: "u")
                && table.text[text.textStart + 3] == UInt8(ascii: "e")
            out.append(contentsOf: isTrue ? Self.trueText : Self.falseText)
            return true
        case .integer, .long, .biginteger:
            guard let number = Int64(table.textString(element).trimmingSpaces) else { return false }
            JSON.int(number).write(to: &out, style: .compact)
            return true
        case .float, .double, .bigdecimal:
            guard let number = Double(table.textString(element).trimmingSpaces) else { return false }
            JSON.double(number).write(to: &out, style: .compact)
            return true
        case .timestamp:
            let text = table.textString(element)
            if let t = Timestamp.parse(text) { results.writeTimestamp(t, to: &out) } else { JSON.string(text).write(to: &out, style: .compact) }
            return true
        case .blob:
            results.blob(Base64.decode(table.textString(element).trimmingSpaces) ?? []).write(to: &out, style: .compact)
            return true
        }
    }

    /// Finds each member's first element among `element`'s children (pushed on
    /// `firstElements`); a union's unknown member is left to the tree.
    private mutating func findMembers(_ element: Int, _ shape: Shape) throws {
        let base = firstElements.count
        firstElements.append(contentsOf: repeatElement(-1, count: shape.members.count))
        var child = table.elements[element].firstChild
        while child >= 0 {
            if var index = memberIndex(child, shape) {
                // Every member read from this element name (most names have one).
                while true {
                    if firstElements[base + index] < 0 { firstElements[base + index] = child }
                    guard let next = shape.nextMember(sharingXMLNameWith: index) else { break }
                    index = next
                }
            } else if shape.isUnion, !isTypeTag(child) {
                throw Stop.needsTree
            }
            child = table.elements[child].nextSibling
        }
    }

    /// A structure's members in model order (botocore's `_handle_structure`).
    private mutating func structure(_ element: Int, _ shape: Shape) throws {
        let base = firstElements.count
        try findMembers(element, shape)
        defer { firstElements.removeLast(firstElements.count - base) }
        out.append(UInt8(ascii: "{"))
        var wrote = false
        let members = shape.members
        for index in members.indices where members[index].isXMLBodyMember {
            let before = out.count
            if wrote { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: members[index].resultKey)
            if try member(index, of: shape, in: element, base: base) {
                wrote = true
            } else {
                out.removeLast(out.count - before)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// One member's value (its key already written): from its first element (all
    /// elements of that name for a flattened list or map), else from an attribute.
    private mutating func member(_ index: Int, of shape: Shape, in element: Int, base: Int) throws -> Bool {
        let member = shape.members[index]
        let first = firstElements[base + index]
        if first >= 0 {
            let shape = member.shape
            if member.flattened, shape.type == .list || shape.type == .map {
                // Every element of that name under the structure.
                let named = Items(first: first, sameName: true)
                if shape.type == .list, let item = shape.listMember {
                    try list(named, item.shape)
                    return true
                }
                if shape.type == .map, shape.mapKey != nil, shape.mapValue != nil {
                    try map(named, shape)
                    return true
                }
            } else if try value(first, shape) {
                return true
            }
        }
        if member.xmlAttribute, let name = member.locationName, let attribute = table.attribute(of: element, named: name) {
            JSON.writeString(attribute, to: &out, asciiOnly: false)
            return true
        }
        return false
    }

    /// The elements a list or map is read from: the children from `first` on, or only
    /// those named as `first` (a flattened member's elements among its siblings).
    private struct Items {
        let first: Int
        let sameName: Bool
    }

    private func next(_ element: Int, in items: Items) -> Int {
        var next = table.elements[element].nextSibling
        if items.sameName {
            while next >= 0, !table.sameName(next, items.first) { next = table.elements[next].nextSibling }
        }
        return next
    }

    private mutating func list(_ items: Items, _ item: Shape) throws {
        out.append(UInt8(ascii: "["))
        var element = items.first
        while element >= 0 {
            if element != items.first { out.append(UInt8(ascii: ",")) }
            if try !value(element, item) { out.append(contentsOf: Self.nullText) }
            element = next(element, in: items)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Entries' keys and values from their `key`/`value` (or named) children; an entry
    /// without a key is skipped, one without a value is null.
    private mutating func map(_ entries: Items, _ shape: Shape) throws {
        let keyMember = shape.mapKey!, valueMember = shape.mapValue!
        let keyName = keyMember.locationName ?? "key", valueName = valueMember.locationName ?? "value"
        var written = WrittenKeys()
        out.append(UInt8(ascii: "{"))
        var entry = entries.first
        while entry >= 0 {
            defer { entry = next(entry, in: entries) }
            let keyElement = table.firstChild(of: entry, named: keyName)
            guard keyElement >= 0 else { continue }
            let key = table.elements[keyElement]
            if out.last != UInt8(ascii: "{") { out.append(UInt8(ascii: ",")) }
            // A key given twice keeps its first place with the last value: the tree's rule.
            guard table.text.withUnsafeBufferPointer({ written.insert(key.textStart, key.textEnd, of: $0) }) else { throw Stop.needsTree }
            writeText(keyElement)
            out.append(UInt8(ascii: ":"))
            let valueElement = table.firstChild(of: entry, named: valueName)
            let wroteValue = valueElement >= 0 ? try value(valueElement, valueMember.shape) : false
            if !wroteValue { out.append(contentsOf: Self.nullText) }
        }
        out.append(UInt8(ascii: "}"))
    }

    // MARK: Small steps

    private static let trueText = Array("true".utf8), falseText = Array("false".utf8), nullText = Array("null".utf8)

    private mutating func writeText(_ element: Int) {
        let e = table.elements[element]
        table.text.withUnsafeBufferPointer { text in
            JSON.writeString(utf8: UnsafeBufferPointer(rebasing: text[e.textStart..<e.textEnd]), to: &out)
        }
    }

    private func memberIndex(_ element: Int, _ shape: Shape) -> Int? {
        let e = table.elements[element]
        return table.bytes.withUnsafeBufferPointer { bytes in
            shape.xmlMemberIndex(forName: UnsafeBufferPointer(rebasing: bytes[e.nameStart..<e.nameEnd]))
        }
    }

    private func isTypeTag(_ element: Int) -> Bool {
        let e = table.elements[element]
        return e.nameEnd - e.nameStart == 6 && table.bytes[e.nameStart..<e.nameEnd].elementsEqual("__type".utf8)
    }

}
