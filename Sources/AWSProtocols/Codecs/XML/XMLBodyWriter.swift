import AWSJSON
import AWSModels

/// rest-xml request bodies, byte for byte as botocore's RestXMLSerializer writes them
/// with ElementTree: no declaration, members in the order given, `xmlns` attributes from
/// `xmlNamespace`, `xmlAttribute` members on their structure's start tag, wrapped or
/// flattened lists and maps, `<Name />` for an element with nothing in it, and
/// ElementTree's escaping of text and attribute values.
struct XMLBodyWriter: Sendable {
    let options: CodecOptions

    /// The serialization traits of where a value sits: a member reference, or the
    /// input shape itself at the root.
    struct Node {
        let shape: Shape
        let namespace: JSON?
        let flattened: Bool
        let timestampFormat: String?

        init(_ member: Member) {
            shape = member.shape
            namespace = member.xmlNamespace
            flattened = member.flattened
            timestampFormat = member.timestampFormat
        }

        init(_ shape: Shape, namespace: JSON?) {
            self.shape = shape
            self.namespace = namespace
            flattened = shape.isFlattened
            timestampFormat = shape.timestampFormat
        }
    }

    func document(_ value: JSON, _ node: Node, name: String) -> [UInt8] {
        var writer = Visitor(options: options, root: node, rootName: name)
        ShapeWalker.visit(value, node.shape, &writer)
        return writer.out
    }

    /// Writes the elements as `ShapeWalker.visit` walks the value. An element is opened
    /// when its value is visited and closed when it is finished; one that got nothing
    /// inside becomes `<Name />`, as ElementTree writes it.
    private struct Visitor: ShapeVisitor {
        let options: CodecOptions
        let root: Node
        let rootName: String
        var out: [UInt8] = []
        /// The lists and maps being walked, innermost last.
        private var containers: [Container] = []
        /// The open elements, innermost last: name, and where their content starts.
        private var open: [(name: String, contentStart: Int)] = []

        private enum Container {
            /// A list's elements are named `item`; `wrapped`: they are inside the list's own element.
            case list(item: String, wrapped: Bool)
            /// A map's entries are `entry` elements holding a `key` and a `value` element.
            case map(entry: String, key: String, value: String, wrapped: Bool)
        }

        init(options: CodecOptions, root: Node, rootName: String) {
            self.options = options
            self.root = root
            self.rootName = rootName
            out.reserveCapacity(256)
        }

        private func name(_ step: ShapeStep) -> String {
            switch (step, containers.last) {
            case (.member(let member), _): return member.locationName ?? member.name
            case (.index, .list(let item, _)?): return item
            case (.key, .map(_, let key, _, _)?): return key
            case (.value, .map(_, _, let value, _)?): return value
            default: return rootName
            }
        }

        mutating func enter(_ step: ShapeStep) {
            // A map entry's element holds its key and value.
            if case .key = step, case .map(let entry, _, _, _)? = containers.last { openElement(entry, attributes: []) }
        }

        mutating func leave(_ step: ShapeStep) {
            if case .value = step { closeElement() }
        }

