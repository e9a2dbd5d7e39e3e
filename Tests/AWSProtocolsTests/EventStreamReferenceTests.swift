import AWSJSON
import AWSModels
import AWSProtocols
import Foundation
import Testing
import TestSupport

/// botocore 1.44.5's parse of generated event streams, for every operation whose output
/// is one (`scripts/eventstream_reference.py`).
let eventStreamReference = PythonReference.run("eventstream_reference.py")
let eventStreamReferenceAvailable: Bool = (try? eventStreamReference.get()) != nil

@Suite("Event streams against botocore's parse",
       .enabled(if: eventStreamReferenceAvailable || PythonReference.required,
                "python3 cannot run scripts/eventstream_reference.py (needs scripts/setup.sh's botocore): the comparison with botocore is skipped"))
struct EventStreamReferenceTests {
    @Test("every event-stream operation: every event type as boto3 reads it; an exception event is the error; a bad CRC breaks the stream")
    func everyOperation() throws {
        let reference = try eventStreamReference.get()
        #expect(reference["botocore"]?.stringValue == "1.44.5")
        let store = try ModelStore(root: Fixtures.modelsDir)
        var compared: [String: Int] = [:]
        for entry in reference["cases"]?.arrayValue ?? [] {
            let name = "\(entry["service"]?.stringValue ?? "").\(entry["operation"]?.stringValue ?? "") \(entry["case"]?.stringValue ?? "")"
            guard let service = try store.service(entry["service"]?.stringValue ?? ""),
                  let operation = service.operation(named: entry["operation"]?.stringValue ?? ""),
                  let codec = ProtocolCodecs.codec(for: operation, in: service, options: CodecOptions()) else {
                Issue.record("\(name): no codec")
                continue
            }
            let headers = (entry["headers"]?.arrayValue ?? []).compactMap { pair -> (String, String)? in
                guard let items = pair.arrayValue, items.count == 2 else { return nil }
                return (items[0].stringValue ?? "", items[1].stringValue ?? "")
            }
            let body = Base64.decode(entry["body"]?.stringValue ?? "") ?? []
            let parsed = codec.parse(ResponseData(status: Int(entry["status"]?.intValue ?? 200), headers: headers, body: body))
            switch (parsed, entry["result"], entry["error"]) {
            case (.success(let result), let expected?, nil):
                #expect(JSON.object(result) == expected, "\(name): \(JSON.object(result).serializedString()) against \(expected.serializedString())")
            case (.failure(let error), nil, let expected?):
                if entry["case"] == "corrupted" {
                    #expect(error.code == AWSErrorResponse.brokenStreamCode && error.inStream, "\(name): \(error.code)")
                } else {
                    #expect(error.code == expected["code"]?.stringValue && error.message == expected["message"]?.stringValue && error.inStream,
                            "\(name): \(error.code) \(error.message)")
                }
            case (.success(let result), _, let expected?):
                Issue.record("\(name): parsed \(JSON.object(result).serializedString()); botocore failed with \(expected.serializedString())")
            case (.failure(let error), _, _):
                Issue.record("\(name): failed with \(error.code) \(error.message); botocore parsed it")
            case (.success, nil, nil):
                Issue.record("\(name): the reference has neither a result nor an error")
            }
            if let output = codec.eventStreamOutput() {
                checkStreamed(output, status: Int(entry["status"]?.intValue ?? 200), headers: headers, body: body,
                              expected: entry["result"], error: entry["error"], name: name)
            } else {
                Issue.record("\(name): the codec cannot read the stream as it arrives")
            }
            compared[entry["case"]?.stringValue ?? "", default: 0] += 1
        }
        #expect(compared["events", default: 0] >= 24 && compared["exception", default: 0] >= 15 && compared["corrupted", default: 0] >= 24)
    }

    /// The body read as it arrives, cut in pieces of 1, 7, 64, 3 and 500 bytes in turn
    /// (messages split across pieces): the same events, other members or error as botocore.
    func checkStreamed(_ output: EventStreamOutput, status: Int, headers: [(String, String)], body: [UInt8],
                       expected: JSON?, error expectedError: JSON?, name: String) {
        var buffer = EventStreamBuffer()
        var events: [JSON] = []
        var initial: [UInt8]?
        var failure: String?
        var at = 0
        let sizes = [1, 7, 64, 3, 500]
        reading: while at < body.count {
            let size = sizes[events.count % sizes.count]
            buffer.append(Array(body[at..<min(at + size, body.count)]))
            at += size
            do {
                while let message = try buffer.next() {
                    switch output.reader.read(message, status: status, requestId: nil) {
                    case .event(let event): events.append(.object(event))
                    case .initialResponse(let payload): initial = payload
                    case .skipped: continue
                    case .failure(let error):
                        failure = error.code
                        break reading
                    }
                }
            } catch {
                failure = AWSErrorResponse.brokenStreamCode
                break reading
            }
        }
        if failure == nil && buffer.pending > 0 { failure = AWSErrorResponse.brokenStreamCode }
        if let expected = expected?.objectValue {
            var whole = output.result(head: ResponseData(status: status, headers: headers, body: []), initialResponse: initial)
            whole[output.reader.stream.name] = .array(events)
            #expect(failure == nil && JSON.object(whole) == JSON.object(expected.reordered(like: whole)),
                    "\(name), read as it arrives: \(JSON.object(whole).serializedString()) against \(JSON.object(expected).serializedString())")
        } else if let expectedError {
            let code = failure == AWSErrorResponse.brokenStreamCode ? failure : expectedError["code"]?.stringValue
            #expect(failure != nil && failure == code, "\(name), read as it arrives: \(failure ?? "no error")")
        }
    }
}

extension JSONObject {
    /// The same members in `other`'s order (the stream member is set last when read as
    /// it arrives): equality of members, not of their order.
    func reordered(like other: JSONObject) -> JSONObject {
        var out = JSONObject()
        for member in other.members { if let value = self[member.key] { out[member.key] = value } }
        for member in members where out[member.key] == nil { out[member.key] = member.value }
        return out
    }
}
