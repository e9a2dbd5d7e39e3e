import AWSCredentials
import AWSJSON
import AWSSigning

/// STS and SSO for credential sources, through the client itself: endpoint rules,
/// `AWS_ENDPOINT_URL_STS`, signing and retries as for any call. AWS's errors come back as
/// `SendError` (its description: `Code: message (HTTP status)`), never read back from text.
extension AWSCaller: AWSOperationCaller {
    public func call(_ method: String, params: JSONObject, region: String, credentials: Credentials?) async throws -> JSONObject {
        let handle: OperationHandle
        let prepared: JSONObject
        do {
            handle = try engine.operation(method)
            prepared = try engine.prepareParams(params, for: handle)
        } catch {
            throw SendError.request(error)
        }
        let source: any CredentialProvider = credentials.map { StaticCredentialProvider($0, sourceName: "source credentials") }
            ?? FailingCredentialProvider(sourceName: "none", reason: "an unsigned call")
        return try await send(ClientCall(handle: handle, params: prepared, region: region, credentials: source), observer: NoSendObserver())
    }
}

/// Plain HTTP to the container agent and instance metadata, over the client's transport.
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
