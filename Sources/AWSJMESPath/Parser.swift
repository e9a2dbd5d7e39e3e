import AWSJSON

/// An expression's syntax tree.
indirect enum JMESPathNode: Sendable {
    case identity
    case current
    case field(String)
    case subexpression([JMESPathNode])
    case indexExpression([JMESPathNode])
    case index(Int)
    case slice(start: Int?, stop: Int?, step: Int?)
    /// `left` evaluated to an array, `right` on each element; nulls dropped.
    case projection(JMESPathNode, JMESPathNode)
    /// The same over an object's values (`*`).
    case valueProjection(JMESPathNode, JMESPathNode)
    /// The same over the elements for which `condition` is true.
    case filterProjection(JMESPathNode, JMESPathNode, condition: JMESPathNode)
    case flatten(JMESPathNode)
    case comparator(TokenKind, JMESPathNode, JMESPathNode)
    case or(JMESPathNode, JMESPathNode)
    case and(JMESPathNode, JMESPathNode)
    case not(JMESPathNode)
    case pipe(JMESPathNode, JMESPathNode)
    case multiSelectList([JMESPathNode])
    case multiSelectHash([(String, JMESPathNode)])
    case literal(JSON)
    case function(String, [JMESPathNode])
    case expref(JMESPathNode)
}

/// A Pratt parser over the tokens: each token has a meaning at the start of an
/// expression (`prefix`) and, when it binds tighter than the caller's power, as an
/// operator on what stands to its left (`infix`), with the binding powers and the
/// projection rules of the JMESPath grammar as Python's parser applies them.
struct JMESPathParser {
    private let tokens: [Token]
    private var index = 0

