import AWSJSON

/// A compiled JMESPath expression: what botocore's paginators (`result_key`,
/// `output_token`, `more_results`) and waiters (acceptors' `argument`) name a part of an
/// answer with. It evaluates as Python's `jmespath` 1.1.0 (botocore's) does, quirks
/// included: ordering comparisons also take two strings, `!0` is false, `f(a b)` is
/// `f(a, b)`, and unknown functions, wrong arities and argument types are found when the
/// function is called, not when the expression is compiled.
public struct JMESPath: Sendable, CustomStringConvertible {
    /// The expression as written.
    public let description: String
    let root: JMESPathNode

    /// Compiles `expression`; a syntax error is thrown with `kind == .syntax`.
    public init(_ expression: String) throws(JMESPathError) {
        description = expression
        root = try JMESPathParser.parse(expression)
    }

    /// The expression's value in `document` (null where it names nothing).
    public func search(_ document: JSON) throws(JMESPathError) -> JSON {
        try JMESPathInterpreter().evaluate(root, document)
    }
}

/// Why an expression did not compile or evaluate. `kind` is the JMESPath compliance
/// suite's name for it.
public struct JMESPathError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case syntax
        case invalidType = "invalid-type"
        case invalidValue = "invalid-value"
        case invalidArity = "invalid-arity"
        case unknownFunction = "unknown-function"
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "JMESPath \(kind.rawValue) error: \(message)" }
}
