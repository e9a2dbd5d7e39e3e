import AWSEndpoints
import AWSJSON
import AWSModels
import AWSPrimitives
import AWSProtocols
import AWSSigning
import Foundation
import Synchronization

/// Why a call could not be turned into a request. Each case maps to one JSON-RPC error.
public enum ClientError: Error, Sendable, CustomStringConvertible {
    case malformedMethod(String, suggestions: [String])
    case unknownService(String, suggestions: [String])
    case unknownOperation(service: String, operation: String, suggestions: [String])
    case invalidParams([ValidationProblem])
    case unsupportedProtocol(service: String, protocolName: String)
    /// No region was given (the caller's layer says where to give one).
    case noRegion
    case endpoint(String)
    case model(ModelError)
    case serialization(String)

    public var description: String {
        switch self {
        case .malformedMethod(let method, _): return "method \"\(method)\" is not of the form <service>.<Operation> (e.g. networkmanager.AssociateConnectPeer)"
        case .unknownService(let name, _): return "unknown service \(name)"
        case .unknownOperation(let service, let operation, _): return "unknown operation \(operation) of service \(service)"
        case .invalidParams(let problems): return "invalid params: " + problems.map(\.description).joined(separator: "; ")
        case .unsupportedProtocol(let service, let name):
            return "service \(service) uses \(name.contains(" with ") ? name : "the \(name) protocol"), which awsgw does not support yet"
        case .noRegion: return "cannot resolve the endpoint: no region"
        case .endpoint(let message): return "cannot resolve the endpoint: \(message)"
        case .model(let error): return error.description
        case .serialization(let message): return "cannot serialize the request: \(message)"
        }
    }
}

/// A request ready to send: signed, with its full URL.
public struct PreparedRequest: Sendable {
    public var method: String
    public var url: String
    /// Headers in the order they are sent.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The signing name and region that were used.
    public var signingName: String
    public var signingRegion: String

    public init(method: String, url: String, headers: [(name: String, value: String)], body: [UInt8] = [],
                signingName: String = "", signingRegion: String = "") {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.signingName = signingName
        self.signingRegion = signingRegion
    }
}

/// A resolved `<service>.<Operation>` with the compiled plan to serialize it.
/// A class, not a struct: it goes by value through every step of a call, and a copy of a
/// class is one retain where this struct's fields were six.
public final class OperationHandle: Sendable {
    public let service: ServiceModel
    public let operation: AWSModels.Operation
    /// The protocol botocore speaks to this service, as a codec for this operation.
    let codec: any ProtocolCodec
    /// What the service departs from its protocol and model in (`Customizations`).
    let customization: any ServiceCustomization
    let ruleSet: EndpointRuleSet
    /// Input members that feed the endpoint rules (`contextParam`).
    let contextParamMembers: [Member]
    /// The endpoint URL configured for this service in the environment, if any.
    let configuredEndpoint: String?

    /// The canonical `service.Operation` name, made once.
    public let canonicalName: String
    /// The operation's flags that every call reads, worked out once: each read of these
    /// computed properties through `operation` copied the whole `Operation` value.
    public let isUnsigned: Bool
    let hasUnsignedPayload: Bool
    let hasStreamingInput: Bool
    /// How the answer is read as it arrives, when it is an event stream.
    let eventStreamOutput: EventStreamOutput?
    /// Whether the answer is an event stream (Bedrock's `ConverseStream`, ...).
    public var answersWithEvents: Bool { eventStreamOutput != nil }

    init(service: ServiceModel, operation: AWSModels.Operation, codec: any ProtocolCodec, customization: any ServiceCustomization,
         ruleSet: EndpointRuleSet, contextParamMembers: [Member], configuredEndpoint: String?) {
        self.service = service
        self.operation = operation
        self.codec = codec
        self.customization = customization
        self.ruleSet = ruleSet
        self.contextParamMembers = contextParamMembers
        self.configuredEndpoint = configuredEndpoint
        canonicalName = service.name + "." + operation.name
        isUnsigned = operation.isUnsigned
        hasUnsignedPayload = operation.hasUnsignedPayload
        hasStreamingInput = operation.hasStreamingInput
        eventStreamOutput = codec.eventStreamOutput()
    }
}

