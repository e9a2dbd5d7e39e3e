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
        var reader = XMLReader(bytes: bytes)
        return try reader.document()
    }
}

struct XMLReader {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ message: String) -> XMLError { XMLError(message: message, offset: i) }

    mutating func document() throws(XMLError) -> XMLElement {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        var stack: [XMLElement] = []
        var root: XMLElement?
        var textBuffer: [UInt8] = []
        func flushText(into element: XMLElement?) {
            guard !textBuffer.isEmpty else { return }
            if let element, element.children.isEmpty { element.text += String(decoding: textBuffer, as: UTF8.self) }
            textBuffer.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            let byte = bytes[i]
            if byte != UInt8(ascii: "<") {
                if stack.isEmpty {
                    // Only whitespace outside the root element.
                    guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { throw fail("text outside the root element") }
                    i += 1
                    continue
                }
                if byte == UInt8(ascii: "&") {
                    try entity(into: &textBuffer)
                } else {
                    // A run of plain text, up to the next markup or entity, at once.
                    let start = i
                    i += 1
                    while i < bytes.count, bytes[i] != UInt8(ascii: "<"), bytes[i] != UInt8(ascii: "&") { i += 1 }
                    textBuffer.append(contentsOf: bytes[start..<i])
                }
                continue
            }
            // Markup, told apart by the byte after '<'.
            let next = i + 1 < bytes.count ? bytes[i + 1] : 0
            if next == UInt8(ascii: "?") {
                try skip(past: "?>")
            } else if next == UInt8(ascii: "!"), starts("<!--") {
                try skip(past: "-->")
            } else if next == UInt8(ascii: "!"), starts("<![CDATA[") {
                guard !stack.isEmpty else { throw fail("CDATA outside the root element") }
                i += 9
                let start = i
                try skip(past: "]]>")
                textBuffer.append(contentsOf: bytes[start..<(i - 3)])
            } else if next == UInt8(ascii: "!") {
                throw fail("DTDs and declarations are not accepted")
            } else if next == UInt8(ascii: "/") {
                flushText(into: stack.last)
                i += 2
                let name = try readLocalName()
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ">") else { throw fail("expected '>' to end </\(name)") }
                i += 1
                guard let open = stack.popLast(), open.name == name else { throw fail("</\(name)> does not close the open element") }
            } else {
                flushText(into: stack.last)
                if root != nil && stack.isEmpty { throw fail("a second root element") }
                i += 1
                let element = XMLElement(name: try readLocalName())
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
                    let attributeName = try readName()
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { throw fail("expected '=' after attribute \(attributeName)") }
                    i += 1
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else { throw fail("expected a quoted value") }
                    let quote = bytes[i]
                    i += 1
                    var value: [UInt8] = []
                    while i < bytes.count, bytes[i] != quote {
                        if bytes[i] == UInt8(ascii: "&") { try entity(into: &value) } else {
                            guard bytes[i] != UInt8(ascii: "<") else { throw fail("'<' in an attribute value") }
                            value.append(bytes[i])
                            i += 1
                        }
                    }
                    guard i < bytes.count else { throw fail("unterminated attribute value") }
                    i += 1
                    element.attributes.append((attributeName, String(decoding: value, as: UTF8.self)))
                }
                if let parent = stack.last { parent.children.append(element) } else { root = element }
                if !selfClosing {
                    guard stack.count < XMLDocument.maxDepth else { throw fail("nested deeper than \(XMLDocument.maxDepth) elements") }
                    stack.append(element)
                }
            }
        }
        guard stack.isEmpty else { throw fail("unexpected end: <\(stack.last!.name)> is not closed") }
        guard let root else { throw fail("no root element") }
        return root
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

    /// A name as written (`ns:Name` for attributes, which keep their prefix).
    mutating func readName() throws(XMLError) -> String {
        let (start, _) = try scanName()
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// An element's name without its namespace prefix (`ns:Name` → `Name`).
    mutating func readLocalName() throws(XMLError) -> String {
        let (_, local) = try scanName()
        return String(decoding: bytes[local..<i], as: UTF8.self)
    }

    /// Moves past a name; returns where it starts and where its local part starts.
    private mutating func scanName() throws(XMLError) -> (start: Int, local: Int) {
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
