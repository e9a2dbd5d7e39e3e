import AWSJSON
import AWSModels

/// A service's departures from its protocol, at the points where a codec writes a request
/// and reads an answer, as botocore 1.44.5's handlers make them. A codec calls these hooks
/// and knows no service by name; each service that needs any has one named type (AWSClient's
/// `Customizations/`), and the defaults change nothing.
public protocol ProtocolCustomization: Sendable {
    /// The operation as the codec should see it (a model fix-up, such as S3's bucket left
    /// out of the URI because the endpoint rules put it in the host).
    func operation(_ operation: AWSModels.Operation) -> AWSModels.Operation
    /// Validated params, just before they are written.
    func paramsToWrite(_ params: JSONObject, operation: AWSModels.Operation) -> JSONObject
    /// The written request, adjusted.
    func written(_ request: inout SerializedRequest, operation: AWSModels.Operation)
    /// An answer the service's client refuses before reading it (a checksum that does not
    /// match), as the error it is; nil to read it.
    func refusal(of response: ResponseData) -> AWSErrorResponse?
    /// Whether a 200 answer's body may be an error document (read before the result).
    func mayHideErrorIn200(_ response: ResponseData, operation: AWSModels.Operation) -> Bool
    /// The parsed result, adjusted.
    func result(_ result: JSONObject, response: ResponseData, operation: AWSModels.Operation) -> JSONObject
}

extension ProtocolCustomization {
    public func operation(_ operation: AWSModels.Operation) -> AWSModels.Operation { operation }
    public func paramsToWrite(_ params: JSONObject, operation: AWSModels.Operation) -> JSONObject { params }
    public func written(_ request: inout SerializedRequest, operation: AWSModels.Operation) {}
    public func refusal(of response: ResponseData) -> AWSErrorResponse? { nil }
    public func mayHideErrorIn200(_ response: ResponseData, operation: AWSModels.Operation) -> Bool { false }
    public func result(_ result: JSONObject, response: ResponseData, operation: AWSModels.Operation) -> JSONObject { result }
}

/// The protocol as the model says it, nothing changed.
public struct NoProtocolCustomization: ProtocolCustomization {
    public init() {}
}
