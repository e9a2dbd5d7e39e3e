import AWSJSON
import AWSModels

/// One AWS protocol as the engine speaks it for one operation: how params become an HTTP
/// request (before its endpoint and signature), and how an answer becomes the result or
/// an AWS error. Each is an HTTP binding (REST, or an RPC one) with a payload codec
/// (JSON, XML, form, CBOR), chosen from the model as botocore chooses.
public protocol ProtocolCodec: Sendable {
    func serialize(_ params: JSONObject) throws(SerializationError) -> SerializedRequest
    func parse(_ response: ResponseData) -> Result<JSONObject, AWSErrorResponse>
    /// How the operation's answer is read as it arrives, when it is an event stream.
    func eventStreamOutput() -> EventStreamOutput?
}

public enum ProtocolCodecs {
    /// The protocols this engine serves (botocore's names).
    public static let served: Set<String> = ["rest-json", "json", "rest-xml", "smithy-rpc-v2-cbor", "query", "ec2"]

    /// Why a served protocol's service or operation still cannot be called as boto3 calls
    /// it, or nil: SimpleDB and Import/Export sign with SigV2, Timestream finds its
    /// endpoints with `DescribeEndpoints` first.
    public static func unsupportedFeature(of operation: AWSModels.Operation?, in metadata: ServiceMetadata) -> String? {
        if metadata.signatureVersion == "v2" { return "SigV2 signing" }
        if operation?.requiresEndpointDiscovery == true { return "endpoint discovery" }
        return nil
    }

    /// Whether the service's protocol is served and nothing else stops its calls.
    public static func serves(_ metadata: ServiceMetadata) -> Bool {
        served.contains(metadata.resolvedProtocol) && unsupportedFeature(of: nil, in: metadata) == nil
    }

    /// Why none of a service's operations can be called, from its metadata alone; nil when
    /// they may be (some may still not be: `support(of:)` looks at each).
    public static func whyNotServed(_ metadata: ServiceMetadata) -> String? {
        guard served.contains(metadata.resolvedProtocol) else { return "protocol \(metadata.resolvedProtocol)" }
        return unsupportedFeature(of: nil, in: metadata)
    }

    /// What of a service can be called: all of it, some operations (and why not the
    /// others), or none.
    public static func support(of service: ServiceModel) -> ServiceSupport {
        if let why = whyNotServed(service.metadata) { return .notServed(why: why) }
        var reasons: [String] = []
        var served = 0
        for name in service.operationNames {
            if let why = unsupportedFeature(of: service.operations[name], in: service.metadata) {
                if !reasons.contains(why) { reasons.append(why) }
            } else {
                served += 1
            }
        }
        if reasons.isEmpty { return .callable }
        if served == 0 { return .notServed(why: reasons.joined(separator: ", ")) }
        return .partly(served: served, of: service.operationNames.count, why: reasons.joined(separator: ", "))
    }

    /// The codec for an operation, in the protocol botocore 1.44.5 would speak to its
    /// service, with the service's customization at its hooks; nil when that protocol is
    /// not served yet.
    public static func codec(for operation: AWSModels.Operation, in service: ServiceModel, options: CodecOptions,
                             customization: any ProtocolCustomization = NoProtocolCustomization()) -> (any ProtocolCodec)? {
        let operation = customization.operation(operation)
        switch service.metadata.resolvedProtocol {
        case "rest-json": return RestJSONCodec(operation: operation, service: service, options: options, customization: customization)
        case "rest-xml": return RestXMLCodec(operation: operation, service: service, options: options, customization: customization)
        case "smithy-rpc-v2-cbor": return RPCv2CBORCodec(operation: operation, service: service, options: options)
        case "json": return AWSJSONCodec(operation: operation, service: service, options: options, customization: customization)
        case "query": return QueryCodec(operation: operation, service: service, options: options, isEC2: false, customization: customization)
        case "ec2": return QueryCodec(operation: operation, service: service, options: options, isEC2: true, customization: customization)
        default: return nil
        }
    }
}

/// What of a service the engine can call, as `awsgw models list` shows it.
public enum ServiceSupport: Equatable, Sendable, CustomStringConvertible {
    case callable
    /// `served` of `of` operations; the others need `why`.
    case partly(served: Int, of: Int, why: String)
    case notServed(why: String)

    public var description: String {
        switch self {
        case .callable: return "callable"
        case .partly(let served, let total, let why): return "partly (\(served) of \(total); the others need \(why))"
        case .notServed(let why): return "not served (\(why))"
        }
    }
}
