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
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, node, name: name, into: &out)
        return out
    }

    private func write(_ value: JSON, _ node: Node, name: String, into out: inout [UInt8]) {
        let shape = node.shape
        switch shape.type {
        case .structure:
            guard case .object(let object) = value else { return }
            var attributes = namespaceAttribute(node.namespace)
            var children: [UInt8] = []
            for entry in object {
                guard let member = shape.member(named: entry.key), !entry.value.isNull else { continue }
                if member.xmlAttribute {
                    attributes.append((member.locationName ?? member.name, pythonString(entry.value)))
                    continue
                }
                write(entry.value, Node(member), name: member.locationName ?? entry.key, into: &children)
            }
            element(name, attributes: attributes, content: children, into: &out)
        case .list:
            guard case .array(let items) = value, let element = shape.listMember else { return }
            if node.flattened {
                for item in items { write(item, Node(element), name: name, into: &out) }
            } else {
                var children: [UInt8] = []
                let elementName = element.locationName ?? "member"
                for item in items { write(item, Node(element), name: elementName, into: &children) }
                self.element(name, attributes: namespaceAttribute(node.namespace), content: children, into: &out)
            }
        case .map:
            guard case .object(let map) = value, let key = shape.mapKey, let valueMember = shape.mapValue else { return }
            let keyName = key.locationName ?? "key", valueName = valueMember.locationName ?? "value"
            var entries: [UInt8] = []
            for entry in map {
                var pair: [UInt8] = []
                write(.string(entry.key), Node(key), name: keyName, into: &pair)
                write(entry.value, Node(valueMember), name: valueName, into: &pair)
                element(node.flattened ? name : "entry", attributes: [], content: pair, into: &entries)
            }
            if node.flattened {
                out.append(contentsOf: entries)
            } else {
                element(name, attributes: namespaceAttribute(node.namespace), content: entries, into: &out)
            }
        default:
            var text: [UInt8] = []
            XMLBodyWriter.escapeText(scalarText(value, node), into: &text)
            element(name, attributes: namespaceAttribute(node.namespace), content: text, into: &out)
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

    /// `xmlns` or `xmlns:prefix` from an `xmlNamespace` trait (a URI, or `{prefix, uri}`).
    private func namespaceAttribute(_ namespace: JSON?) -> [(String, String)] {
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

    private func element(_ name: String, attributes: [(String, String)], content: [UInt8], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "<"))
        out.append(contentsOf: name.utf8)
        for (key, value) in attributes {
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: key.utf8)
            out.append(contentsOf: "=\"".utf8)
            XMLBodyWriter.escapeAttribute(value, into: &out)
            out.append(UInt8(ascii: "\""))
        }
        if content.isEmpty {
            out.append(contentsOf: " />".utf8)
            return
        }
        out.append(UInt8(ascii: ">"))
        out.append(contentsOf: content)
        out.append(contentsOf: "</".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ">"))
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