/// The engine: resolves `service.Operation`, validates params, builds and signs the HTTP
/// request exactly as botocore would make it (or presigns it), and turns AWS's answer into
/// a result or an AWS error. Models, plans and rule sets are made once.
public final class AWSEngine: Sendable {
    public let models: ModelStore
    let environment: [String: String]
    let keyCache = SigningKeyCache()
    private let handles = Mutex<[String: OperationHandle]>([:])
    private let partitions = Mutex<Partitions?>(nil)
    /// Resolved endpoints by operation and rule-set input: the rules are pure functions
    /// of their input, and most calls repeat the same few inputs.
    let endpointCache = Mutex<[String: ResolvedEndpoint]>([:])
    /// Compiled paginators by canonical method (nil: the operation has none).
    let paginatorCache = Mutex<[String: Paginator?]>([:])
    /// Compiled waiters by service and waiter name.
    let waiterCache = Mutex<[String: Waiter]>([:])
    static let endpointCacheLimit = 4096
    static let spellingCacheLimit = 20_000
    public let codecOptions: CodecOptions
    /// The `User-Agent` of every request (the caller's product and version).
    public let userAgent: String

    public init(models: ModelStore, environment: [String: String] = ProcessInfo.processInfo.environment, codecOptions: CodecOptions = CodecOptions(),
                userAgent: String = AWSGWVersion.userAgent) {
        self.models = models
        self.environment = environment
        self.codecOptions = codecOptions
        self.userAgent = userAgent
    }

    /// How many operations have a compiled plan (each is compiled once).
    public var compiledPlans: Int { compilations.withLock { $0 } }
    private let compilations = Mutex(0)

    /// The plan of a method resolved before under this spelling; nil otherwise (nothing is
    /// loaded or compiled).
    public func resolvedOperation(_ method: String) -> OperationHandle? {
        handles.withLock { $0[method] }
    }

    /// A method's service and operation parts (`service.Operation`, split at the first
    /// dot, neither empty); nil when it has no such shape.
    public static func methodParts(_ method: String) -> (service: String, operation: String)? {
        guard let dot = method.firstIndex(of: "."), dot != method.startIndex, method.index(after: dot) != method.endIndex else { return nil }
        return (String(method[..<dot]), String(method[method.index(after: dot)...]))
    }

