import AWSClient
import AWSCredentials
import AWSJSON
import AWSSigning
import Foundation
import Logging

/// STS (and later SSO) for credential sources, through the gateway's own engine and
/// transport: endpoint rules, `AWS_ENDPOINT_URL_STS`, signing and retries as for any call.
public struct EngineCredentialCaller: AWSOperationCaller {
    let engine: AWSEngine
    let forwarder: Forwarder

    public init(engine: AWSEngine, transport: any HTTPTransport, upstream: UpstreamSettings = UpstreamSettings(),
                logger: Logger = Logger(label: "awsgw.credentials"),
                sleep: @escaping @Sendable (Double) async -> Void = { try? await Task.sleep(nanoseconds: UInt64($0 * 1e9)) }) {
        self.engine = engine
        forwarder = Forwarder(engine: engine, transport: transport, upstream: upstream, quota: RetryQuota(settings: upstream.retry),
                              rateLimiter: RateLimiter(limits: [:]), metrics: GatewayMetrics(), logger: logger, sleep: sleep)
    }

    public func call(_ method: String, params: JSONObject, region: String, credentials: Credentials?) async throws -> JSONObject {
        do {
            let handle = try engine.operation(method)
            let prepared = try engine.prepareParams(params, for: handle)
            let source: any CredentialProvider = credentials.map { StaticCredentialProvider($0, sourceName: "source credentials") }
                ?? FailingCredentialProvider(sourceName: "none", reason: "an unsigned call")
            let call = PreparedCall(handle: handle, params: prepared, region: region, source: source, sourceName: "source credentials",
                                    team: "", timeoutMs: nil)
            return try await forwarder.forward(call, trace: CallTrace())
        } catch let error as RPCError {
            throw CredentialCallError(description: Self.describe(error))
        } catch let error as ClientError {
            throw CredentialCallError(description: error.description)
        }
    }

    /// An AWS error as `Type: message` (HTTP status), else the gateway error's message and cause.
    static func describe(_ error: RPCError) -> String {
        if let type = error.data?["type"]?.stringValue {
            return "\(type): \(error.data?["message"]?.stringValue ?? error.message) (HTTP \(error.data?["httpStatus"]?.intValue ?? 0))"
        }
        if let cause = error.data?["cause"]?.stringValue { return "\(error.message): \(cause)" }
        return error.message
    }
}

struct CredentialCallError: Error, CustomStringConvertible {
    let description: String
}

/// Plain HTTP to the container agent and instance metadata over the gateway's client.
public struct TransportCredentialHTTP: CredentialHTTPClient {
    let transport: any HTTPTransport
    public init(transport: any HTTPTransport) { self.transport = transport }

    public func send(_ request: CredentialHTTPRequest) async throws(CredentialHTTPError) -> CredentialHTTPResponse {
        do {
            let response = try await transport.send(PreparedRequest(method: request.method, url: request.url, headers: request.headers),
                                                     timeoutSeconds: request.timeoutSeconds)
            return CredentialHTTPResponse(status: response.status, body: response.body)
        } catch {
            throw CredentialHTTPError(timedOut: error.kind == .timeout, message: error.description)
        }
    }
}
