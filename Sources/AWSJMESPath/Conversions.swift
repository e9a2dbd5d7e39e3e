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
            return .string(PythonJSON.dumps(value))
        case "to_number":
            switch value {
            case .int, .double: return value
            case .string(let s): return PythonJSON.number(s)
            default: return .null
            }
        default:  // type
            return .string(argument.typeName)
        }
    }
}

/// How Python writes and reads numbers and JSON, for `to_string` and `to_number`.
enum PythonJSON {
    /// `json.dumps(value, separators=(',', ':'))`: ASCII only, floats as Python's `repr`.
    static func dumps(_ value: JSON) -> String {
        var out = ""
        write(value.resolved, to: &out)
        return out
    }

    private static func write(_ value: JSON, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += repr(d)
        case .string(let s): writeString(s, to: &out)
        case .array(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                write(element.resolved, to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, member) in object.members.enumerated() {
                if i > 0 { out += "," }
                writeString(member.key, to: &out)
                out += ":"
                write(member.value.resolved, to: &out)
            }
            out += "}"
        case .fragment(let fragment): write(fragment.value, to: &out)
        }
    }

    private static func writeString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value >= 0x20 && scalar.value < 0x7F {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value > 0xFFFF {
                    let v = scalar.value - 0x10000
                    out += hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
                } else {
                    out += hex4(scalar.value)
                }
            }
        }
        out += "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let digits = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Python's `repr` of a float: the shortest text that reads back the same, with
    /// `.0` on whole numbers and an exponent from 1e16 up and under 1e-4.
    static func repr(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        // Swift's description is also the shortest round-trip form, with the same
        // thresholds for exponents; only its exponent needs two digits, as Python writes it.
        var text = d.description
        if let e = text.firstIndex(of: "e") {
            let mantissa = text[..<e]
            var exponent = text[text.index(after: e)...]
            let sign = exponent.first == "-" ? "-" : "+"
            if exponent.first == "-" || exponent.first == "+" { exponent = exponent.dropFirst() }
            text = mantissa + "e" + sign + (exponent.count < 2 ? "0" : "") + exponent
        }
        return text
    }

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