    /// Resolves `service.Operation` (any accepted spelling) once and caches the plan.
    public func operation(_ method: String) throws(ClientError) -> OperationHandle {
        if let cached = resolvedOperation(method) { return cached }
        guard let (serviceName, operationName) = AWSEngine.methodParts(method) else {
            let guess = method.split(separator: ".").first.map(String.init) ?? method
            throw .malformedMethod(method, suggestions: models.serviceSuggestions(for: guess).map { $0 + ".<Operation>" })
        }
        let service: ServiceModel
        do {
            guard let loaded = try models.service(serviceName) else {
                // Suggest whole methods where the operation exists in a close service whose
                // model is loaded; a wrong name never loads one (each is megabytes).
                let suggestions = models.serviceSuggestions(for: serviceName).map { name -> String in
                    if let other = models.loadedService(name), let op = other.operation(named: operationName) { return name + "." + op.name }
                    return name
                }
                throw ClientError.unknownService(serviceName, suggestions: suggestions)
            }
            service = loaded
        } catch let error as ClientError {
            throw error
        } catch let error as ModelError {
            throw .model(error)
        } catch {
            throw .serialization("\(error)")
        }
        guard let operation = service.operation(named: operationName) else {
            throw .unknownOperation(service: service.name, operation: operationName, suggestions: service.suggestions(for: operationName))
        }
        // Another spelling of a method already compiled: the same plan.
        if let cached = handles.withLock({ $0[service.name + "." + operation.name] }) {
            handles.withLock { if $0.count < AWSEngine.spellingCacheLimit { $0[method] = cached } }
            return cached
        }
        let customization = Customizations.of(service.name)
        guard let codec = ProtocolCodecs.codec(for: operation, in: service, options: codecOptions, customization: customization) else {
            throw .unsupportedProtocol(service: service.name, protocolName: service.metadata.resolvedProtocol)
        }
        if let feature = ProtocolCodecs.unsupportedFeature(of: operation, in: service.metadata) {
            throw .unsupportedProtocol(service: service.name, protocolName: service.metadata.resolvedProtocol + " with " + feature)
        }
        let ruleSet: EndpointRuleSet
        do {
            ruleSet = try EndpointRuleSet(ruleSet: try models.endpointRuleSet(service.name), partitions: try loadPartitions())
        } catch let error as ModelError {
            throw .model(error)
        } catch let error as EndpointError {
            throw .endpoint(error.message)
        } catch {
            throw .endpoint("\(error)")
        }
        let handle = OperationHandle(
            service: service, operation: operation, codec: codec, customization: customization, ruleSet: ruleSet,
            contextParamMembers: operation.input?.members.filter { $0.contextParam != nil } ?? [],
            configuredEndpoint: configuredEndpoint(service))
        // Plans are kept under the canonical name, and under other spellings while there are
        // few: callers cannot grow this table without bound by varying the case.
        compilations.withLock { $0 += 1 }
        handles.withLock { handles in
            handles[handle.canonicalName] = handle
            if handles.count < AWSEngine.spellingCacheLimit { handles[method] = handle }
        }
        return handle
    }

    private func loadPartitions() throws -> Partitions {
        if let cached = partitions.withLock({ $0 }) { return cached }
        let loaded = try Partitions(try models.partitions())
        partitions.withLock { $0 = loaded }
        return loaded
    }

    /// Fills idempotency tokens the caller left out (appended last, as botocore does),
    /// drops the gateway's own `$` options, and validates.
    public func prepareParams(_ params: JSONObject, for handle: OperationHandle, forPresigning: Bool = false,
                              newToken: () -> String = { UUID().uuidString.lowercased() }) throws(ClientError) -> JSONObject {
        var cleaned = JSONObject()
        cleaned.members.reserveCapacity(params.count + 1)
        for member in params where !member.key.hasPrefix("$") { cleaned.members.append(member) }
        cleaned = try handle.customization.params(cleaned, operation: handle.operation)
        // A presign has no client config in botocore's context, so its handler adds nothing.
        if !forPresigning { cleaned = FlexibleChecksums.params(cleaned, operation: handle.operation) }
        cleaned = IdempotencyTokens.fill(cleaned, input: handle.operation.input, newToken: newToken)
        let problems = ParamValidator(blobsAreBase64: codecOptions.blobsAreBase64, maxBlobBytes: codecOptions.maxBlobBytes)
            .validate(cleaned, against: handle.operation.input)
        if !problems.isEmpty { throw .invalidParams(problems) }
        return cleaned
    }