        mutating func visit(_ value: JSON, _ shape: Shape, at step: ShapeStep) -> Bool {
            // A structure's members left out (null) or carried as its attributes get no element.
            if case .member(let member) = step, value.isNull || member.xmlAttribute { return false }
            // The traits of where the value sits: its member reference's, or the root's
            // (walked from as `.root(nil)`).
            let node = step.member.map(Node.init) ?? root
            let name = name(step)
            switch shape.type {
            case .structure:
                guard case .object(let object) = value else { return false }
                var attributes = XMLBodyWriter.namespaceAttribute(node.namespace)
                for entry in object {
                    guard let member = shape.member(named: entry.key), member.xmlAttribute, !entry.value.isNull else { continue }
                    attributes.append((member.locationName ?? member.name, pythonString(entry.value)))
                }
                openElement(name, attributes: attributes)
            case .list:
                guard case .array = value, let element = shape.listMember else { return false }
                if !node.flattened { openElement(name, attributes: XMLBodyWriter.namespaceAttribute(node.namespace)) }
                containers.append(.list(item: node.flattened ? name : element.locationName ?? "member", wrapped: !node.flattened))
            case .map:
                guard case .object = value, let key = shape.mapKey, let valueMember = shape.mapValue else { return false }
                if !node.flattened { openElement(name, attributes: XMLBodyWriter.namespaceAttribute(node.namespace)) }
                containers.append(.map(entry: node.flattened ? name : "entry", key: key.locationName ?? "key",
                                       value: valueMember.locationName ?? "value", wrapped: !node.flattened))
            default:
                openElement(name, attributes: XMLBodyWriter.namespaceAttribute(node.namespace))
                XMLBodyWriter.escapeText(scalarText(value, node), into: &out)
                closeElement()
                return false
            }
            return true
        }

        mutating func finish(_ value: JSON, _ shape: Shape) {
            switch shape.type {
            case .list, .map:
                switch containers.removeLast() {
                case .list(_, let wrapped), .map(_, _, _, let wrapped): if wrapped { closeElement() }
                }
            default:
                closeElement()
            }
        }

        private func scalarText(_ value: JSON, _ node: Node) -> String {
            switch node.shape.type {
            case .boolean:
                return value.boolValue == true ? "true" : "false"
            case .blob:
                guard case .string(let s) = value else { return "" }
                return Base64.encode(options.blobsAreBase64 ? (Base64.decode(s) ?? []) : Array(s.utf8))
            case .timestamp:
                guard let t = Timestamp.parse(value) else { return pythonString(value) }
                switch (node.timestampFormat ?? "iso8601").lowercased() {
                case "rfc822": return t.rfc822
                case "unixtimestamp": return t.unixString
                default: return t.iso8601
                }
            default:
                return pythonString(value)
            }
        }

        private mutating func openElement(_ name: String, attributes: [(String, String)]) {
            out.append(UInt8(ascii: "<"))
            out.append(contentsOf: name.utf8)
            for (key, value) in attributes {
                out.append(UInt8(ascii: " "))
                out.append(contentsOf: key.utf8)
                out.append(contentsOf: "=\"".utf8)
                XMLBodyWriter.escapeAttribute(value, into: &out)
                out.append(UInt8(ascii: "\""))
            }
            out.append(UInt8(ascii: ">"))
            open.append((name, out.count))
        }

        private mutating func closeElement() {
            let (name, contentStart) = open.removeLast()
            if out.count == contentStart {
                out.removeLast()
                out.append(contentsOf: " />".utf8)
            } else {
                out.append(contentsOf: "</".utf8)
                out.append(contentsOf: name.utf8)
                out.append(UInt8(ascii: ">"))
            }
        }
    }

    /// `xmlns` or `xmlns:prefix` from an `xmlNamespace` trait (a URI, or `{prefix, uri}`).
    static func namespaceAttribute(_ namespace: JSON?) -> [(String, String)] {
        switch namespace {
        case .string(let uri)?:
            return [("xmlns", uri)]
        case .object(let object)?:
            guard let uri = object["uri"]?.stringValue else { return [] }
            if let prefix = object["prefix"]?.stringValue, !prefix.isEmpty { return [("xmlns:" + prefix, uri)] }
            return [("xmlns", uri)]
        default:
            return []
        }
    }

    /// ElementTree's `_escape_cdata`.
    static func escapeText(_ text: String, into out: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            default: out.append(byte)
            }
        }
    }

    /// ElementTree's `_escape_attrib`.
    static func escapeAttribute(_ text: String, into out: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): out.append(contentsOf: "&quot;".utf8)
            case 0x0D: out.append(contentsOf: "&#13;".utf8)
            case 0x0A: out.append(contentsOf: "&#10;".utf8)
            case 0x09: out.append(contentsOf: "&#09;".utf8)
            default: out.append(byte)
            }
        }
    }
}
