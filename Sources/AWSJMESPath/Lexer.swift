import AWSJSON

/// The kinds of token a JMESPath expression is made of.
enum TokenKind: Equatable {
    case dot, star, rbracket, comma, colon, current, lparen, rparen, lbrace, rbrace
    case lbracket, flatten, filter
    case pipe, or, and, expref, not
    case eq, ne, lt, lte, gt, gte
    case unquotedIdentifier, quotedIdentifier, literal, number
    case eof

    /// How tightly the token binds as an operator on what stands to its left; tokens
    /// under `projectionStop` end a projection's right-hand side.
    var bindingPower: Int {
        switch self {
        case .pipe: 1
        case .or: 2
        case .and: 3
        case .eq, .ne, .lt, .lte, .gt, .gte: 5
        case .flatten: 9
        case .star: 20
        case .filter: 21
        case .dot: 40
        case .not: 45
        case .lbrace: 50
        case .lbracket: 55
        case .lparen: 60
        default: 0
        }
    }

    static let projectionStop = 10
}

struct Token {
    var kind: TokenKind
    /// An identifier's name, an operator's text.
    var text = ""
    /// A literal's value.
    var value = JSON.null
    var number = 0
}

/// Splits an expression into tokens, character by character (Unicode scalars), as the
/// JMESPath grammar and Python's lexer do.
struct JMESPathLexer {
    private let chars: [Unicode.Scalar]
    private var position = 0

    init(_ expression: String) { chars = Array(expression.unicodeScalars) }

    private var current: Unicode.Scalar? { position < chars.count ? chars[position] : nil }

    static func tokens(_ expression: String) throws(JMESPathError) -> [Token] {
        guard !expression.isEmpty else { throw JMESPathError(.syntax, "empty expression") }
        var lexer = JMESPathLexer(expression)
        var tokens: [Token] = []
        while let token = try lexer.next() { tokens.append(token) }
        tokens.append(Token(kind: .eof))
        return tokens
    }

    private static let simple: [Unicode.Scalar: TokenKind] = [
        ".": .dot, "*": .star, "]": .rbracket, ",": .comma, ":": .colon, "@": .current,
        "(": .lparen, ")": .rparen, "{": .lbrace, "}": .rbrace,
    ]

    private static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_"
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    private mutating func next() throws(JMESPathError) -> Token? {
        while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" { position += 1 }
        guard let c = current else { return nil }
        if let kind = Self.simple[c] {
            position += 1
            return Token(kind: kind, text: String(c))
        }
        if Self.isIdentifierStart(c) {
            let start = position
            while let d = current, Self.isIdentifierStart(d) || Self.isDigit(d) { position += 1 }
            return Token(kind: .unquotedIdentifier, text: text(start..<position))
        }
        if Self.isDigit(c) || c == "-" { return try number() }
        switch c {
        case "[":
            position += 1
            if current == "]" { position += 1; return Token(kind: .flatten, text: "[]") }
            if current == "?" { position += 1; return Token(kind: .filter, text: "[?") }
            return Token(kind: .lbracket, text: "[")
        case "'": return Token(kind: .literal, value: .string(try delimited(by: "'").replacingEscaped("'")))
        case "`": return Token(kind: .literal, value: try jsonLiteral())
        case "\"": return try quotedIdentifier()
        case "|": return pair("|", .or, else: .pipe)
        case "&": return pair("&", .and, else: .expref)
        case "<": return pair("=", .lte, else: .lt)
        case ">": return pair("=", .gte, else: .gt)
        case "!": return pair("=", .ne, else: .not)
        case "=":
            position += 1
            guard current == "=" else { throw JMESPathError(.syntax, "unknown token '=' at \(position - 1)") }
            position += 1
            return Token(kind: .eq, text: "==")
        default:
            throw JMESPathError(.syntax, "unknown token '\(c)' at \(position)")
        }
    }

    private func text(_ range: Range<Int>) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: chars[range])
        return String(out)
    }

    private mutating func pair(_ second: Unicode.Scalar, _ both: TokenKind, else single: TokenKind) -> Token {
        let first = chars[position]
        position += 1
        if current == second {
            position += 1
            return Token(kind: both, text: String(first) + String(second))
        }
        return Token(kind: single, text: String(first))
    }

    private mutating func number() throws(JMESPathError) -> Token {
        let start = position
        position += 1
        while let d = current, Self.isDigit(d) { position += 1 }
        let digits = text(start..<position)
        guard digits != "-" else { throw JMESPathError(.syntax, "unknown token '-' at \(start)") }
        guard let number = Int(digits) else { throw JMESPathError(.syntax, "number out of range: \(digits)") }
        return Token(kind: .number, text: digits, number: number)
    }

    /// The text up to the closing `delimiter`; a backslash keeps itself and the character
    /// after it (so `\` + delimiter does not close), as Python's lexer does.
    private mutating func delimited(by delimiter: Unicode.Scalar) throws(JMESPathError) -> String {
        let start = position
        position += 1
        var out = String.UnicodeScalarView()
        while current != delimiter {
            if current == "\\" {
                out.append("\\")
                position += 1
            }
            guard let c = current else { throw JMESPathError(.syntax, "unclosed \(delimiter) delimiter at \(start)") }
            out.append(c)
            position += 1
        }
        position += 1
        return String(out)
    }

    /// A `` `json` `` literal. Text that is not JSON is taken as a string (the grammar's
    /// deprecated form, which Python's lexer still accepts).
    private mutating func jsonLiteral() throws(JMESPathError) -> JSON {
        let text = try delimited(by: "`").replacingEscaped("`")
        if let value = Self.pythonJSON(text) { return value }
        let trimmed = text.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        if case .string(let s)? = Self.pythonJSON("\"" + trimmed + "\"") { return .string(s) }
        throw JMESPathError(.syntax, "bad literal `\(text)`")
    }

    private mutating func quotedIdentifier() throws(JMESPathError) -> Token {
        let text = try delimited(by: "\"")
        guard case .string(let name)? = try? JSON.parse("\"" + text + "\"") else {
            throw JMESPathError(.syntax, "bad quoted identifier \"\(text)\"")
        }
        return Token(kind: .quotedIdentifier, text: name)
    }

    /// JSON as Python's `json.loads` reads it: also `NaN`, `Infinity` and `-Infinity`.
    private static func pythonJSON(_ text: String) -> JSON? {
        if let value = try? JSON.parse(text) { return value }
        switch text.trimmingJSONWhitespace() {
        case "NaN": return .double(.nan)
        case "Infinity": return .double(.infinity)
        case "-Infinity": return .double(-.infinity)
        default: return nil
        }
    }
}

extension String {
    /// Each `\` + `delimiter` as `delimiter` alone, left to right.
    func replacingEscaped(_ delimiter: Unicode.Scalar) -> String {
        var out = String.UnicodeScalarView()
        var pendingBackslash = false
        for c in unicodeScalars {
            if pendingBackslash {
                if c != delimiter { out.append("\\") }
                pendingBackslash = false
                if c == "\\" {
                    pendingBackslash = true
                    continue
                }
                out.append(c)
            } else if c == "\\" {
                pendingBackslash = true
            } else {
                out.append(c)
            }
        }
        if pendingBackslash { out.append("\\") }
        return String(out)
    }
}

extension StringProtocol {
    func trimmingJSONWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        let s = Substring(self)
        guard let first = s.firstIndex(where: { !isSpace($0) }), let last = s.lastIndex(where: { !isSpace($0) }) else { return "" }
        return s[first...last]
    }
}
