import AWSJMESPath
import AWSJSON

/// One wait as botocore's `Waiter.wait` carries it out: each poll's answer goes to
/// `observe`, which says whether the wait is over, and how. The caller polls, sleeps
/// `delaySeconds` between polls, and stops at the outcome.
public struct Waiting: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// A success acceptor matched.
        case success
        /// Poll again after the delay.
        case retry
        /// A failure acceptor matched, or AWS answered an error no acceptor expects.
        case failure(reason: String)
        /// `maxAttempts` polls and no success.
        case timeout(reason: String)
    }

    public let waiter: Waiter
    public let delaySeconds: Int
    public let maxAttempts: Int
    /// Polls observed so far.
    public private(set) var attempts = 0
    private var state = "waiting"
    private var lastMatched: Acceptor?

    public init(_ waiter: Waiter, delaySeconds: Int? = nil, maxAttempts: Int? = nil) {
        self.waiter = waiter
        self.delaySeconds = delaySeconds ?? waiter.delaySeconds
        self.maxAttempts = maxAttempts ?? waiter.maxAttempts
    }

    /// The wait's state after one more poll; an acceptor's expression that fails on the
    /// answer throws (botocore's wait raises it).
    public mutating func observe(_ answer: WaiterAnswer) throws(JMESPathError) -> Outcome {
        attempts += 1
        // botocore explains a final state with the acceptor its loop stopped at: the one
        // that matched, or (none matching) the last.
        var explained = waiter.acceptors.last
        let response = answer.botocoreResponse
        var found: Acceptor?
        for acceptor in waiter.acceptors where try acceptor.matches(response) {
            found = acceptor
            break
        }
        if let matched = found {
            lastMatched = matched
            explained = matched
            state = matched.state.rawValue
        } else if WaiterAnswer.isError(response), let error = response["Error"]?.resolved.objectValue {
            let code = error["Code"].map(PythonValues.str) ?? "Unknown", message = error["Message"].map(PythonValues.str) ?? "Unknown"
            return .failure(reason: "An error occurred (\(code)): \(message)")
        }
        if state == Acceptor.State.success.rawValue { return .success }
        if state == Acceptor.State.failure.rawValue {
            return .failure(reason: "Waiter encountered a terminal failure state: " + (explained?.explanation ?? ""))
        }
        if attempts >= maxAttempts {
            guard lastMatched != nil else { return .timeout(reason: "Max attempts exceeded") }
            return .timeout(reason: "Max attempts exceeded. Previously accepted state: " + (explained?.explanation ?? ""))
        }
        return .retry
    }
}