    /// Serializes, resolves the endpoint and signs. `params` must come from `prepareParams`.
    /// Without credentials the request is left unsigned (a dry run with no keys).
    public func buildRequest(
        _ handle: OperationHandle, params: JSONObject, region: String, credentials: Credentials?, at time: Timestamp,
        endpointOverride: String? = nil
    ) throws(ClientError) -> PreparedRequest {
        let serialized: SerializedRequest
        do {
            serialized = try handle.codec.serialize(params)
        } catch {
            throw .serialization(error.message)
        }
        let endpoint = try resolveEndpoint(handle, params: params, region: region, endpointOverride: endpointOverride)
        guard var parsed = URLParts(endpoint.url) else { throw .endpoint("invalid endpoint URL \(endpoint.url)") }
        if let predict = try handle.customization.endpoint(params: params, operation: handle.operation) {
            parsed = URLParts(scheme: predict.scheme, authority: predict.authority, path: parsed.path)
        }
        let host = (serialized.hostPrefix ?? "") + parsed.authority
        let path = AWSEngine.joinPath(parsed.path, serialized.path)

        let scheme = endpoint.sigV4Scheme
        try AWSEngine.checkAuthSchemes(endpoint, handle)
        let signingName = scheme?.signingName ?? handle.service.metadata.signingName
        let signingRegion = scheme?.signingRegion ?? region
        var options = AWSEngine.signingOptions(handle, scheme)
        // An operation marked noAuth goes unsigned unless its endpoint names a scheme.
        let signer = handle.isUnsigned && scheme == nil ? nil : credentials

        var body = serialized.body
        if let style = handle.customization.crossRegionCopy(handle.operation) {
            let requestURL = parsed.scheme + "://" + host + path
            body = CrossRegionCopy.apply(style, body: body, requestURL: requestURL, destinationRegion: region) { url, query, sourceRegion in
                guard let credentials = signer else { return nil }
                return AWSEngine.presignedGET(url, query: query, credentials: credentials, region: sourceRegion,
                                                   service: signingName, options: options, at: time, expires: 3600)
            }
        }
        var request = SignableRequest(method: serialized.method, path: path, query: serialized.query, headers: [], body: body)
        // Host, the serializer's, the signer's (date, authorization, token), length, agent:
        // room for all at once instead of growing five times.
        request.headers.reserveCapacity(serialized.headers.count + endpoint.headers.count + 8)
        request.headers.append(("Host", host))
        var headers = serialized.headers
        // `inject_api_version_header_if_needed`: an endpoint-discovery operation names the API version.
        if handle.operation.isEndpointOperation { headers.append(("x-amz-api-version", handle.service.metadata.apiVersion)) }
        handle.customization.headers(&headers, body: body, params: params, operation: handle.operation, apiVersion: handle.service.metadata.apiVersion)
        RequestCompression.apply(&body, headers: &headers, operation: handle.operation, environment: environment, mtime: time.seconds)
        let chunked = try AWSEngine.applyChecksums(handle, params: params, https: parsed.scheme == "https", headers: &headers, body: &body,
                                                   options: &options)
        request.body = body
        for header in headers { request.headers.append(header) }
        for (name, values) in endpoint.headers { request.headers.append((name, values.joined(separator: ","))) }

        if let credentials = signer {
            let signer = SigV4Signer(credentials: credentials, region: signingRegion, service: signingName, options: options, keyCache: keyCache)
            signer.sign(&request, at: time)
        }

        // botocore sends Content-Length for any body, and 0 for an empty one except on GET/HEAD/OPTIONS;
        // a chunked body has none.
        if !chunked, !request.body.isEmpty || !(request.method == "GET" || request.method == "HEAD" || request.method == "OPTIONS") {
            request.headers.append(("Content-Length", String(request.body.count)))
        }
        request.headers.append(("User-Agent", userAgent))
        let url = parsed.scheme + "://" + host + path + (request.query.isEmpty && !serialized.urlHasQueryMark ? "" : "?" + request.query)
        return PreparedRequest(
            method: request.method, url: url, headers: request.headers, body: request.body, signingName: signingName, signingRegion: signingRegion)
    }

    /// The signer's options for a call: the endpoint's scheme, the service's signer, and
    /// uploads that opt out of payload signing (saying so in `X-Amz-Content-SHA256`).
    static func signingOptions(_ handle: OperationHandle, _ scheme: (signingName: String?, signingRegion: String?, disableDoubleEncoding: Bool)?) -> SigV4Options {
        var options = SigV4Options()
        options.doubleEncodePath = !(scheme?.disableDoubleEncoding ?? false)
        handle.customization.signing(&options, presigning: false)
        if handle.hasUnsignedPayload {
            options.unsignedPayload = true
            options.addContentSHA256Header = true
        }
        return options
    }

