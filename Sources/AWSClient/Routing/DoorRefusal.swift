import AWSModels
import AWSProtocols
import AWSSigning

/// Why the AWS door refuses a request, answered in the service's own error form with the
/// code AWS uses for it, so that the SDK raises it as AWS's and its retry mode acts on it
/// (a throttle is retried, a bad signature is not).
public enum DoorRefusal: Sendable, Equatable {
    case signature(SigV4Verifier.Failure)
    case chunk(ChunkedPayloadReader.Failure)
    case unknownOperation(RouteFailure)
    /// The team's policy denies it (the message names the rule).
    case denied(String)
    /// Over a rate limit or quota: the SDK waits `retryAfterSeconds` and tries again.
    case throttled(retryAfterSeconds: Int)
    case overloaded(retryAfterSeconds: Int)
    /// The team's credential source yields none (the message names the source).
    case noCredentials(String)

    /// The HTTP answer for `service`.
    public func response(service: ServiceMetadata, requestId: String) -> ResponseData {
        let (status, code, message, retryAfter) = parts(service)
        let extra = retryAfter.map { [("Retry-After", String($0))] } ?? []
        return AWSErrorWriter(service: service).response(status: status, code: code, message: message, requestId: requestId, extraHeaders: extra)
    }

    /// Status, code, message and Retry-After seconds.
    func parts(_ service: ServiceMetadata) -> (Int, String, String, Int?) {
        let s3 = service.signingName == "s3"
        let protocolName = service.resolvedProtocol
        let jsonLike = ["json", "rest-json", "smithy-rpc-v2-cbor"].contains(protocolName)
        switch self {
        case .signature(let failure):
            switch failure {
            case .missingAuthentication: return (403, s3 ? "AccessDenied" : "MissingAuthenticationToken", "Request is missing Authentication Token", nil)
            case .incomplete(let why): return (400, s3 ? "AuthorizationHeaderMalformed" : "IncompleteSignature", why, nil)
            case .unknownKey(let id):
                return (403, s3 ? "InvalidAccessKeyId" : "InvalidClientTokenId", "The AWS Access Key Id \(id) is not one this gateway issued.", nil)
            case .signatureMismatch:
                return (403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", nil)
            case .bodyMismatch: return (400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", nil)
            case .skewed(let why): return (403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large: \(why)", nil)
            case .expired: return (403, "AccessDenied", "Request has expired", nil)
            }
        case .chunk(let failure):
            return failure.isSignatureMismatch ? (403, "SignatureDoesNotMatch", failure.description, nil) : (400, "IncompleteBody", failure.description, nil)
        case .unknownOperation(let failure): return (400, "UnknownOperationException", failure.description, nil)
        case .denied(let why):
            return (403, jsonLike ? "AccessDeniedException" : protocolName == "ec2" ? "UnauthorizedOperation" : "AccessDenied", why, nil)
        case .throttled(let seconds):
            if s3 { return (503, "SlowDown", "Please reduce your request rate.", seconds) }
            if protocolName == "ec2" { return (503, "RequestLimitExceeded", "Request limit exceeded.", seconds) }
            return (400, jsonLike ? "ThrottlingException" : "Throttling", "Rate exceeded", seconds)
        case .overloaded(let seconds): return (503, "ServiceUnavailable", "The gateway is busy; try again shortly.", seconds)
        case .noCredentials(let why): return (500, s3 ? "InternalError" : "InternalFailure", why, nil)
        }
    }
}
