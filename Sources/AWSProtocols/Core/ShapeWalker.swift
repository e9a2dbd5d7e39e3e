import AWSJSON
import AWSModels

/// The one walk of a value along its shape (structure members by name, list elements,
/// map keys and values), for everything that goes through params or results by their
/// shape: validation, the four request codecs, redaction and result customizations.
public enum ShapeWalker {
    /// Rewrites a value along its shape: `rewrite` is offered every value with the shape it
    /// has (the root, structure members, list elements, map values); what it returns
    /// replaces the value, `.none` goes on into it (say `.none`: `nil` alone would be
    /// taken as JSON's `null`). Members the shape does not name, and documents, are kept
    /// as they are. Redaction and result customizations, so each says only what it changes.
    public static func rewrite(_ value: JSON, _ shape: Shape, _ rewrite: (JSON, Shape) -> JSON?) -> JSON {
        withoutActuallyEscaping(rewrite) { rewrite in
            var rewriter = Rewriter(rewrite: rewrite)
            visit(value, shape, &rewriter)
            return rewriter.result
        }
    }

    /// Builds the rewritten value as the walk goes: a container is started when it is
    /// visited and put in its parent when it is finished.
    private struct Rewriter: ShapeVisitor {
        static var visitsMapKeys: Bool { false }
        let rewrite: (JSON, Shape) -> JSON?
        /// The containers being built, innermost last, each with the key it goes under.
        var open: [(key: String, value: JSON)] = []
        var result: JSON = .null

        init(rewrite: @escaping (JSON, Shape) -> JSON?) { self.rewrite = rewrite }

        mutating func visit(_ value: JSON, _ shape: Shape, at step: ShapeStep) -> Bool {
            if let replaced = rewrite(value, shape) {
                put(replaced, at: step)
                return false
            }
            switch (shape.type, value) {
            case (.structure, .object(let object)) where !shape.isDocument,
                 (.map, .object(let object)) where shape.mapValue != nil:
                var out = JSONObject()
                out.members.reserveCapacity(object.count)
                open.append((key(step), .object(out)))
                return true
            case (.list, .array(let items)) where shape.listMember != nil:
                var out: [JSON] = []
                out.reserveCapacity(items.count)
                open.append((key(step), .array(out)))
                return true
            default:
                put(value, at: step)
                return false
            }
        }

        mutating func unknownMember(_ key: String, _ value: JSON, of shape: Shape) {
            put(value, under: key)
        }

        mutating func finish(_ value: JSON, _ shape: Shape) {
            let (key, built) = open.removeLast()
            put(built, under: key)
        }

        private func key(_ step: ShapeStep) -> String {
            switch step {
            case .member(let member): return member.name
            case .value(let key, _), .key(let key, _): return key
            case .root, .index: return ""
            }
        }

        private mutating func put(_ value: JSON, at step: ShapeStep) { put(value, under: key(step)) }

        /// Puts a value in the innermost open container (under `key` if it is an object),
        /// or makes it the result at the root.
        private mutating func put(_ value: JSON, under key: String) {
            guard !open.isEmpty else {
                result = value
                return
            }
            let top = open.count - 1
            switch open[top].value {
            case .object(var object):
                open[top].value = .null
                object.append(key, value)
                open[top].value = .object(object)
            case .array(var items):
                open[top].value = .null
                items.append(value)
                open[top].value = .array(items)
            default:
                break
            }
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
    /// A member of a structure that the shape does not name (not walked).
    mutating func unknownMember(_ key: String, _ value: JSON, of shape: Shape)
    /// Around each value inside another: before its `visit`, after its `finish`.
    mutating func enter(_ step: ShapeStep)
    mutating func leave(_ step: ShapeStep)
}

extension ShapeVisitor {
    static var visitsMapKeys: Bool { true }
    mutating func finish(_ value: JSON, _ shape: Shape) {}
    mutating func unknownMember(_ key: String, _ value: JSON, of shape: Shape) {}
    mutating func enter(_ step: ShapeStep) {}
    mutating func leave(_ step: ShapeStep) {}
}

extension ShapeWalker {
    /// Walks `value` along `shape` (structure members by name in the order given, list
    /// elements, map keys and values; documents and values of the wrong type are not
    /// walked into), telling `visitor` what it meets and where.
    static func visit<Visitor: ShapeVisitor>(_ value: JSON, _ shape: Shape, at step: ShapeStep = .root(nil), _ visitor: inout Visitor) {
        guard visitor.visit(value, shape, at: step) else { return }
        switch (shape.type, value) {
        case (.structure, .object(let object)) where !shape.isDocument:
            for entry in object {
                guard let member = shape.member(named: entry.key) else {
                    visitor.unknownMember(entry.key, entry.value, of: shape)
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
