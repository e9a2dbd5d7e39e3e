import AWSJSON
import AWSModels
import AWSProtocols
import AWSSigning

/// One service's departures from what its protocol and model say, as botocore 1.44.5's
/// handlers make them: the codec's hooks (`ProtocolCustomization`) and the client's. The
/// engine and the client call these at fixed points and know no service by name; a
/// service that needs any has one named type in this folder, whose doc comment lists
/// what it fixes and the handlers it mirrors. The defaults change nothing.
public protocol ServiceCustomization: ProtocolCustomization {
    /// Params before validation (botocore's `before-parameter-build` handlers).
    func params(_ params: JSONObject, operation: AWSModels.Operation) throws(ClientError) -> JSONObject
    /// Scheme and host the call goes to instead of its endpoint's.
    func endpoint(params: JSONObject, operation: AWSModels.Operation) throws(ClientError) -> (scheme: String, authority: String)?
    /// The signer's options for the service (its own signer class in botocore).
    func signing(_ options: inout SigV4Options, presigning: Bool)
    /// The region a presigned URL is signed for, when not the endpoint's.
    func presignSigningRegion(params: JSONObject, region: String) -> String?
    /// Headers the call adds.
    func headers(_ headers: inout [(name: String, value: String)], body: [UInt8], params: JSONObject, operation: AWSModels.Operation,
                 apiVersion: String)
    /// The presigned URL a copy from another region carries, if this operation is one.
    func crossRegionCopy(_ operation: AWSModels.Operation) -> CrossRegionCopy.Style?
    /// Whether an upload over https whose body a checksum header covers goes with its
    /// payload unsigned.
    var leavesChecksummedUploadsUnsigned: Bool { get }
    /// Whether the operation always addresses its bucket in the path.
    func forcesPathStyle(_ operation: AWSModels.Operation) -> Bool
    /// Whether a presigned URL goes to the service's global endpoint.
    func presignsToGlobalEndpoint(params: JSONObject, region: String, pathStyle: Bool) -> Bool
    /// What reading the answer needs to know of the caller's own params.
    func responseContext(callerParams: JSONObject, operation: AWSModels.Operation) -> ResponseContext
    /// The result read with that context.
    func result(_ result: JSONObject, context: ResponseContext, operation: AWSModels.Operation) -> JSONObject
    /// Whether an answer naming the bucket's region is followed there (S3).
    var followsRegionRedirects: Bool { get }
}

extension ServiceCustomization {
    public func params(_ params: JSONObject, operation: AWSModels.Operation) throws(ClientError) -> JSONObject { params }
    public func endpoint(params: JSONObject, operation: AWSModels.Operation) throws(ClientError) -> (scheme: String, authority: String)? { nil }
    public func signing(_ options: inout SigV4Options, presigning: Bool) {}
    public func presignSigningRegion(params: JSONObject, region: String) -> String? { nil }
    public func headers(_ headers: inout [(name: String, value: String)], body: [UInt8], params: JSONObject, operation: AWSModels.Operation,
                        apiVersion: String) {}
    public func crossRegionCopy(_ operation: AWSModels.Operation) -> CrossRegionCopy.Style? { nil }
    public var leavesChecksummedUploadsUnsigned: Bool { false }
    public func forcesPathStyle(_ operation: AWSModels.Operation) -> Bool { false }
    public func presignsToGlobalEndpoint(params: JSONObject, region: String, pathStyle: Bool) -> Bool { false }
    public func responseContext(callerParams: JSONObject, operation: AWSModels.Operation) -> ResponseContext { ResponseContext() }
    public func result(_ result: JSONObject, context: ResponseContext, operation: AWSModels.Operation) -> JSONObject { result }
    public var followsRegionRedirects: Bool { false }
}

/// What the request asked for that changes how its answer is read.
public struct ResponseContext: Sendable {
    /// S3 list keys were asked for URL-encoded by awsgw, not by the caller: decode them.
    public var decodeListedKeys = false

    public init(decodeListedKeys: Bool = false) { self.decodeListedKeys = decodeListedKeys }
}

/// The one place that names services: each service's customization, found once per
/// operation plan.
public enum Customizations {
    public static func of(_ service: String) -> any ServiceCustomization {
        switch service {
        case "s3": return S3Customization()
        case "s3control": return S3ControlCustomization()
        case "glacier": return GlacierCustomization()
        case "route53": return Route53Customization()
        case "machinelearning": return MachineLearningCustomization()
        case "apigateway": return APIGatewayCustomization()
        case "cloudsearchdomain": return CloudSearchDomainCustomization()
        case "ec2": return EC2Customization()
        case "autoscaling": return AutoScalingCustomization()
        case "cloudformation": return CloudFormationCustomization()
        case "iam": return IAMCustomization()
        case "dynamodb": return DynamoDBCustomization()
        case "rds": return CrossRegionCopyCustomization(operations: CrossRegionCopyCustomization.rdsOperations)
        case "neptune", "docdb": return CrossRegionCopyCustomization(operations: ["CopyDBClusterSnapshot", "CreateDBCluster"])
        default: return NoCustomization()
        }
    }
}

/// A service as its protocol and model say it.
public struct NoCustomization: ServiceCustomization {
    public init() {}
}
