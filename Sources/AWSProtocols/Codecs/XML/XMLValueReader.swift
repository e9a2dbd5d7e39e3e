import AWSJSON
import AWSModels

/// Values of a shape from XML elements, as botocore's BaseXMLResponseParser reads them
/// (shared by query, ec2 and rest-xml): structures by element name in model order,
/// `member`/`item` and flattened lists, `entry` and flattened maps, attributes, unions
/// with an unknown member, and scalars from element text.
struct XMLValueReader: Sendable {
    let results: ResultValues

    /// A structure's members from `element` of a document: transcoded straight to JSON
    /// text, or read through the tree where its rules are needed.
    func structureMembers(_ table: XMLElementTable, element: Int, _ shape: Shape) -> JSONObject? {
        if let members = XMLResultTranscoder.members(of: table, element: element, as: shape, results: results) { return members }
        return parseStructure(table.tree(at: element), shape)
    }

    /// A value of `shape` from `element` of a document, as `structureMembers` reads it.
    func value(_ table: XMLElementTable, element: Int, _ shape: Shape) -> JSON? {
        let (value, needsTree) = XMLResultTranscoder.value(of: table, element: element, as: shape, results: results)
        return needsTree ? parseValue(table.tree(at: element), shape) : value
    }

    /// A value of `shape` from its element. A flattened list or map is carried by
    /// several sibling elements: `flattenedNodes` holds them all.
    func parseValue(_ node: XMLElement, _ shape: Shape, flattenedNodes: [XMLElement]? = nil) -> JSON? {
        switch shape.type {
        case .structure:
            return parseStructure(node, shape).map(JSON.object)
        case .list:
            guard let element = shape.listMember else { return nil }
            var items: [JSON] = []
            items.reserveCapacity(flattenedNodes?.count ?? node.children.count)
            for item in flattenedNodes ?? node.children { items.append(parseMemberValue(item, element, in: nil) ?? .null) }
            return .array(items)
        case .map:
            guard let key = shape.mapKey, let value = shape.mapValue else { return nil }
            let keyName = key.locationName ?? "key", valueName = value.locationName ?? "value"
            var result = JSONObject()
            for entry in flattenedNodes ?? node.children {
                guard let k = entry.children.first(where: { $0.name == keyName })?.text else { continue }
                result[k] = entry.children.first(where: { $0.name == valueName }).flatMap { parseMemberValue($0, value, in: nil) } ?? .null
            }
            return .object(result)
        case .boolean:
            return .bool(node.text == "true")
        case .integer, .long, .biginteger:
            return Int64(node.text.trimmingSpaces).map(JSON.int)
        case .float, .double, .bigdecimal:
            return Double(node.text.trimmingSpaces).map(JSON.double)
        case .timestamp:
            return Timestamp.parse(node.text).map(results.timestamp) ?? .string(node.text)
        case .blob:
            return results.blob(Base64.decode(node.text.trimmingSpaces) ?? [])
        case .string, .character:
            return .string(node.text)
        }
    }

    /// A member's value from the first element of its name; a flattened list or map
    /// gathers every element of that name under `parent`.
    func parseMemberValue(_ node: XMLElement, _ member: Member, in parent: XMLElement?) -> JSON? {
        if member.flattened, member.shape.type == .list || member.shape.type == .map, let parent {
            let name = node.name
            return parseValue(node, member.shape, flattenedNodes: parent.children.filter { $0.name == name })
        }
        return parseValue(node, member.shape)
    }

    /// A structure's members in model order (botocore's `_handle_structure`): each from
    /// the first child element of its name, attributes from the element itself.
    func parseStructure(_ node: XMLElement, _ shape: Shape) -> JSONObject? {
        var firstChild = [Int](repeating: -1, count: shape.members.count)
        for (position, child) in node.children.enumerated() {
            var index = shape.xmlMemberIndex[child.name]
            // Every member read from this element name (most names have one).
            while let found = index {
                if firstChild[found] < 0 { firstChild[found] = position }
                index = shape.nextMember(sharingXMLNameWith: found)
            }
        }
        if shape.isUnion {
            var names = Set(node.children.map(\.name))
            names.remove("__type")
            if names.count == 1, let tag = names.first, shape.xmlMemberIndex[tag] == nil {
                return JSONObject([("SDK_UNKNOWN_MEMBER", .object(JSONObject([("name", .string(tag))])))])
            }
        }
        var result = JSONObject()
        for (index, member) in shape.members.enumerated() where member.isXMLBodyMember {
            if firstChild[index] >= 0, let value = parseMemberValue(node.children[firstChild[index]], member, in: node) {
                result.append(member.name, value)
            } else if member.xmlAttribute, let name = member.locationName, let value = node.attribute(name) {
                result.append(member.name, .string(value))
            }
        }
        return result
    }
}

/// Event payloads in XML (rest-xml: S3's `SelectObjectContent`).
struct XMLEventPayloads: EventPayloadParser {
    let xml: XMLValueReader
    var results: ResultValues { xml.results }

    func structure(_ payload: [UInt8], _ shape: Shape) -> JSONObject {
        (try? XMLDocument.parse(payload)).flatMap { xml.parseStructure($0, shape) } ?? JSONObject()
    }

    func value(_ payload: [UInt8], _ shape: Shape) -> JSON? {
        (try? XMLDocument.parse(payload)).flatMap { xml.parseValue($0, shape) }
    }
}