    /// The request's checksums (`httpChecksum`): a streaming upload over https sends its
    /// checksum in an aws-chunked trailer (true: the body is chunked); anything else in a
    /// header. Whether a checksummed upload's payload goes unsigned is the service's
    /// signer's choice (S3SigV4Auth `_should_sha256_sign_payload`).
    static func applyChecksums(_ handle: OperationHandle, params: JSONObject, https: Bool, headers: inout [(name: String, value: String)],
                               body: inout [UInt8], options: inout SigV4Options) throws(ClientError) -> Bool {
        if handle.hasStreamingInput, https, let checksum = try FlexibleChecksums.resolve(headers, operation: handle.operation, params: params) {
            FlexibleChecksums.applyTrailer(checksum, headers: &headers, body: &body)
            options.payloadHash = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
            options.addContentSHA256Header = true
            return true
        }
        let checksumHeader = try FlexibleChecksums.apply(&headers, body: body, operation: handle.operation, params: params)
        if handle.customization.leavesChecksummedUploadsUnsigned, https, handle.hasStreamingInput,
           headers.contains(where: { $0.name.equalsIgnoringASCIICase(checksumHeader ?? "content-md5") }) {
            options.unsignedPayload = true
        }
        return false
    }

    /// A SigV4 query-presigned GET of `url` with `query` as its parameters, as botocore's
    /// `generate_presigned_url` makes it: only `host` signed, the empty payload's hash (only
    /// S3 presigns with `UNSIGNED-PAYLOAD`).
    static func presignedGET(
        _ url: String, query: [(key: String, value: String)], credentials: Credentials, region: String, service: String,
        options: SigV4Options, at time: Timestamp, expires: Int
    ) -> String? {
        guard let parts = URLParts(url) else { return nil }
        let queryText = query.map { PercentEncoding.encode($0.key) + "=" + PercentEncoding.encode($0.value) }.joined(separator: "&")
        var request = SignableRequest(method: "GET", path: parts.path.isEmpty ? "/" : parts.path, query: queryText,
                                      headers: [("host", parts.authority)], body: [])
        SigV4Signer(credentials: credentials, region: region, service: service, options: options).presign(&request, at: time, expires: expires)
        return parts.scheme + "://" + parts.authority + request.path + "?" + request.query
    }

    /// botocore's `_urljoin`: the endpoint's path, then the operation's.
    static func joinPath(_ base: String, _ path: String) -> String {
        if path.isEmpty || path == "/" { return base.isEmpty ? "/" : base }
        if base.hasSuffix("/") && path.hasPrefix("/") { return String(base.dropLast()) + path }
        return base + path
    }

    /// Parses AWS's answer: the output as JSON, or the AWS error. `context` says what the
    /// request asked for that changes the result (botocore's request context).
    public func parseResponse(_ response: ResponseData, for handle: OperationHandle,
                              context: ResponseContext = ResponseContext()) -> Result<JSONObject, AWSErrorResponse> {
        if response.status < 300, let mismatch = FlexibleChecksums.verify(response, operation: handle.operation) {
            return .failure(AWSErrorResponse(code: "FlexibleChecksumError", message: mismatch, httpStatus: response.status,
                                             requestId: response.header("x-amz-request-id") ?? response.header("x-amzn-RequestId"),
                                             shape: nil, fields: JSONObject()))
        }
        return handle.codec.parse(response).map { handle.customization.result($0, context: context, operation: handle.operation) }
    }

    /// What parsing a call's answer needs to know about the caller's params.
    public func responseContext(for handle: OperationHandle, callerParams: JSONObject) -> ResponseContext {
        handle.customization.responseContext(callerParams: callerParams, operation: handle.operation)
    }
}
