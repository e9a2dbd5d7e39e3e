import AWSProtocols

/// Sends one signed request to AWS: the client's only dependency on the network, so that
/// everything above it can be tested with a real server standing in for AWS.
public protocol HTTPTransport: Sendable {
    func send(_ request: PreparedRequest, timeoutSeconds: Double) async throws(TransportError) -> ResponseData
    /// Sends a request whose answer's body may go to `stream` as it arrives (an event
    /// stream): the answer returned has the head, and the body only when `stream.head`
    /// asked for it whole. `timeoutSeconds` bounds the wait for the head, then each pause
    /// between pieces.
    func send(_ request: PreparedRequest, timeoutSeconds: Double, streaming stream: BodyStream) async throws(TransportError) -> ResponseData
}

/// Where a streamed answer's body goes, piece by piece, on the transport's thread.
public protocol BodyStream: AnyObject, Sendable {
    /// The answer's head came: true streams its body to `received`, false has it come
    /// whole in the answer (an error's body, to be parsed as one).
    func head(status: Int, headers: [(name: String, value: String)]) -> Bool
    /// A piece of the body; false stops the answer (its reader is gone) and closes the
    /// connection.
    func received(_ bytes: [UInt8]) -> Bool
    /// The transport's way to end the answer early (closing its connection), handed over
    /// as the request is sent: the reader calls it when its own reader has gone.
    func attach(cancel: @escaping @Sendable () -> Void)
}

extension HTTPTransport {
    /// A transport that cannot stream reads the answer whole and hands the body over at once.
    public func send(_ request: PreparedRequest, timeoutSeconds: Double, streaming stream: BodyStream) async throws(TransportError) -> ResponseData {
        var response = try await send(request, timeoutSeconds: timeoutSeconds)
        if stream.head(status: response.status, headers: response.headers) {
            _ = stream.received(response.body)
            response.body = []
        }
        return response
    }
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
