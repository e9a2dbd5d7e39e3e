import AWSPrimitives

/// JSON as Python's `json.dumps` writes it (ASCII only, floats as Python's `repr`): what
/// botocore puts in pagination tokens and JMESPath's `to_string` answers.
public enum PythonJSON {
    public enum Separators: Sendable {
        /// `", "` and `": "`: `json.dumps`'s default.
        case python
        /// `","` and `":"`.
        case compact
    }

    public static func dumps(_ value: JSON, separators: Separators = .python) -> String {
        var out = ""
        write(value.resolved, separators: separators, to: &out)
        return out
    }

    private static func write(_ value: JSON, separators: Separators, to out: inout String) {
        let (comma, colon) = separators == .python ? (", ", ": ") : (",", ":")
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" } else { out += pythonFloatRepr(d) }
        case .string(let s): writeString(s, to: &out)
        case .array(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += comma }
                write(element.resolved, separators: separators, to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, member) in object.members.enumerated() {
                if i > 0 { out += comma }
                writeString(member.key, to: &out)
                out += colon
                write(member.value.resolved, separators: separators, to: &out)
            }
            out += "}"
        case .fragment(let fragment): write(fragment.value, separators: separators, to: &out)
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
}
