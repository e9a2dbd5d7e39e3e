/// A small, strict XML reader for AWS answers: elements, attributes, text with the five
/// predefined entities and character references, CDATA, comments and processing
/// instructions. No DTDs (so no entity expansion), no external anything. Names keep
/// their prefix out (`ns:Foo` is `Foo`), as botocore strips namespaces. Written for speed
/// over bytes, without recursion: a hostile document costs its size, never the stack.
public final class XMLElement: @unchecked Sendable {
    public let name: String
    public var attributes: [(name: String, value: String)] = []
    public var children: [XMLElement] = []
    /// The text before the first child, as ElementTree's `.text`; for a leaf, all of it.
    public var text: String = ""

    init(name: String) { self.name = name }

    public func attribute(_ name: String) -> String? { attributes.first { $0.name == name }?.value }
}

public struct XMLError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public var description: String { "invalid XML at byte \(offset): \(message)" }
}

public enum XMLDocument {
    public static let maxDepth = 256

    /// Parses a document and returns its root element.
    public static func parse(_ bytes: [UInt8]) throws(XMLError) -> XMLElement {
        try XMLElementTable.parse(bytes).tree()
    }
}

/// A document read into one flat table of elements in document order (the root first),
/// linked by index: no object or string per element, names kept as byte ranges of the
/// input, text decoded into one shared buffer. Answers are read from it directly
/// (`XMLResultTranscoder`); `tree()` makes the `XMLElement` tree for the other readers.
public struct XMLElementTable: Sendable {
    public struct Element: Sendable {
        /// The local name (prefix left out) in `bytes`.
        var nameStart: Int
        var nameEnd: Int
        /// ElementTree's `.text` in `text`: the text before the first child.
        var textStart = 0
        var textEnd = 0
        var firstChild = -1
        var nextSibling = -1
        /// This element's attributes in `attributes`.
        var attributeStart: Int
        var attributeEnd: Int
    }

    public struct Attribute: Sendable {
        /// The name as written (a prefix kept) in `bytes`; the value in `text`.
        var nameStart: Int
        var nameEnd: Int
        var valueStart: Int
        var valueEnd: Int
    }

    let bytes: [UInt8]
    var elements: [Element] = []
    var attributes: [Attribute] = []
    var text: [UInt8] = []

    public static func parse(_ bytes: [UInt8]) throws(XMLError) -> XMLElementTable {
        var reader = XMLReader(bytes: bytes)
        return try reader.document()
    }

    func nameString(_ element: Int) -> String {
        String(decoding: bytes[elements[element].nameStart..<elements[element].nameEnd], as: UTF8.self)
    }

    func textString(_ element: Int) -> String {
        String(decoding: text[elements[element].textStart..<elements[element].textEnd], as: UTF8.self)
    }

    /// Whether the element's local name is `name` (UTF-8).
    func hasName(_ element: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let e = elements[element]
        guard e.nameEnd - e.nameStart == name.count else { return false }
        for k in 0..<name.count where bytes[e.nameStart + k] != name[k] { return false }
        return true
    }

    /// Whether two elements have the same local name.
    func sameName(_ a: Int, _ b: Int) -> Bool {
        let x = elements[a], y = elements[b]
        guard x.nameEnd - x.nameStart == y.nameEnd - y.nameStart else { return false }
        for k in 0..<(x.nameEnd - x.nameStart) where bytes[x.nameStart + k] != bytes[y.nameStart + k] { return false }
        return true
    }

    /// The first child named `name`, or -1.
    func firstChild(of element: Int, named name: String) -> Int {
        name.withUTF8Buffer { name in
            var child = elements[element].firstChild
            while child >= 0, !hasName(child, name) { child = elements[child].nextSibling }
            return child
        }
    }

    /// The value of the attribute written `name` (with its prefix), if the element has it.
    func attribute(of element: Int, named name: String) -> String? {
        name.withUTF8Buffer { name -> String? in
            for a in attributes[elements[element].attributeStart..<elements[element].attributeEnd] where a.nameEnd - a.nameStart == name.count {
                var same = true
                for k in 0..<name.count where bytes[a.nameStart + k] != name[k] { same = false; break }
                if same { return String(decoding: text[a.valueStart..<a.valueEnd], as: UTF8.self) }
            }
            return nil
        }
    }

