import AWSClient
import AWSProtocols
import AsyncHTTPClient
import GatewayCore
import NIOCore
import NIOHTTP1

/// Sends signed requests through one shared AsyncHTTPClient (keep-alive pool to AWS).
public final class AHCTransport: HTTPTransport {
    let client: HTTPClient
    let maxResponseBytes: Int

    public init(eventLoopGroup: any EventLoopGroup, connectTimeoutSeconds: Double, maxResponseBytes: Int) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .milliseconds(Int64(connectTimeoutSeconds * 1000)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
        self.maxResponseBytes = maxResponseBytes
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }

    public func send(_ request: PreparedRequest, timeoutSeconds: Double) async throws(TransportError) -> ResponseData {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers {
            // AsyncHTTPClient writes Host and Content-Length from the URL and the body.
            let name = header.name.lowercased()
            if name == "host" || name == "content-length" { continue }
            outgoing.headers.add(name: header.name, value: header.value)
        }
        if !request.body.isEmpty || request.headers.contains(where: { $0.name == "Content-Length" }) {
            outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        }
        do {
            let response = try await client.execute(outgoing, timeout: .milliseconds(Int64(max(timeoutSeconds, 0.001) * 1000)))
            let body = try await response.body.collect(upTo: maxResponseBytes)
            return ResponseData(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Array(body.readableBytesView))
        } catch let error as HTTPClientError {
            switch error {
            case .connectTimeout: throw TransportError(kind: .connect, message: "connect timed out")
            case .deadlineExceeded, .readTimeout, .writeTimeout: throw TransportError(kind: .timeout, message: "no answer in time")
            case .remoteConnectionClosed: throw TransportError(kind: .connectionClosed, message: "connection closed by AWS")
            default: throw TransportError(kind: .other, message: "\(error)")
            }
        } catch let error as NIOTooManyBytesError {
            throw TransportError(kind: .responseTooLarge, message: "response over \(maxResponseBytes) bytes: \(error)")
        } catch {
            let text = "\(error)"
            if text.contains("connect") || text.contains("Connect") || text.contains("refused") {
                throw TransportError(kind: .connect, message: text)
            }
            throw TransportError(kind: .other, message: text)
        }
    }
}
