import AWSJSON

// The numeric functions.
extension JMESPathFunctions {
    static func numeric(_ name: String, _ args: [FunctionArgument]) -> JSON {
        switch name {
        case "abs":
            if case .int(let i) = args[0].json, i != .min { return .int(abs(i)) }
            return .double(abs(args[0].json.number ?? 0))
        case "avg":
            let numbers = args[0].array.compactMap(\.number)
            return numbers.isEmpty ? .null : .double(numbers.reduce(0, +) / Double(numbers.count))
        case "ceil": return integral((args[0].json.number ?? 0).rounded(.up))
        case "floor": return integral((args[0].json.number ?? 0).rounded(.down))
        case "sum": return sum(args[0].array)
        default: return extreme(args[0].array, keys: args[0].array, wantMax: name == "max")
        }
    }

    /// Python's `math.ceil` and `math.floor` answer integers.
    private static func integral(_ d: Double) -> JSON {
        d.isFinite && abs(d) < 9.2e18 ? .int(Int64(d)) : .double(d)
    }

    /// Python's `sum`: an integer while every term is one.
    private static func sum(_ numbers: [JSON]) -> JSON {
        var integer: Int64 = 0
        var real = 0.0
        var isInteger = true
        for number in numbers {
            if isInteger, case .int(let i) = number {
                let (total, overflow) = integer.addingReportingOverflow(i)
                if !overflow {
                    integer = total
                    continue
                }
            }
            if isInteger {
                real = Double(integer)
                isInteger = false
            }
            real += number.number ?? 0
        }
        return isInteger ? .int(integer) : .double(real)
    }

    /// The first element whose key is the largest (or smallest), as Python's `max` and `min`.
    private static func extreme(_ elements: [JSON], keys: [JSON], wantMax: Bool) -> JSON {
        guard var best = keys.indices.first else { return .null }
        for i in keys.indices.dropFirst() {
            guard let order = JMESPathOrder.compare(keys[i], keys[best]) else { continue }
            if wantMax ? order > 0 : order < 0 { best = i }
        }
        return elements[best]
    }

    /// `max_by` and `min_by`: every key a number or a string, all of one type.
    static func extremeBy(_ args: [FunctionArgument], _ interpreter: JMESPathInterpreter, wantMax: Bool,
                          function: String) throws(JMESPathError) -> JSON {
        let elements = args[0].array
        var keys: [JSON] = []
        for element in elements {
            let key = try interpreter.evaluate(args[1].expression, element).resolved
            guard key.typeName == "number" || key.typeName == "string" else {
                throw JMESPathError(.invalidType, "\(function)() expected its expression to give a number or a string, got \(key.typeName)")
            }
            if let first = keys.first, first.typeName != key.typeName {
                throw JMESPathError(.invalidType, "\(function)() cannot compare a \(first.typeName) with a \(key.typeName)")
            }
            keys.append(key)
        }
        return extreme(elements, keys: keys, wantMax: wantMax)
    }
}

// The functions on strings, arrays and objects.
extension JMESPathFunctions {
    static func collection(_ name: String, _ args: [FunctionArgument]) -> JSON {
        switch name {
        case "contains":
            guard case .string(let subject) = args[0].json else { return .bool(args[0].array.contains(args[1].json)) }
            guard case .string(let search) = args[1].json else { return .bool(false) }
            return .bool(subject.unicodeScalars.containsRun(search.unicodeScalars))
        case "length":
            switch args[0].json {
            case .string(let s): return .int(Int64(s.unicodeScalars.count))
            case .array(let a): return .int(Int64(a.count))
            case .object(let o): return .int(Int64(o.count))
            default: return .null
            }
        case "reverse":
            if case .string(let s) = args[0].json { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .array(args[0].array.reversed())
        case "starts_with": return .bool(args[0].string.unicodeScalars.starts(with: args[1].string.unicodeScalars))
        case "ends_with": return .bool(args[0].string.unicodeScalars.reversed().starts(with: args[1].string.unicodeScalars.reversed()))
        case "join": return .string(args[1].array.map { $0.stringValue ?? "" }.joined(separator: args[0].string))
        case "keys": return .array(args[0].object.keys.map(JSON.string))
        case "values": return .array(args[0].object.members.map(\.value))
        case "merge":
            var merged = JSONObject()
            for argument in args {
                for member in argument.object { merged[member.key] = member.value }
            }
            return .object(merged)
        case "not_null":
            for argument in args {
                if case .value(let value) = argument, value != .null { return value }
            }
            return .null
        default:  // sort
            return .array(stableSorted(args[0].array, keys: args[0].array))
        }
    }

    /// The elements ordered by their keys; equal keys keep their order (Python's sort).
    static func stableSorted(_ elements: [JSON], keys: [JSON]) -> [JSON] {
        let order = keys.indices.sorted { a, b in
            let o = JMESPathOrder.compare(keys[a], keys[b]) ?? 0
            return o != 0 ? o < 0 : a < b
        }
        return order.map { elements[$0] }
    }

    /// `sort_by`: every key must be of the type of the first, a number or a string.
    static func sortBy(_ args: [FunctionArgument], _ interpreter: JMESPathInterpreter) throws(JMESPathError) -> JSON {
        let elements = args[0].array
        guard !elements.isEmpty else { return .array([]) }
        var keys: [JSON] = []
        for element in elements {
            let key = try interpreter.evaluate(args[1].expression, element).resolved
            let wanted = keys.first?.typeName ?? key.typeName
            guard wanted == "number" || wanted == "string" else {
                throw JMESPathError(.invalidType, "sort_by() expected its expression to give a number or a string, got \(wanted)")
            }
            guard key.typeName == wanted else {
                throw JMESPathError(.invalidType, "sort_by() expected a \(wanted) from every element, got \(key.typeName)")
            }
            keys.append(key)
        }
        return .array(stableSorted(elements, keys: keys))
    }
}

extension BidirectionalCollection where Element: Equatable {
    /// Whether `needle` stands somewhere in this collection as a contiguous run.
    func containsRun<Needle: Collection>(_ needle: Needle) -> Bool where Needle.Element == Element {
        guard !needle.isEmpty else { return true }
        var start = startIndex
        while start != endIndex {
            if self[start...].starts(with: needle) { return true }
            formIndex(after: &start)
        }
        return false
    }
}
