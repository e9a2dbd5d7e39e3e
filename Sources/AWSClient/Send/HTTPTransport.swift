import AWSProtocols

/// Sends one signed request to AWS: the client's only dependency on the network, so that
/// everything above it can be tested with a real server standing in for AWS.
public protocol HTTPTransport: Sendable {
    func send(_ request: PreparedRequest, timeoutSeconds: Double) async throws(TransportError) -> ResponseData
}

/// AWS could not be reached or did not answer in time.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case connect, timeout, connectionClosed, responseTooLarge, other
    }
    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// Timeouts and retries towards AWS (the config file's `upstream:`).
public struct UpstreamSettings: Sendable {
    public var connectTimeoutSeconds = 3.0
    /// Per attempt; a call's deadline bounds all of its attempts together.
    public var requestTimeoutSeconds = 30.0
    public var retry = RetrySettings()

    public init() {}
}