    /// The document as a tree of `XMLElement`s; the element at `index` of it.
    public func tree(at index: Int = 0) -> XMLElement {
        var made: [XMLElement] = []
        made.reserveCapacity(elements.count)
        for (position, e) in elements.enumerated() {
            let element = XMLElement(name: nameString(position))
            element.text = textString(position)
            for a in attributes[e.attributeStart..<e.attributeEnd] {
                element.attributes.append((String(decoding: bytes[a.nameStart..<a.nameEnd], as: UTF8.self),
                                           String(decoding: text[a.valueStart..<a.valueEnd], as: UTF8.self)))
            }
            made.append(element)
        }
        // Children come after their parent in document order: link them in one pass.
        for (position, e) in elements.enumerated() {
            var child = e.firstChild
            while child >= 0 {
                made[position].children.append(made[child])
                child = elements[child].nextSibling
            }
        }
        return made[index]
    }
}

struct XMLReader {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ message: String) -> XMLError { XMLError(message: message, offset: i) }

    /// What the reader has built so far: the table, the open elements (each with its last
    /// child so far), and where the text read since the last tag starts.
    struct Progress {
        var table: XMLElementTable
        var stack: [(element: Int, lastChild: Int)] = []
        var pendingStart = 0

        /// Text read since the last markup that closes or opens an element is kept as the
        /// open element's `.text` only while it has no child (ElementTree's rule). An
        /// element gets at most one kept run, so its text is one range of `table.text`.
        mutating func flushText() {
            guard table.text.count > pendingStart else { return }
            if let top = stack.last, table.elements[top.element].firstChild < 0,
               table.elements[top.element].textEnd == table.elements[top.element].textStart {
                table.elements[top.element].textStart = pendingStart
                table.elements[top.element].textEnd = table.text.count
            } else {
                table.text.removeLast(table.text.count - pendingStart)
            }
            pendingStart = table.text.count
        }
    }

    mutating func document() throws(XMLError) -> XMLElementTable {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        var progress = Progress(table: XMLElementTable(bytes: bytes))
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "<") else {
                try characters(&progress)
                continue
            }
            // Markup, told apart by the byte after '<'.
            let next = i + 1 < bytes.count ? bytes[i + 1] : 0
            if next == UInt8(ascii: "?") {
                try skip(past: "?>")
            } else if next == UInt8(ascii: "!"), starts("<!--") {
                try skip(past: "-->")
            } else if next == UInt8(ascii: "!"), starts("<![CDATA[") {
                guard !progress.stack.isEmpty else { throw fail("CDATA outside the root element") }
                i += 9
                let start = i
                try skip(past: "]]>")
                progress.table.text.append(contentsOf: bytes[start..<(i - 3)])
            } else if next == UInt8(ascii: "!") {
                throw fail("DTDs and declarations are not accepted")
            } else if next == UInt8(ascii: "/") {
                progress.flushText()
                try endTag(&progress)
            } else {
                progress.flushText()
                try startTag(&progress)
            }
        }
        if let open = progress.stack.last {
            let element = progress.table.elements[open.element]
            throw fail("unexpected end: <\(String(decoding: bytes[element.nameStart..<element.nameEnd], as: UTF8.self))> is not closed")
        }
        guard !progress.table.elements.isEmpty else { throw fail("no root element") }
        return progress.table
    }

    /// Text: a run of plain bytes up to the next markup or entity at once, or an entity.
    /// Outside the root element only whitespace may be.
    private mutating func characters(_ progress: inout Progress) throws(XMLError) {
        let byte = bytes[i]
        if progress.stack.isEmpty {
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { throw fail("text outside the root element") }
            i += 1
        } else if byte == UInt8(ascii: "&") {
            try entity(into: &progress.table.text)
        } else {
            let start = i
            i += 1
            while i < bytes.count, bytes[i] != UInt8(ascii: "<"), bytes[i] != UInt8(ascii: "&") { i += 1 }
            progress.table.text.append(contentsOf: bytes[start..<i])
        }
    }

    /// `</name>`, which must close the open element.
    private mutating func endTag(_ progress: inout Progress) throws(XMLError) {
        i += 2
        let (_, local) = try scanName()
        let nameEnd = i
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: ">") else {
            throw fail("expected '>' to end </\(String(decoding: bytes[local..<nameEnd], as: UTF8.self))")
        }
        i += 1
        guard let open = progress.stack.popLast(),
              sameBytes(progress.table.elements[open.element].nameStart, progress.table.elements[open.element].nameEnd, local, nameEnd) else {
            throw fail("</\(String(decoding: bytes[local..<nameEnd], as: UTF8.self))> does not close the open element")
        }
    }

    /// `<name attr="value" ...>` or `<name ... />`: a new element, linked to its parent.
    private mutating func startTag(_ progress: inout Progress) throws(XMLError) {
        if !progress.table.elements.isEmpty && progress.stack.isEmpty { throw fail("a second root element") }
        i += 1
        let (_, local) = try scanName()
        let index = progress.table.elements.count
        let attributeStart = progress.table.attributes.count
        progress.table.elements.append(XMLElementTable.Element(nameStart: local, nameEnd: i, attributeStart: attributeStart, attributeEnd: attributeStart))
        var selfClosing = false
        while true {
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end in a start tag") }
            if bytes[i] == UInt8(ascii: ">") {
                i += 1
                break
            }
            if starts("/>") {
                i += 2
                selfClosing = true
                break
            }
            try attribute(into: &progress.table)
        }
        progress.table.elements[index].attributeEnd = progress.table.attributes.count
        progress.pendingStart = progress.table.text.count
        if let parent = progress.stack.last {
            if parent.lastChild >= 0 {
                progress.table.elements[parent.lastChild].nextSibling = index
            } else {
                progress.table.elements[parent.element].firstChild = index
            }
            progress.stack[progress.stack.count - 1].lastChild = index
        }
        if !selfClosing {
            guard progress.stack.count < XMLDocument.maxDepth else { throw fail("nested deeper than \(XMLDocument.maxDepth) elements") }
            progress.stack.append((index, -1))
        }
    }

    /// `name="value"` (or single quotes) in a start tag, its value's entities expanded.
    private mutating func attribute(into table: inout XMLElementTable) throws(XMLError) {
        let (nameStart, _) = try scanName()
        let nameEnd = i
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
            throw fail("expected '=' after attribute \(String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self))")
        }
        i += 1
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else { throw fail("expected a quoted value") }
        let quote = bytes[i]
        i += 1
        let valueStart = table.text.count
        while i < bytes.count, bytes[i] != quote {
            if bytes[i] == UInt8(ascii: "&") {
                try entity(into: &table.text)
            } else {
                guard bytes[i] != UInt8(ascii: "<") else { throw fail("'<' in an attribute value") }
                table.text.append(bytes[i])
                i += 1
            }
        }
        guard i < bytes.count else { throw fail("unterminated attribute value") }
        i += 1
        table.attributes.append(XMLElementTable.Attribute(nameStart: nameStart, nameEnd: nameEnd, valueStart: valueStart, valueEnd: table.text.count))
    }

    func sameBytes(_ a: Int, _ aEnd: Int, _ b: Int, _ bEnd: Int) -> Bool {
        guard aEnd - a == bEnd - b else { return false }
        for k in 0..<(aEnd - a) where bytes[a + k] != bytes[b + k] { return false }
        return true
    }

    mutating func starts(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard i + count <= bytes.count else { return false }
        let start = text.utf8Start
        for k in 0..<count where bytes[i + k] != start[k] { return false }
        return true
    }

    mutating func skip(past terminator: StaticString) throws(XMLError) {
        while i < bytes.count {
            if starts(terminator) {
                i += terminator.utf8CodeUnitCount
                return
            }
            i += 1
        }
        throw fail("unterminated markup")
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    /// Moves past a name; returns where it starts and where its local part starts.
    mutating func scanName() throws(XMLError) -> (start: Int, local: Int) {
        let start = i
        var local = i
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 || b == UInt8(ascii: ">") || b == UInt8(ascii: "/") || b == UInt8(ascii: "=")
                || b == UInt8(ascii: "<") || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") { break }
            if b == UInt8(ascii: ":") { local = i + 1 }
            i += 1
        }
        guard i > start else { throw fail("expected a name") }
        return (start, local)
    }

    /// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&#N;` `&#xN;`; anything else is an error.
    mutating func entity(into out: inout [UInt8]) throws(XMLError) {
        let start = i
        guard let semicolon = bytes[i..<min(bytes.count, i + 12)].firstIndex(of: UInt8(ascii: ";")) else { throw fail("an '&' that starts no entity") }
        let name = String(decoding: bytes[(start + 1)..<semicolon], as: UTF8.self)
        switch name {
        case "lt": out.append(UInt8(ascii: "<"))
        case "gt": out.append(UInt8(ascii: ">"))
        case "amp": out.append(UInt8(ascii: "&"))
        case "quot": out.append(UInt8(ascii: "\""))
        case "apos": out.append(UInt8(ascii: "'"))
        default:
            guard name.hasPrefix("#") else { throw fail("unknown entity &\(name);") }
            let digits = name.dropFirst()
            let value = digits.hasPrefix("x") || digits.hasPrefix("X") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            guard let value, let scalar = Unicode.Scalar(value), value != 0 else { throw fail("invalid character reference &\(name);") }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        i = semicolon + 1
    }
}
