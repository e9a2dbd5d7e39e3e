import AWSClient
import AWSProtocols
import Synchronization

/// AWS in memory, the one stand-in for the client's transport: each request is answered
/// as the script says (or failed), and recorded. The pipeline's only way out is
/// `HTTPTransport`, so policy, cache, retries and audit are tested, fuzzed and profiled
/// without sockets. (`FakeAWS` is the real HTTP server that stands in over sockets.)
package final class FakeTransport: HTTPTransport, @unchecked Sendable {
    /// The answer to a request, given the request and which one it is (from 1; 0 when
    /// nothing is recorded).
    package typealias Script = @Sendable (PreparedRequest, Int) throws(TransportError) -> ResponseData
    private let state = Mutex<[PreparedRequest]>([])
    private let recording: Bool
    private let script: Script

    /// `recording: false` keeps nothing (a profile of the gateway's own work).
    package init(recording: Bool = true, _ script: @escaping Script = { _, _ in FakeTransport.ok }) {
        self.recording = recording
        self.script = script
    }

    /// A transport to nowhere: every request fails to connect.
    package static func unreachable(_ why: String) -> FakeTransport {
        FakeTransport(recording: false) { _, _ throws(TransportError) in throw TransportError(kind: .connect, message: why) }
    }

    /// The requests sent so far, in order.
    package var requests: [PreparedRequest] { state.withLock { $0 } }

    package func send(_ request: PreparedRequest, timeoutSeconds: Double) async throws(TransportError) -> ResponseData {
        guard recording else { return try script(request, 0) }
        let attempt = state.withLock { requests -> Int in
            requests.append(request)
            return requests.count
        }
        return try script(request, attempt)
    }

    package static let ok = ResponseData(status: 200, headers: [("Content-Type", "application/json"), ("x-amzn-RequestId", "req-1")],
                                         body: Array(#"{"ConnectPeerAssociation":{"ConnectPeerId":"c","State":"PENDING"}}"#.utf8))
    package static let throttled = ResponseData(status: 503, headers: [("x-amzn-ErrorType", "ThrottlingException"), ("x-amzn-RequestId", "req-t")],
                                                body: Array(#"{"message":"slow down"}"#.utf8))
}