    static func parse(_ expression: String) throws(JMESPathError) -> JMESPathNode {
        var parser = JMESPathParser(tokens: try JMESPathLexer.tokens(expression))
        let node = try parser.expression(0)
        guard parser.current == .eof else { throw parser.unexpected("unexpected token") }
        return node
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var current: TokenKind { tokens[index].kind }
    private func lookahead(_ n: Int) -> TokenKind { index + n < tokens.count ? tokens[index + n].kind : .eof }

    private func unexpected(_ what: String) -> JMESPathError {
        let token = tokens[index]
        if token.kind == .eof { return JMESPathError(.syntax, "\(what): the expression ended early") }
        return JMESPathError(.syntax, "\(what): \(token.text.isEmpty ? "\(token.kind)" : token.text)")
    }

    private mutating func match(_ kind: TokenKind) throws(JMESPathError) {
        guard current == kind else { throw unexpected("expected \(kind)") }
        index += 1
    }

    private mutating func expression(_ bindingPower: Int) throws(JMESPathError) -> JMESPathNode {
        let token = tokens[index]
        index += 1
        var left = try prefix(token)
        while bindingPower < current.bindingPower {
            let kind = current
            index += 1
            left = try infix(kind, left)
        }
        return left
    }

    private mutating func prefix(_ token: Token) throws(JMESPathError) -> JMESPathNode {
        switch token.kind {
        case .literal: return .literal(token.value)
        case .unquotedIdentifier: return .field(token.text)
        case .quotedIdentifier:
            if current == .lparen { throw JMESPathError(.syntax, "a quoted identifier cannot name a function") }
            return .field(token.text)
        case .star:
            let right = current == .rbracket ? JMESPathNode.identity : try projectionRight(TokenKind.star.bindingPower)
            return .valueProjection(.identity, right)
        case .filter: return try filter(.identity)
        case .lbrace: return try multiSelectHash()
        case .lparen:
            let inner = try expression(0)
            try match(.rparen)
            return inner
        case .flatten: return .projection(.flatten(.identity), try projectionRight(TokenKind.flatten.bindingPower))
        case .not: return .not(try expression(TokenKind.not.bindingPower))
        case .lbracket:
            if current == .number || current == .colon { return try projectIfSlice(.identity, try indexExpression()) }
            if current == .star && lookahead(1) == .rbracket {
                index += 2
                return .projection(.identity, try projectionRight(TokenKind.star.bindingPower))
            }
            return try multiSelectList()
        case .current: return .current
        case .expref: return .expref(try expression(0))
        default:
            index -= 1
            throw unexpected("invalid token")
        }
    }

    private mutating func infix(_ kind: TokenKind, _ left: JMESPathNode) throws(JMESPathError) -> JMESPathNode {
        switch kind {
        case .dot:
            if current == .star {
                index += 1
                return .valueProjection(left, try projectionRight(TokenKind.dot.bindingPower))
            }
            let right = try dotRight(TokenKind.dot.bindingPower)
            if case .subexpression(let children) = left { return .subexpression(children + [right]) }
            return .subexpression([left, right])
        case .pipe: return .pipe(left, try expression(kind.bindingPower))
        case .or: return .or(left, try expression(kind.bindingPower))
        case .and: return .and(left, try expression(kind.bindingPower))
        case .lparen:
            guard case .field(let name) = left else { throw JMESPathError(.syntax, "invalid function name") }
            var arguments: [JMESPathNode] = []
            while current != .rparen {
                let argument = try expression(0)
                if current == .comma { try match(.comma) }
                arguments.append(argument)
            }
            try match(.rparen)
            return .function(name, arguments)
        case .filter: return try filter(left)
        case .eq, .ne, .lt, .lte, .gt, .gte: return .comparator(kind, left, try expression(kind.bindingPower))
        case .flatten: return .projection(.flatten(left), try projectionRight(kind.bindingPower))
        case .lbracket:
            if current == .number || current == .colon {
                let right = try indexExpression()
                if case .indexExpression(let children) = left { return .indexExpression(children + [right]) }
                return try projectIfSlice(left, right)
            }
            try match(.star)
            try match(.rbracket)
            return .projection(left, try projectionRight(TokenKind.star.bindingPower))
        default:
            index -= 1
            throw unexpected("invalid token")
        }
    }

    private mutating func filter(_ left: JMESPathNode) throws(JMESPathError) -> JMESPathNode {
        let condition = try expression(0)
        try match(.rbracket)
        let right = current == .flatten ? JMESPathNode.identity : try projectionRight(TokenKind.filter.bindingPower)
        return .filterProjection(left, right, condition: condition)
    }

    /// After `[`: an index (`[2]`) or a slice (`[1:5:2]`), through the closing `]`.
    private mutating func indexExpression() throws(JMESPathError) -> JMESPathNode {
        if current == .colon || lookahead(1) == .colon { return try slice() }
        let number = tokens[index].number
        index += 1
        try match(.rbracket)
        return .index(number)
    }

    private mutating func slice() throws(JMESPathError) -> JMESPathNode {
        var parts: [Int?] = [nil, nil, nil]
        var part = 0
        while current != .rbracket && part < 3 {
            if current == .colon {
                part += 1
                if part == 3 { throw unexpected("syntax error") }
            } else if current == .number {
                parts[part] = tokens[index].number
            } else {
                throw unexpected("syntax error")
            }
            index += 1
        }
        try match(.rbracket)
        return .slice(start: parts[0], stop: parts[1], step: parts[2])
    }

    private mutating func projectIfSlice(_ left: JMESPathNode, _ right: JMESPathNode) throws(JMESPathError) -> JMESPathNode {
        let indexed = JMESPathNode.indexExpression([left, right])
        guard case .slice = right else { return indexed }
        return .projection(indexed, try projectionRight(TokenKind.star.bindingPower))
    }

    /// What a projection applies to each element: nothing more (a token that stops the
    /// projection), an index or filter, or what follows a dot.
    private mutating func projectionRight(_ bindingPower: Int) throws(JMESPathError) -> JMESPathNode {
        if current.bindingPower < TokenKind.projectionStop { return .identity }
        switch current {
        case .lbracket, .filter: return try expression(bindingPower)
        case .dot:
            index += 1
            return try dotRight(bindingPower)
        default: throw unexpected("syntax error")
        }
    }

    /// After a dot: an identifier, `*`, a multi-select list or hash.
    private mutating func dotRight(_ bindingPower: Int) throws(JMESPathError) -> JMESPathNode {
        switch current {
        case .quotedIdentifier, .unquotedIdentifier, .star: return try expression(bindingPower)
        case .lbracket:
            index += 1
            return try multiSelectList()
        case .lbrace:
            index += 1
            return try multiSelectHash()
        default: throw unexpected("expected an identifier, [ or { after a dot")
        }
    }

    private mutating func multiSelectList() throws(JMESPathError) -> JMESPathNode {
        var elements: [JMESPathNode] = []
        while true {
            elements.append(try expression(0))
            if current == .rbracket { break }
            try match(.comma)
        }
        try match(.rbracket)
        return .multiSelectList(elements)
    }

    private mutating func multiSelectHash() throws(JMESPathError) -> JMESPathNode {
        var pairs: [(String, JMESPathNode)] = []
        while true {
            guard current == .quotedIdentifier || current == .unquotedIdentifier else { throw unexpected("expected a key") }
            let key = tokens[index].text
            index += 1
            try match(.colon)
            pairs.append((key, try expression(0)))
            if current == .comma {
                index += 1
            } else if current == .rbrace {
                index += 1
                break
            }
        }
        return .multiSelectHash(pairs)
    }
}
