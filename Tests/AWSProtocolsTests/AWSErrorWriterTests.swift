import AWSJSON
import AWSModels
import AWSProtocols
import Foundation
import Testing
import TestSupport

/// The AWS door's refusals, written in each protocol's own error form: what the codecs
/// (checked against botocore's parsers) read back is the code, message and status given,
/// so an SDK raises the gateway's refusal as it would AWS's.
@Suite("Errors written as AWS writes them")
struct AWSErrorWriterTests {
    static let store = try! ModelStore(root: Fixtures.modelsDir)

    @Test("every protocol: code, message (with characters to escape) and status parse back; a throttle keeps its Retry-After",
          arguments: [("dynamodb", "GetItem"), ("kinesis", "ListStreams"), ("lambda", "ListFunctions"), ("networkmanager", "ListCoreNetworks"),
                      ("sts", "GetCallerIdentity"), ("ec2", "DescribeInstances"), ("s3", "ListBuckets"), ("route53", "ListHostedZones"),
                      ("eventbridgev2", "ListEventBuses"), ("sqs", "ListQueues"), ("cloudfront", "ListDistributions")])
    func roundTrip(_ target: (String, String)) throws {
        let service = try #require(try Self.store.service(target.0))
        let operation = try #require(service.operation(named: target.1))
        let codec = try #require(ProtocolCodecs.codec(for: operation, in: service, options: CodecOptions()))
        let writer = AWSErrorWriter(service: service.metadata)
        for (status, code, message) in [(403, "AccessDeniedException", "team data may not call \(target.0):\(target.1) <rule \"deny\" & more>"),
                                        (400, "ThrottlingException", "Rate exceeded"), (403, "SignatureDoesNotMatch", "")] {
            let response = writer.response(status: status, code: code, message: message, requestId: "gw-1", extraHeaders: [("Retry-After", "2")])
            guard case .failure(let error) = codec.parse(response) else {
                Issue.record("\(target.0): the error parsed as a result")
                continue
            }
            #expect(error.code == code && error.message == message && error.httpStatus == status, "\(target.0) (\(service.metadata.resolvedProtocol)): \(error.code) \(error.message)")
            #expect(error.requestId == "gw-1", "\(target.0): request id \(error.requestId ?? "none")")
            #expect(response.header("Retry-After") == "2" && response.header("Content-Length") == String(response.body.count))
        }
    }
}
