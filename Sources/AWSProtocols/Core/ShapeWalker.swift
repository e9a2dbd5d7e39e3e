import AWSJSON
import AWSModels

/// Rewrites a value along its shape: `rewrite` is offered every value with the shape it
/// has (the root, structure members, list elements, map values); what it returns
/// replaces the value, `.none` goes on into it (say `.none`: `nil` alone would be
/// taken as JSON's `null`). Members the shape does not name, and
/// documents, are kept as they are. The one walk behind redaction and result
/// customizations, so each says only what it changes; `visit` (below) walks by the same
/// rules without building anything, for validation.
public enum ShapeWalker {
    public static func rewrite(_ value: JSON, _ shape: Shape, _ rewrite: (JSON, Shape) -> JSON?) -> JSON {
        if let replaced = rewrite(value, shape) { return replaced }
        switch (shape.type, value) {
        case (.structure, .object(let object)) where !shape.isDocument:
            var out = JSONObject()
            out.members.reserveCapacity(object.count)
            for entry in object {
                if let member = shape.member(named: entry.key) {
                    out.append(entry.key, ShapeWalker.rewrite(entry.value, member.shape, rewrite))
                } else {
                    out.append(entry.key, entry.value)
                }
            }
            return .object(out)
        case (.list, .array(let items)):
            guard let element = shape.listMember?.shape else { return value }
            return .array(items.map { ShapeWalker.rewrite($0, element, rewrite) })
        case (.map, .object(let object)):
            guard let valueShape = shape.mapValue?.shape else { return value }
            var out = JSONObject()
            out.members.reserveCapacity(object.count)
            for entry in object { out.append(entry.key, ShapeWalker.rewrite(entry.value, valueShape, rewrite)) }
            return .object(out)
        default:
            return value
        }
    }
}

/// Where a visit stands inside the value it walks.
enum ShapeStep {
    /// A structure member, or a map's value, by its key.
    case member(String)
    case index(Int)
    /// A map's key itself.
    case key(String)
}

/// What `ShapeWalker.visit` tells as it walks a value along its shape.
protocol ShapeVisitor {
    /// A value with its shape, and the member reference it came through (nil at the root,
    /// for list elements and for map keys and values). False: do not walk into it.
    mutating func visit(_ value: JSON, _ shape: Shape, member: Member?) -> Bool
    /// A key of a structure that the shape does not name.
    mutating func unknownMember(_ key: String, of shape: Shape)
    mutating func enter(_ step: ShapeStep)
    mutating func leave()
}

extension ShapeWalker {
    /// Walks `value` along `shape` by the same rules as `rewrite` (structure members by
    /// name, list elements, map keys and values), telling `visitor` what it meets and
    /// where, without building anything: the walk behind parameter validation.
    static func visit<Visitor: ShapeVisitor>(_ value: JSON, _ shape: Shape, member: Member? = nil, _ visitor: inout Visitor) {
        guard visitor.visit(value, shape, member: member) else { return }
        switch (shape.type, value) {
        case (.structure, .object(let object)) where !shape.isDocument:
            for entry in object {
                guard let member = shape.member(named: entry.key) else {
                    visitor.unknownMember(entry.key, of: shape)
                    continue
                }
                visitor.enter(.member(entry.key))
                visit(entry.value, member.shape, member: member, &visitor)
                visitor.leave()
            }
        case (.list, .array(let items)):
            guard let element = shape.listMember?.shape else { return }
            for (i, item) in items.enumerated() {
                visitor.enter(.index(i))
                visit(item, element, &visitor)
                visitor.leave()
            }
        case (.map, .object(let object)):
            for entry in object {
                if let key = shape.mapKey?.shape {
                    visitor.enter(.key(entry.key))
                    visit(.string(entry.key), key, &visitor)
                    visitor.leave()
                }
                if let valueShape = shape.mapValue?.shape {
                    visitor.enter(.member(entry.key))
                    visit(entry.value, valueShape, &visitor)
                    visitor.leave()
                }
            }
        default:
            return
        }
    }
}
