import AWSClient
import AWSModels
import AWSProtocols
import AWSSigning
import Foundation
import Testing
import TestSupport

/// The door's refusals as an SDK sees them: parsed by the service's own codec (botocore's
/// parsing) into the code AWS uses, and classified by the standard retry mode as AWS's
/// would be: throttles and overload retried, signature and policy refusals not.
@Suite("The AWS door's refusals, as SDKs read them")
struct DoorRefusalTests {
    static let store = try! ModelStore(root: Fixtures.modelsDir)

    @Test("each refusal on each protocol: the code and retry behaviour AWS's gives",
          arguments: [("dynamodb", "GetItem"), ("lambda", "ListFunctions"), ("sts", "GetCallerIdentity"), ("ec2", "DescribeInstances"),
                      ("s3", "ListBuckets"), ("route53", "ListHostedZones"), ("eventbridgev2", "ListEventBuses")])
    func refusals(_ target: (String, String)) throws {
        let service = try #require(try Self.store.service(target.0))
        let operation = try #require(service.operation(named: target.1))
        let codec = try #require(ProtocolCodecs.codec(for: operation, in: service, options: CodecOptions()))
        let s3 = target.0 == "s3"
        let cases: [(DoorRefusal, String, FailureKind)] = [
            (.signature(.unknownKey("AKGWNOPE00000000")), s3 ? "InvalidAccessKeyId" : "InvalidClientTokenId", .permanent),
            (.signature(.signatureMismatch), "SignatureDoesNotMatch", .permanent),
            (.signature(.skewed("900 s")), "RequestTimeTooSkewed", .permanent),
            (.denied("teams.data: deny s3:DeleteObject"), ["dynamodb", "lambda", "eventbridgev2"].contains(target.0) ? "AccessDeniedException"
                : target.0 == "ec2" ? "UnauthorizedOperation" : "AccessDenied", .permanent),
            (.throttled(retryAfterSeconds: 2), s3 ? "SlowDown" : target.0 == "ec2" ? "RequestLimitExceeded"
                : ["sts", "route53"].contains(target.0) ? "Throttling" : "ThrottlingException", .throttling),
            (.overloaded(retryAfterSeconds: 1), "ServiceUnavailable", .transient),
            (.unknownOperation(RouteFailure("GET /nope matches no operation")), "UnknownOperationException", .permanent),
        ]
        for (refusal, code, kind) in cases {
            let response = refusal.response(service: service.metadata, requestId: "gw-7")
            guard case .failure(let error) = codec.parse(response) else {
                Issue.record("\(target.0): \(refusal) parsed as a result")
                continue
            }
            #expect(error.code == code, "\(target.0): \(refusal) gave \(error.code)")
            #expect(RetryClassifier.classify(error) == kind, "\(target.0): \(code) is retried as \(RetryClassifier.classify(error))")
        }
    }
}
