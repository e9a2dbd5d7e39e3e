import AWSJSON

/// A function's argument: a value, or an expression reference (`&expr`) for `sort_by`,
/// `map` and the like to evaluate per element.
enum FunctionArgument {
    case value(JSON)
    case expref(JMESPathNode)

    var typeName: String {
        switch self {
        case .value(let v): v.typeName
        case .expref: "expref"
        }
    }
}

/// The built-in functions, their signatures checked as Python's `jmespath` checks them.
enum JMESPathFunctions {
    /// A parameter's accepted types: `array-number` and `array-string` are arrays whose
    /// elements are all of that type; an empty list accepts anything.
    typealias Types = [String]

    struct Signature: Sendable {
        let parameters: [Types]
        /// The last parameter may repeat (at least `parameters.count` arguments).
        var variadic = false
    }

    static func call(_ name: String, _ arguments: [FunctionArgument], interpreter: JMESPathInterpreter) throws(JMESPathError) -> JSON {
        guard let signature = signatures[name] else { throw JMESPathError(.unknownFunction, "unknown function: \(name)()") }
        let count = signature.parameters.count
        if signature.variadic ? arguments.count < count : arguments.count != count {
            throw JMESPathError(.invalidArity, "\(name)() takes \(signature.variadic ? "at least " : "")\(count) argument\(count == 1 ? "" : "s"), not \(arguments.count)")
        }
        for (i, types) in signature.parameters.enumerated() where !types.isEmpty {
            try check(arguments[i], types, function: name)
        }
        return try run(name, arguments, interpreter)
    }

    private static func check(_ argument: FunctionArgument, _ types: Types, function: String) throws(JMESPathError) {
        let actual = argument.typeName
        let bases = types.map { $0.split(separator: "-").first.map(String.init) ?? $0 }
        guard bases.contains(actual) else {
            throw JMESPathError(.invalidType, "\(function)() expected \(types.joined(separator: " or ")), got \(actual)")
        }
        let subtypes = types.compactMap { $0.split(separator: "-").dropFirst().first.map(String.init) }
        guard !subtypes.isEmpty, case .value(.array(let elements)) = argument, let first = elements.first else { return }
        // With one subtype every element must be of it; with several, of the first element's.
        let wanted = subtypes.count == 1 ? subtypes[0] : first.typeName
        guard subtypes.contains(wanted) else {
            throw JMESPathError(.invalidType, "\(function)() expected \(types.joined(separator: " or ")), got an array of \(wanted)")
        }
        for element in elements where element.typeName != wanted {
            throw JMESPathError(.invalidType, "\(function)() expected \(types.joined(separator: " or ")), got an array with \(element.typeName)")
        }
    }

    private static let signatures: [String: Signature] = [
        "abs": Signature(["number"]),
        "avg": Signature(["array-number"]),
        "ceil": Signature(["number"]),
        "floor": Signature(["number"]),
        "sum": Signature(["array-number"]),
        "max": Signature(["array-number", "array-string"]),
        "min": Signature(["array-number", "array-string"]),
        "max_by": Signature(["array"], ["expref"]),
        "min_by": Signature(["array"], ["expref"]),
        "contains": Signature(["array", "string"], []),
        "length": Signature(["string", "array", "object"]),
        "reverse": Signature(["array", "string"]),
        "starts_with": Signature(["string"], ["string"]),
        "ends_with": Signature(["string"], ["string"]),
        "join": Signature(["string"], ["array-string"]),
        "keys": Signature(["object"]),
        "values": Signature(["object"]),
        "merge": Signature(["object"], variadic: true),
        "not_null": Signature([], variadic: true),
        "map": Signature(["expref"], ["array"]),
        "sort": Signature(["array-string", "array-number"]),
        "sort_by": Signature(["array"], ["expref"]),
        "to_array": Signature([]),
        "to_string": Signature([]),
        "to_number": Signature([]),
        "type": Signature([]),
    ]

    /// The function `name`, its arguments checked.
    private static func run(_ name: String, _ args: [FunctionArgument], _ interpreter: JMESPathInterpreter) throws(JMESPathError) -> JSON {
        switch name {
        case "abs", "avg", "ceil", "floor", "sum", "max", "min": return numeric(name, args)
        case "max_by": return try extremeBy(args, interpreter, wantMax: true, function: name)
        case "min_by": return try extremeBy(args, interpreter, wantMax: false, function: name)
        case "map":
            var out: [JSON] = []
            for element in args[1].array { out.append(try interpreter.evaluate(args[0].expression, element)) }
            return .array(out)
        case "sort_by": return try sortBy(args, interpreter)
        case "to_array", "to_string", "to_number", "type": return conversion(name, args[0])
        default: return collection(name, args)
        }
    }
}

extension JMESPathFunctions.Signature {
    init(_ parameters: JMESPathFunctions.Types..., variadic: Bool = false) {
        self.init(parameters: parameters, variadic: variadic)
    }
}

extension FunctionArgument {
    var json: JSON {
        if case .value(let v) = self { return v }
        return .null
    }
    var array: [JSON] {
        if case .value(.array(let a)) = self { return a.map(\.resolved) }
        return []
    }
    var string: String {
        if case .value(.string(let s)) = self { return s }
        return ""
    }
    var object: JSONObject {
        if case .value(.object(let o)) = self { return o }
        return JSONObject()
    }
    var expression: JMESPathNode {
        if case .expref(let node) = self { return node }
        return .identity
    }
}
