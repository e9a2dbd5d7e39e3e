import AWSJSON
import AWSModels

/// Rewrites a value along its shape: `rewrite` is offered every value with the shape it
/// has (the root, structure members, list elements, map values); what it returns
/// replaces the value, `.none` goes on into it (say `.none`: `nil` alone would be
/// taken as JSON's `null`). Members the shape does not name, and
/// documents, are kept as they are. The one walk behind redaction and result
/// customizations, so each says only what it changes.
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
