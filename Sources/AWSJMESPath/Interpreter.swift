import AWSJSON

/// Evaluates a syntax tree against a document.
struct JMESPathInterpreter {
    func evaluate(_ node: JMESPathNode, _ value: JSON) throws(JMESPathError) -> JSON {
        switch node {
        case .identity, .current: return value
        case .field(let name):
            if case .object(let object) = value.resolved { return object[name] ?? .null }
            return .null
        case .subexpression(let children), .indexExpression(let children):
            var result = value
            for child in children { result = try evaluate(child, result) }
            return result
        case .index(let i):
            guard case .array(let array) = value.resolved else { return .null }
            let at = i < 0 ? array.count + i : i
            return array.indices.contains(at) ? array[at] : .null
        case .slice(let start, let stop, let step):
            guard case .array(let array) = value.resolved else { return .null }
            return .array(try Self.slice(array, start: start, stop: stop, step: step))
        case .projection(let left, let right):
            guard case .array(let array) = try evaluate(left, value).resolved else { return .null }
            return try project(array, right)
        case .valueProjection(let left, let right):
            guard case .object(let object) = try evaluate(left, value).resolved else { return .null }
            return try project(object.members.map(\.value), right)
        case .filterProjection(let left, let right, let condition):
            guard case .array(let array) = try evaluate(left, value).resolved else { return .null }
            var kept: [JSON] = []
            for element in array where try evaluate(condition, element).isTruthy { kept.append(element) }
            return try project(kept, right)
        case .flatten(let child):
            guard case .array(let array) = try evaluate(child, value).resolved else { return .null }
            var merged: [JSON] = []
            for element in array {
                if case .array(let inner) = element.resolved { merged.append(contentsOf: inner) } else { merged.append(element) }
            }
            return .array(merged)
        case .comparator(let kind, let left, let right):
            return try compare(kind, try evaluate(left, value), try evaluate(right, value))
        case .or(let left, let right):
            let matched = try evaluate(left, value)
            return matched.isTruthy ? matched : try evaluate(right, value)
        case .and(let left, let right):
            let matched = try evaluate(left, value)
            return matched.isTruthy ? try evaluate(right, value) : matched
        case .not(let child): return .bool(!(try evaluate(child, value).isTruthy))
        case .pipe(let left, let right): return try evaluate(right, try evaluate(left, value))
        case .multiSelectList(let elements):
            if case .null = value.resolved { return .null }
            var out: [JSON] = []
            for element in elements { out.append(try evaluate(element, value)) }
            return .array(out)
        case .multiSelectHash(let pairs):
            if case .null = value.resolved { return .null }
            var out = JSONObject()
            for (key, element) in pairs { out[key] = try evaluate(element, value) }
            return .object(out)
        case .literal(let literal): return literal
        case .function(let name, let arguments):
            var resolved: [FunctionArgument] = []
            for argument in arguments {
                if case .expref(let expression) = argument {
                    resolved.append(.expref(expression))
                } else {
                    resolved.append(.value(try evaluate(argument, value).resolved))
                }
            }
            return try JMESPathFunctions.call(name, resolved, interpreter: self)
        case .expref:
            // An expression reference means something only as a function's argument.
            return .null
        }
    }

    private func project(_ elements: [JSON], _ right: JMESPathNode) throws(JMESPathError) -> JSON {
        var collected: [JSON] = []
        collected.reserveCapacity(elements.count)
        for element in elements {
            let result = try evaluate(right, element)
            if case .null = result.resolved { continue }
            collected.append(result)
        }
        return .array(collected)
    }

    /// `==` and `!=` on any values; the orderings on two numbers or two strings (else null).
    private func compare(_ kind: TokenKind, _ left: JSON, _ right: JSON) throws(JMESPathError) -> JSON {
        let (a, b) = (left.resolved, right.resolved)
        switch kind {
        case .eq: return .bool(a == b)
        case .ne: return .bool(a != b)
        default:
            guard let order = JMESPathOrder.compare(a, b) else { return .null }
            switch kind {
            case .lt: return .bool(order < 0)
            case .lte: return .bool(order <= 0)
            case .gt: return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        }
    }

    /// Python's `list[start:stop:step]`.
    static func slice(_ array: [JSON], start: Int?, stop: Int?, step: Int?) throws(JMESPathError) -> [JSON] {
        let step = step ?? 1
        guard step != 0 else { throw JMESPathError(.invalidValue, "a slice's step cannot be 0") }
        let count = array.count
        func clamp(_ i: Int, low: Int, high: Int) -> Int { i < 0 ? max(i + count, low) : min(i, high) }
        var out: [JSON] = []
        if step > 0 {
            var i = start.map { clamp($0, low: 0, high: count) } ?? 0
            let end = stop.map { clamp($0, low: 0, high: count) } ?? count
            while i < end {
                out.append(array[i])
                i += step
            }
        } else {
            var i = start.map { clamp($0, low: -1, high: count - 1) } ?? count - 1
            let end = stop.map { clamp($0, low: -1, high: count - 1) } ?? -1
            while i > end {
                out.append(array[i])
                i += step
            }
        }
        return out
    }
}

/// The order of two numbers, or of two strings by their Unicode scalars (as Python
/// compares them); nil for anything else.
enum JMESPathOrder {
    static func compare(_ a: JSON, _ b: JSON) -> Int? {
        switch (a, b) {
        case let (.int(x), .int(y)): return x < y ? -1 : (x == y ? 0 : 1)
        case let (.string(x), .string(y)):
            if x.unicodeScalars.elementsEqual(y.unicodeScalars) { return 0 }
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? -1 : 1
        default:
            guard let x = a.number, let y = b.number else { return nil }
            return x < y ? -1 : (x == y ? 0 : 1)
        }
    }
}

extension JSON {
    /// False for false, null, and an empty string, array or object; true for anything else
    /// (0 included).
    var isTruthy: Bool {
        switch resolved {
        case .null: false
        case .bool(let b): b
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        default: true
        }
    }

    /// The value of a number (not of a boolean).
    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
}
