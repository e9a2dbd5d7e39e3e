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

/// Where a value sits in the value it is walked from, with the member reference that
/// gives its traits (wire name, timestamp format, XML namespace, flattening).
enum ShapeStep {
    /// The value walked from, with the member it is the value of, if any (a payload member).
    case root(Member?)
    /// A structure member; its name is the key it was given under.
    case member(Member)
    /// A list element, with the list's member reference.
    case index(Int, Member)
    /// A map's key itself, with the map's key reference.
    case key(String, Member)
    /// A map's value by its key, with the map's value reference.
    case value(String, Member)

    /// The member reference behind the value.
    var member: Member? {
        switch self {
        case .root(let member): return member
        case .member(let member), .index(_, let member), .key(_, let member), .value(_, let member): return member
        }
    }
}

/// What `ShapeWalker.visit` tells as it walks a value along its shape. Validation and the
/// request codecs (JSON, form, XML, CBOR) are visitors: each says only what it does at a
/// value, the walk's rules are one.
protocol ShapeVisitor {
    /// Whether map keys are offered to `visit` as string values (validation checks them);
    /// writers take the key from `enter(.key)`.
    static var visitsMapKeys: Bool { get }
    /// A value with its shape and where it sits. False: do not walk into it (and no `finish`).
    mutating func visit(_ value: JSON, _ shape: Shape, at step: ShapeStep) -> Bool
    /// After the values inside a value `visit` accepted (the end of a structure, list or map).
    mutating func finish(_ value: JSON, _ shape: Shape)
    /// A key of a structure that the shape does not name (not walked).
    mutating func unknownMember(_ key: String, of shape: Shape)
    /// Around each value inside another: before its `visit`, after its `finish`.
    mutating func enter(_ step: ShapeStep)
    mutating func leave(_ step: ShapeStep)
}

extension ShapeVisitor {
    static var visitsMapKeys: Bool { true }
    mutating func finish(_ value: JSON, _ shape: Shape) {}
    mutating func unknownMember(_ key: String, of shape: Shape) {}
    mutating func enter(_ step: ShapeStep) {}
    mutating func leave(_ step: ShapeStep) {}
}

extension ShapeWalker {
    /// Walks `value` along `shape` by the same rules as `rewrite` (structure members by
    /// name in the order given, list elements, map keys and values; documents and values
    /// of the wrong type are not walked into), telling `visitor` what it meets and where,
    /// without building anything.
    static func visit<Visitor: ShapeVisitor>(_ value: JSON, _ shape: Shape, at step: ShapeStep = .root(nil), _ visitor: inout Visitor) {
        guard visitor.visit(value, shape, at: step) else { return }
        switch (shape.type, value) {
        case (.structure, .object(let object)) where !shape.isDocument:
            for entry in object {
                guard let member = shape.member(named: entry.key) else {
                    visitor.unknownMember(entry.key, of: shape)
                    continue
                }
                walk(entry.value, member.shape, at: .member(member), &visitor)
            }
        case (.list, .array(let items)):
            guard let element = shape.listMember else { break }
            for (i, item) in items.enumerated() { walk(item, element.shape, at: .index(i, element), &visitor) }
        case (.map, .object(let object)):
            for entry in object {
                if let key = shape.mapKey {
                    let step = ShapeStep.key(entry.key, key)
                    visitor.enter(step)
                    if Visitor.visitsMapKeys { visit(.string(entry.key), key.shape, at: step, &visitor) }
                    visitor.leave(step)
                }
                if let valueMember = shape.mapValue { walk(entry.value, valueMember.shape, at: .value(entry.key, valueMember), &visitor) }
            }
        default:
            break
        }
        visitor.finish(value, shape)
    }

    private static func walk<Visitor: ShapeVisitor>(_ value: JSON, _ shape: Shape, at step: ShapeStep, _ visitor: inout Visitor) {
        visitor.enter(step)
        visit(value, shape, at: step, &visitor)
        visitor.leave(step)
    }
}
