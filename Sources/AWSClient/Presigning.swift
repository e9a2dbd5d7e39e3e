import AWSEndpoints
import AWSJSON
import AWSModels
import AWSProtocols
import AWSSigning
import Foundation

/// A SigV4 query-presigned request: what `$presign` and `awsgw presign` answer.
public struct PresignedRequest: Sendable {
    public var method: String
    public var url: String
    /// Headers that were signed besides `Host`: the caller must send them as they are.
    public var headers: [(name: String, value: String)]
    public var expires: Timestamp

    public var json: JSON {
        .object(JSONObject([
            ("url", .string(url)), ("method", .string(method)),
            ("headers", .object(JSONObject(headers.map { ($0.name, JSON.string($0.value)) }))),
            ("expires", .string(expires.iso8601)),
        ]))
    }
}

extension AWSEngine {
    /// The longest a presigned URL may live (SigV4's limit).
    public static let maxPresignSeconds = 604_800

    /// A query-presigned URL for the call, as botocore's `generate_presigned_url` makes
    /// it with SigV4 (`signature_version='s3v4'` for S3): the request's own query and any
    /// form or JSON body members in the query string, then the `X-Amz-*` parameters; every
    /// header the request carries signed; S3 through the global endpoint where botocore
    /// uses it, with the payload unsigned. `params` must come from
    /// `prepareParams(forPresigning: true)`.
    public func presign(_ handle: OperationHandle, params: JSONObject, region: String, credentials: Credentials, at time: Timestamp,
                        expires: Int, endpointOverride: String? = nil) throws(ClientError) -> PresignedRequest {
        let serialized: SerializedRequest
        do {
            serialized = try handle.codec.serialize(params)
        } catch {
            throw .serialization(error.message)
        }
        let endpoint = try resolveEndpoint(handle, params: params, region: region, endpointOverride: endpointOverride, forPresigning: true)
        guard let parsed = URLParts(endpoint.url) else { throw .endpoint("invalid endpoint URL \(endpoint.url)") }
        let host = (serialized.hostPrefix ?? "") + parsed.authority
        let path = AWSEngine.joinPath(parsed.path, serialized.path)

        // The query as botocore rebuilds it: parsed (blank values kept, the first of a
        // repeated key), body members added, every part percent-encoded again.
        var query: [(key: String, value: String)] = []
        func add(_ key: String, _ value: String) { if !query.contains(where: { $0.key == key }) { query.append((key, value)) } }
        for pair in serialized.query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            add(PercentEncoding.decode(String(parts[0])), parts.count > 1 ? PercentEncoding.decode(String(parts[1])) : "")
        }
        var headers = serialized.headers
        for (name, values) in endpoint.headers { headers.append((name, values.joined(separator: ","))) }
        if !serialized.body.isEmpty {
            if let form = FormBody(decoding: serialized.body), headers.contains(where: { $0.value.hasPrefix("application/x-www-form-urlencoded") }) {
                for field in form.fields { add(field.key, field.value) }
            } else if case .object(let object)? = try? JSON.parse(serialized.body) {
                for member in object { add(member.key, pythonString(member.value)) }
            }
        }
        // Not signed: the form content type (dropped with the body) and botocore's blacklist.
        headers.removeAll { header in
            let name = header.name.lowercased()
            return AWSEngine.unsignedHeaderNames.contains(name)
                || (name == "content-type" && header.value == "application/x-www-form-urlencoded; charset=utf-8")
        }

        let scheme = endpoint.sigV4Scheme
        let signingName = scheme?.signingName ?? handle.service.metadata.signingName
        let signingRegion = handle.customization.presignSigningRegion(params: params, region: region) ?? (scheme?.signingRegion ?? region)
        var options = SigV4Options()
        options.doubleEncodePath = !(scheme?.disableDoubleEncoding ?? false)
        handle.customization.signing(&options, presigning: true)

        let queryText = query.map { PercentEncoding.encode($0.key) + "=" + PercentEncoding.encode($0.value) }.joined(separator: "&")
        var request = SignableRequest(method: serialized.method, path: path, query: queryText, headers: [("host", host)] + headers, body: [])
        SigV4Signer(credentials: credentials, region: signingRegion, service: signingName, options: options).presign(&request, at: time, expires: expires)
        return PresignedRequest(method: serialized.method, url: parsed.scheme + "://" + host + path + "?" + request.query, headers: headers,
                                expires: Timestamp(seconds: time.seconds + Int64(expires)))
    }

    /// botocore's `SIGNED_HEADERS_BLACKLIST`.
    static let unsignedHeaderNames: Set<String> = [
        "baggage", "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "traceparent", "tracestate",
        "trailer", "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
    ]
}
