/// The REST binding's path: an operation's URI template split once into literal text
/// and labels (`{Name}`, greedy `{Key+}`).
struct URITemplate: Sendable {
    enum Part: Sendable {
        case literal(String)
        case label(String, greedy: Bool)
    }
    let parts: [Part]

    init(_ template: String) {
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                parts.append(.literal(String(rest[open...])))
                rest = ""
                break
            }
            var name = String(rest[rest.index(after: open)..<close])
            let greedy = name.hasSuffix("+")
            if greedy { name.removeLast() }
            parts.append(.label(name, greedy: greedy))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }
}

