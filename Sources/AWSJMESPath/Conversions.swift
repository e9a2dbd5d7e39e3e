import AWSJSON

extension JMESPathFunctions {
    static func conversion(_ name: String, _ argument: FunctionArgument) -> JSON {
        let value = argument.json
        switch name {
        case "to_array":
            if case .array = value { return value }
            return .array([value])
        case "to_string":
            if case .string = value { return value }
            return .string(PythonJSON.dumps(value, separators: .compact))
        case "to_number":
            switch value {
            case .int, .double: return value
            case .string(let s): return PythonNumber.number(s)
            default: return .null
            }
        default:  // type
            return .string(argument.typeName)
        }
    }
}

/// How Python reads numbers, for `to_number`.
enum PythonNumber {
    /// `int(s)`, else `float(s)`, else null, as `to_number` reads a string.
    static func number(_ text: String) -> JSON {
        let s = text.trimmingPythonWhitespace()
        if let i = integer(s) { return .int(i) }
        // Python's float() reads decimal text, "inf", "infinity" and "nan" (any case), not
        // hexadecimal (which Swift's reader would take).
        let lower = s.lowercased()
        guard !lower.contains("x"), let d = lower.replacingUnderscores().flatMap(Double.init) else { return .null }
        return .double(d)
    }

    /// Python's `int(s)`: a sign, then digits with single underscores between them.
    private static func integer(_ s: Substring) -> Int64? {
        var rest = s
        var negative = false
        if let first = rest.first, first == "+" || first == "-" {
            negative = first == "-"
            rest = rest.dropFirst()
        }
        guard let digits = rest.replacingUnderscores(), !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int64((negative ? "-" : "") + digits)
    }
}

extension StringProtocol {
    /// The text without underscores, if each stands between two digits (Python's rule for
    /// numbers); nil otherwise.
    func replacingUnderscores() -> String? {
        let chars = Array(self)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c == "_" {
                guard i > 0, i < chars.count - 1, chars[i - 1].isASCII, chars[i - 1].isNumber,
                      chars[i + 1].isASCII, chars[i + 1].isNumber else { return nil }
                continue
            }
            out.append(c)
        }
        return out
    }

    /// Without the leading and trailing white space Python's `str.strip()` removes.
    func trimmingPythonWhitespace() -> Substring {
        let s = Substring(self)
        guard let first = s.firstIndex(where: { !$0.isWhitespace }), let last = s.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return s[first...last]
    }
}
