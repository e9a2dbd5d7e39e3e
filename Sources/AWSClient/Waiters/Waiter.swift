import AWSJMESPath
import AWSJSON

/// A waiter of botocore's `waiters-2.json`: the operation it polls, how often and how
/// many times, and the acceptors that decide each poll's answer.
public struct Waiter: Sendable {
    public let name: String
    /// The operation polled (its name in the service's model).
    public let operation: String
    public let delaySeconds: Int
    public let maxAttempts: Int
    public let acceptors: [Acceptor]

    public init(name: String, config: JSONObject) throws(JMESPathError) {
        self.name = name
        operation = config["operation"]?.stringValue ?? ""
        delaySeconds = Int(config["delay"]?.intValue ?? 0)
        maxAttempts = Int(config["maxAttempts"]?.intValue ?? 1)
        var acceptors: [Acceptor] = []
        for entry in config["acceptors"]?.arrayValue ?? [] {
            guard let object = entry.objectValue else { continue }
            acceptors.append(try Acceptor(config: object))
        }
        self.acceptors = acceptors
    }
}

/// One acceptor: when a poll's answer matches, the waiter's state becomes `state`.
public struct Acceptor: Sendable {
    public enum State: String, Sendable {
        case success, failure, retry
    }

    public enum Matcher: Sendable {
        /// The expression's value equals `expected`.
        case path(JMESPath)
        /// The expression gives a non-empty list whose every element equals `expected`.
        case pathAll(JMESPath)
        /// ... whose some element equals `expected`.
        case pathAny(JMESPath)
        /// The answer's HTTP status is `expected`.
        case status
        /// AWS answered with the error code `expected` (`true`: any error; `false`: none).
        case error
    }

    public let state: State
    public let matcher: Matcher
    public let expected: JSON
    let argument: String

    init(config: JSONObject) throws(JMESPathError) {
        state = State(rawValue: config["state"]?.stringValue ?? "") ?? .retry
        expected = config["expected"] ?? .null
        argument = config["argument"]?.stringValue ?? ""
        switch config["matcher"]?.stringValue {
        case "path": matcher = .path(try JMESPath(argument))
        case "pathAll": matcher = .pathAll(try JMESPath(argument))
        case "pathAny": matcher = .pathAny(try JMESPath(argument))
        case "status": matcher = .status
        default: matcher = .error
        }
    }

    /// Whether a poll's answer matches (botocore's `matcher_func`).
    /// Whether a poll's answer, as botocore's response dict (`response`), matches
    /// (botocore's `matcher_func`). An expression that fails on it (`length()` of a
    /// missing member) ends the wait with its error, as it does botocore's.
    func matches(_ response: JSONObject) throws(JMESPathError) -> Bool {
        switch matcher {
        case .path(let expression):
            if WaiterAnswer.isError(response) { return false }
            return PythonValues.equal(try expression.search(.object(response)).resolved, expected)
        case .pathAll(let expression), .pathAny(let expression):
            if WaiterAnswer.isError(response) { return false }
            guard case .array(let elements) = try expression.search(.object(response)).resolved, !elements.isEmpty else { return false }
            if case .pathAll = matcher { return elements.allSatisfy { PythonValues.equal($0.resolved, expected) } }
            return elements.contains { PythonValues.equal($0.resolved, expected) }
        case .status:
            return PythonValues.equal(response["ResponseMetadata"]?.resolved["HTTPStatusCode"] ?? .null, expected)
        case .error:
            let error = response["Error"]?.resolved
            switch expected {
            case .bool(true): return error?.objectValue?["Code"] != nil
            case .bool(false): return error == nil
            default: return PythonValues.equal(error?.objectValue?["Code"] ?? .string(""), expected)
            }
        }
    }

    /// What botocore says of the acceptor in a waiter's error.
    var explanation: String {
        let expected = PythonValues.str(self.expected)
        switch matcher {
        case .path: return "For expression \"\(argument)\" we matched expected path: \"\(expected)\""
        case .pathAll: return "For expression \"\(argument)\" all members matched expected path: \"\(expected)\""
        case .pathAny: return "For expression \"\(argument)\" we matched expected path: \"\(expected)\" at least once"
        case .status: return "Matched expected HTTP status code: \(expected)"
        case .error: return "Matched expected service error code: \(expected)"
        }
    }
}

/// One poll's answer: the operation's result, or AWS's error.
public enum WaiterAnswer: Sendable {
    case result(JSONObject, status: Int)
    case error(code: String, message: String, status: Int)

    /// The answer as botocore's waiter sees it: the parsed response with its
    /// `ResponseMetadata`, or `{"Error": {"Code", "Message"}}` for an error.
    var botocoreResponse: JSONObject {
        switch self {
        case .result(var result, let status):
            result["ResponseMetadata"] = .object(JSONObject([("HTTPStatusCode", .int(Int64(status)))]))
            return result
        case .error(let code, let message, let status):
            return JSONObject([("Error", .object(JSONObject([("Code", .string(code)), ("Message", .string(message))]))),
                               ("ResponseMetadata", .object(JSONObject([("HTTPStatusCode", .int(Int64(status)))])))])
        }
    }

    /// botocore's `is_valid_waiter_error`: the response has an `Error` object with a
    /// `Code`, which a result can have too (Location's `GetJob` has an `Error` member).
    static func isError(_ response: JSONObject) -> Bool {
        response["Error"]?.resolved.objectValue?["Code"] != nil
    }
}

/// Python's `==` and `str` on JSON values, as botocore's acceptors compare and explain.
enum PythonValues {
    /// `True == 1` and `1 == 1.0`, as Python has them; lists and objects element by element.
    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        switch (a.resolved, b.resolved) {
        case let (.bool(x), .int(y)), let (.int(y), .bool(x)): return Int64(x ? 1 : 0) == y
        case let (.bool(x), .double(y)), let (.double(y), .bool(x)): return (x ? 1.0 : 0.0) == y
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case let (.object(x), .object(y)):
            return x.count == y.count && x.members.allSatisfy { member in y[member.key].map { equal(member.value, $0) } ?? false }
        case let (x, y): return x == y
        }
    }

    static func str(_ value: JSON) -> String {
        switch value.resolved {
        case .null: "None"
        case .bool(let b): b ? "True" : "False"
        case .string(let s): s
        case .int(let i): String(i)
        case let other: PythonJSON.dumps(other)
        }
    }
}

extension AWSEngine {
    /// The service's waiter `name` (as the model spells it), compiled once; nil when the
    /// service has no such waiter.
    public func waiter(_ name: String, service: String) throws(ClientError) -> Waiter? {
        let key = service + "." + name
        if let cached = waiterCache.withLock({ $0[key] }) { return cached }
        let table: JSONObject
        do {
            table = try models.waiters(service)
        } catch {
            throw .model(error)
        }
        guard let config = table[name]?.objectValue else { return nil }
        let waiter: Waiter
        do {
            waiter = try Waiter(name: name, config: config)
        } catch {
            throw .serialization("the waiter \(service).\(name) does not compile: \(error)")
        }
        waiterCache.withLock { $0[key] = waiter }
        return waiter
    }

    /// The names of the service's waiters, sorted (for suggestions).
    public func waiterNames(service: String) -> [String] {
        ((try? models.waiters(service))?.keys ?? []).sorted()
    }
}
