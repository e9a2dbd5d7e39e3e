import AWSClient
import AWSJSON
import AWSProtocols
@testable import GatewayCore
import GatewayTesting
import Testing

/// An event-stream answer through the pipeline, read whole (a caller on plain HTTP).
@Suite("Event-stream answers, read whole")
struct EventStreamCallTests {
    static let converse = JSONObject([("modelId", "m"), ("messages", .array([.object(JSONObject([("role", "user"),
        ("content", .array([.object(JSONObject([("text", "hi")]))]))]))]))])

    static let events: [UInt8] = EventStreamFrames.event("messageStart", json: #"{"role":"assistant"}"#)
        + EventStreamFrames.event("contentBlockDelta", json: #"{"contentBlockIndex":0,"delta":{"text":"Hel"}}"#)
        + EventStreamFrames.event("contentBlockDelta", json: #"{"contentBlockIndex":0,"delta":{"text":"lo"}}"#)
        + EventStreamFrames.event("messageStop", json: #"{"stopReason":"end_turn"}"#)

    static func answer(_ body: [UInt8]) -> FakeTransport {
        FakeTransport { _, _ in ResponseData(status: 200, headers: [("Content-Type", "application/vnd.amazon.eventstream"), ("x-amzn-RequestId", "r")], body: body) }
    }

    static func converse(_ aws: FakeTransport) async -> Result<JSONObject, RPCError> {
        await PipelineTests.gateway(aws).perform(GatewayCall(method: "bedrock-runtime.ConverseStream", params: converse), context: CallContext(listener: "test"))
    }

    @Test("ConverseStream: every event, in order, as the stream member's list (members in the model's order, as boto3 gives them)")
    func events() async throws {
        let result = try await Self.converse(Self.answer(Self.events)).get()
        #expect(JSON.object(result).serializedString() == #"{"stream":[{"messageStart":{"role":"assistant"}},"#
                + #"{"contentBlockDelta":{"delta":{"text":"Hel"},"contentBlockIndex":0}},{"contentBlockDelta":{"delta":{"text":"lo"},"contentBlockIndex":0}},"#
                + #"{"messageStop":{"stopReason":"end_turn"}}]}"#)
    }

    @Test("an exception event ends the call with -32010 of its type, and the call is not made again")
    func exceptionEvent() async throws {
        let aws = Self.answer(EventStreamFrames.event("messageStart", json: #"{"role":"assistant"}"#)
                              + EventStreamFrames.exception("throttlingException", json: #"{"message":"slow down"}"#))
        guard case .failure(let error) = await Self.converse(aws) else { Issue.record("answered"); return }
        #expect(error.code == -32010 && error.data?["type"] == "throttlingException" && error.data?["message"] == "slow down")
        #expect(aws.requests.count == 1)
    }

    @Test("a stream with a bad CRC is -32011 naming the checksum; it is not made again")
    func brokenStream() async throws {
        var body = Self.events
        body[body.count - 6] ^= 1
        let aws = Self.answer(body)
        guard case .failure(let error) = await Self.converse(aws) else { Issue.record("answered"); return }
        #expect(error.code == -32011)
        #expect(error.data?["cause"]?.stringValue?.contains("the event stream broke: event stream message checksum mismatch") == true,
                "\(error.data?.serializedString() ?? "")")
        #expect(aws.requests.count == 1)
    }
}
