import AWSClient
import AWSJSON
import AWSModels
import AWSProtocols
import AWSSigning
import Foundation
import Testing
import TestSupport

/// Seeded random params for every operation of every served service, validated, built and
/// signed in-process; and random answers parsed. Nothing may trap: a Swift trap here is a
/// crash of every caller's gateway. The seed is printed; `AWSGW_FUZZ_SEED=N swift test
/// --filter ParamsFuzz` replays a run exactly (the cases depend only on the seed).
@Suite("Params fuzz: every operation, hostile values")
struct ParamsFuzzTests {
    static let casesPerOperation = 3

    @Test("random params and answers never crash validation, serialization, signing or parsing")
    func everyOperation() throws {
        let seed = ProcessInfo.processInfo.environment["AWSGW_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64(UInt32.max))
        print("params fuzz: seed \(seed) (replay with AWSGW_FUZZ_SEED=\(seed))")
        let engine = try makeEngine()
        let started = Date()
        var operations = 0, built = 0, refused = 0, parsed = 0
        for serviceName in engine.models.serviceNames {
            guard let service = try engine.models.service(serviceName) else { continue }
            for operationName in service.operationNames {
                let handle: OperationHandle
                do {
                    handle = try engine.operation(serviceName + "." + operationName)
                } catch {
                    continue  // a protocol not served yet
                }
                operations += 1
                var rng = SplitMix64(seed: seed ^ fnv1a(serviceName + "." + operationName))
                for round in 0..<Self.casesPerOperation {
                    var generator = HostileValues(rng: rng, wild: round % 2 == 1)
                    let params = generator.params(for: handle.operation.input)
                    rng = generator.rng
                    do {
                        let prepared = try engine.prepareParams(params, for: handle, newToken: { "token" })
                        _ = try engine.buildRequest(handle, params: prepared, region: "us-east-1", credentials: fuzzKeys, at: frozenTime)
                        built += 1
                    } catch {
                        refused += 1
                    }
                    var answers = HostileValues(rng: rng, wild: round % 2 == 1)
                    let response = answers.response(for: handle.operation.output)
                    rng = answers.rng
                    _ = engine.parseResponse(response, for: handle)
                    parsed += 1
                }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        print("params fuzz: \(operations) operations, \(built) built, \(refused) refused with an error, \(parsed) answers parsed in \(String(format: "%.1f", seconds)) s")
        #expect(operations > 15000)
        #expect(built > 0 && refused > 0)
    }

    @Test("values beyond the representable refuse with a path, not a trap",
          arguments: [
            (#"{"startTime":1e19}"#, "iot.ListAuditFindings", "$.startTime"),
            (#"{"StartTime":1.23e29,"EndTime":0,"KeyAttributes":{"a":"b"}}"#, "application-signals.ListEntityEvents", "$.StartTime"),
            (#"{"startTime":-9223372036854775808}"#, "iot.ListAuditFindings", "$.startTime"),
            (#"{"startTime":"Sun, 06 Nov 99999999999999 08:49:37 GMT"}"#, "iot.ListAuditFindings", "$.startTime"),
            (#"{"startTime":"0000-01-01T00:00:00Z"}"#, "iot.ListAuditFindings", "$.startTime"),
          ])
    func outOfRange(_ c: (String, String, String)) throws {
        let engine = try makeEngine()
        let handle = try engine.operation(c.1)
        guard case .object(let params) = try JSON.parse(c.0) else { Issue.record("not an object"); return }
        let problems = validationProblems { _ = try engine.prepareParams(params, for: handle) }
        #expect(problems.contains { $0.path == c.2 }, "\(problems)")
    }

    @Test("a member given twice is refused with its path")
    func duplicateMembers() throws {
        let engine = try makeEngine()
        let handle = try engine.operation("networkmanager.AssociateConnectPeer")
        guard case .object(let params) = try JSON.parse(
            #"{"GlobalNetworkId":"g","ConnectPeerId":"c","DeviceId":"d","DeviceId":"../../x"}"#) else { return }
        let problems = validationProblems { _ = try engine.prepareParams(params, for: handle) }
        #expect(problems.map(\.path) == ["$.DeviceId"])
    }
}

/// The validation problems a call throws (none if it succeeds or fails otherwise).
func validationProblems(_ body: () throws -> Void) -> [ValidationProblem] {
    do {
        try body()
    } catch {
        if let clientError = error as? ClientError, case .invalidParams(let problems) = clientError { return problems }
    }
    return []
}

let fuzzKeys = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token")

func fnv1a(_ s: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in s.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return hash
}

/// A small, fast, seedable generator (the same sequence on every platform).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Values that fit a shape's type but sit at every edge, or (`wild`) any JSON at all.
struct HostileValues {
    var rng: SplitMix64
    let wild: Bool

    static let numbers: [JSON] = [
        .int(0), .int(-1), .int(Int64.max), .int(Int64.min), .double(1e19), .double(-1e19), .double(1.23e29), .double(1e308),
        .double(-1e308), .double(.leastNonzeroMagnitude), .double(-0.0), .double(0.5), .double(1e-7), .double(.greatestFiniteMagnitude),
        .double(9.2e18), .double(-9.3e18), .int(253_402_300_800), .int(-62_135_596_801), .int(2_147_483_648), .double(.infinity),
    ]
    static let strings: [String] = [
        "", " ", "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "9999-12-31T23:59:59Z", "0000-01-01", "99999999999999999999",
        "é日本🎉", "\u{0}", "../../x", "a/b?c#d%", "%zz", "true", "-0", "2026-13-45T99:99:99Z", "Sun, 99 Foo 99999 99:99:99 GMT",
        "Sun, 06 Nov 1994 99:99:99 GMT", "1e19", "+1", "\u{FEFF}", "\\", "\"", "arn:aws:s3:::b", "arn:::::", "arn:aws:x:y:z:a/b:c",
        "2026-11-20T10:00:00.123456789+23:59", "-62135596801", "253402300800", "1.5e10", "AAAA", "====", "not base64!",
        String(repeating: "x", count: 10_000), String(repeating: "é", count: 3000), "a.b.c", "-", "..", "\u{D7FF}\u{E000}",
        "http://[::1]:80/", "https://127.0.0.1:99999/x", "https://٣.٣.٣.٣/",
    ]

    mutating func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }

    mutating func anyJSON(depth: Int) -> JSON {
        switch rng.next() % (depth > 4 ? 5 : 8) {
        case 0: return .null
        case 1: return .bool(chance(50))
        case 2: return pick(Self.numbers)
        case 3, 4: return .string(pick(Self.strings))
        case 5:
            return .array((0..<Int(rng.next() % 4)).map { _ in anyJSON(depth: depth + 1) })
        case 6:
            var object = JSONObject()
            for _ in 0..<Int(rng.next() % 4) { object.append(pick(["a", "Key", "Value", "$x", "Name", "a"]), anyJSON(depth: depth + 1)) }
            return .object(object)
        default:
            // Deep nesting, under the gateway's depth limit.
            var value: JSON = .int(1)
            for _ in 0..<60 { value = chance(50) ? .array([value]) : .object(JSONObject([("d", value)])) }
            return value
        }
    }

    mutating func params(for shape: Shape?) -> JSONObject {
        guard let shape else { return chance(50) ? JSONObject() : JSONObject([("Unexpected", anyJSON(depth: 0))]) }
        if case .object(let object) = value(for: shape, depth: 0) { return object }
        return JSONObject()
    }

    mutating func value(for shape: Shape, depth: Int) -> JSON {
        if wild && chance(15) { return anyJSON(depth: depth) }
        if depth > 6 { return .null }
        if shape.isDocument { return anyJSON(depth: depth) }
        switch shape.type {
        case .structure:
            var object = JSONObject()
            for member in shape.members where shape.isRequired(member.name) || chance(60) {
                let v = value(for: member.shape, depth: depth + 1)
                if case .null = v, !wild { continue }
                object.append(member.name, v)
            }
            if chance(5), let first = shape.members.first { object.append(first.name, value(for: first.shape, depth: depth + 1)) }
            return .object(object)
        case .list:
            guard let member = shape.listMember else { return .array([]) }
            return .array((0..<Int(rng.next() % 3)).map { _ in value(for: member.shape, depth: depth + 1) })
        case .map:
            guard let valueMember = shape.mapValue else { return .object(JSONObject()) }
            var object = JSONObject()
            for _ in 0..<Int(rng.next() % 3) { object.append(pick(Self.strings), value(for: valueMember.shape, depth: depth + 1)) }
            return .object(object)
        case .string, .character:
            if let values = shape.enumValues, !values.isEmpty, chance(50) { return .string(pick(values)) }
            return .string(pick(Self.strings))
        case .integer, .long, .biginteger, .float, .double, .bigdecimal:
            return chance(80) ? pick(Self.numbers) : .string(pick(Self.strings))
        case .boolean:
            return .bool(chance(50))
        case .timestamp:
            return chance(60) ? pick(Self.numbers) : .string(pick(Self.strings))
        case .blob:
            return .string(pick(["", "AAAA", "aGVsbG8=", "aGVsbG8", "====", "é", String(repeating: "QUJD", count: 5000)]))
        }
    }

    /// An answer for an operation: a status, headers and a body made from the output shape
    /// (or garbage).
    mutating func response(for output: Shape?) -> ResponseData {
        let status = pick([200, 200, 200, 201, 204, 400, 403, 404, 500, 503, 302, 0, 999])
        var headers: [(name: String, value: String)] = [("x-amzn-RequestId", "r")]
        if let output {
            for member in output.members where member.location == .header || member.location == .headers || member.location == .statusCode {
                headers.append((member.locationName ?? member.name, pick(Self.strings)))
            }
        }
        if status >= 400 { headers.append(("x-amzn-ErrorType", pick(["ValidationException", "", ":", "a#b:c", "🎉"]))) }
        let body: [UInt8]
        switch rng.next() % 5 {
        case 0: body = []
        case 1: body = Array(pick(["{", "<html>503</html>", "null", "[]", "{\"__type\":5}", "\"x\"", "{\"message\":{}}"]).utf8)
        default:
            let value = output.map { self.value(for: $0, depth: 0) } ?? anyJSON(depth: 0)
            body = value.serialized()
        }
        return ResponseData(status: status, headers: headers, body: body)
    }
}
