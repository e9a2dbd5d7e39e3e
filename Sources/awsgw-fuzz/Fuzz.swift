import AWSClient
import AWSCredentials
import AWSJSON
import AWSModels
import AWSProtocols
import AWSSigning
import Foundation
import GatewayCore
import GatewayServer
import GatewayTesting
import RedisClient

/// Fuzz targets over everything that reads outside input. Built two ways:
/// - `make fuzz`: `swift build --sanitize fuzzer -Xswiftc -DFUZZING`, a libFuzzer binary;
///   the target is chosen with `AWSGW_FUZZ_TARGET` (libFuzzer owns the arguments).
/// - a plain build: `awsgw-fuzz TARGET [ITERATIONS] [SEED]`, a seeded mutation loop over
///   the same targets (any crash replays from the printed seed).
enum FuzzTarget: String, CaseIterable {
    case json, envelope, request, response, config, framing, http1, timestamp, xml, cbor, resp, sigv4, route
}

/// What the targets share, made once.
final class FuzzWorld: @unchecked Sendable {
    let engine: AWSEngine
    let operations: [OperationHandle]
    /// Operations whose answers are XML (rest-xml, query, ec2) and CBOR.
    let xmlOperations: [OperationHandle]
    let cborOperations: [OperationHandle]
    let gateway: Gateway
    var limits = GatewayLimits()
    /// The AWS door's router over every model.
    let serviceRouter: ServiceRouter

    init() {
        let models = ProcessInfo.processInfo.environment["AWSGW_MODELS"] ?? "models"
        guard let store = try? ModelStore(root: models) else {
            FileHandle.standardError.write(Data("awsgw-fuzz: no models at \(models) (set AWSGW_MODELS)\n".utf8))
            exit(2)
        }
        engine = AWSEngine(models: store, environment: [:])
        serviceRouter = ServiceRouter(models: store)
        // A spread of operations over services, loaded up front so each input is cheap.
        var handles: [OperationHandle] = []
        for name in ["networkmanager", "iot-managed-integrations", "lambda-core", "iot", "application-signals", "apigateway", "lambda",
                     "glacier", "mediaconvert", "bedrock-agent", "appsync", "ecr-public"] {
            guard let service = try? store.service(name) else { continue }
            for operation in service.operationNames.prefix(40) {
                if let handle = try? engine.operation(name + "." + operation) { handles.append(handle) }
            }
        }
        operations = handles
        var xml: [OperationHandle] = [], cbor: [OperationHandle] = []
        for name in ["s3", "s3control", "route53", "cloudfront", "sts", "iam", "ec2", "eventbridgev2", "cloudwatchomni"] {
            guard let service = try? store.service(name) else { continue }
            for operation in service.operationNames.prefix(60) {
                guard let handle = try? engine.operation(name + "." + operation) else { continue }
                if ["eventbridgev2", "cloudwatchomni"].contains(name) { cbor.append(handle) } else { xml.append(handle) }
            }
        }
        xmlOperations = xml
        cborOperations = cbor
        limits.headerTimeoutSeconds = 1
        limits.idleTimeoutSeconds = 2
        var dependencies = GatewayDependencies(engine: engine, transport: FakeTransport.unreachable("fuzzing: no network"),
                                               credentialSources: ["default": StaticCredentialProvider(Credentials(accessKeyId: "AKID", secretAccessKey: "secret"))])
        dependencies.policy = Policy(teams: [Team(name: "all", members: [.any], allow: [OperationPattern("*:*")!])])
        dependencies.defaultRegion = "us-east-1"
        dependencies.limits = limits
        dependencies.sleep = { _ in }
        gateway = Gateway(dependencies)
    }

    func run(_ target: FuzzTarget, _ bytes: [UInt8]) {
        switch target {
        case .json:
            guard let value = try? JSON.parse(bytes, maxDepth: 128) else { return }
            // What we write, we read back the same.
            let again = try? JSON.parse(value.serialized(), maxDepth: 128)
            if again != value && !containsNaN(value) { fatalError("JSON round trip changed \(value)") }
        case .envelope:
            _ = RPCEnvelope.parse(bytes, limits: limits)
        case .request:
            guard bytes.count >= 2, !operations.isEmpty else { return }
            let handle = operations[(Int(bytes[0]) << 8 | Int(bytes[1])) % operations.count]
            guard case .object(let params)? = try? JSON.parse(Array(bytes[2...]), maxDepth: 64) else { return }
            guard let prepared = try? engine.prepareParams(params, for: handle, newToken: { "t" }) else { return }
            _ = try? engine.buildRequest(handle, params: prepared, region: "us-east-1",
                                          credentials: Credentials(accessKeyId: "AKID", secretAccessKey: "s", sessionToken: "t"),
                                          at: Timestamp(seconds: 1_700_000_000))
        case .response:
            guard bytes.count >= 3, !operations.isEmpty else { return }
            let handle = operations[(Int(bytes[0]) << 8 | Int(bytes[1])) % operations.count]
            let status = [200, 201, 204, 400, 404, 500, 503, 302][Int(bytes[2]) % 8]
            let headers: [(name: String, value: String)] = [("x-amzn-ErrorType", String(decoding: bytes.prefix(12), as: UTF8.self)),
                                                             ("x-amzn-RequestId", "r"), ("Content-Type", "application/json")]
            _ = engine.parseResponse(ResponseData(status: status, headers: headers, body: Array(bytes[3...])), for: handle)
        case .config:
            _ = try? GatewayConfig.parse(String(decoding: bytes, as: UTF8.self), environment: ["CI_SECRET": "x"])
        case .framing:
            guard let connection = try? EmbeddedConnection(gateway: gateway, limits: limits) else { return }
            // Two reads, split where the input says, then a half-close and the clock running.
            let split = bytes.isEmpty ? 0 : Int(bytes[0]) % max(bytes.count, 1)
            connection.receive(Array(bytes.dropFirst().prefix(split)))
            connection.receive(Array(bytes.dropFirst().dropFirst(split)))
            connection.closeInput()
            connection.advance(seconds: 3)
            _ = connection.written()
            connection.finish()
        case .http1:
            // Requests and answers read whole and split where the first byte says: the same.
            guard let first = bytes.first else { return }
            let rest = Array(bytes.dropFirst())
            HTTP1Check.readBothWays(rest, split: Int(first) * rest.count / 256)
        case .xml, .cbor:
            // The decoder alone, then whole answers through the operations' codecs.
            if target == .xml { _ = try? XMLDocument.parse(bytes) } else { _ = try? CBORDecoder.decode(bytes) }
            let handles = target == .xml ? xmlOperations : cborOperations
            guard bytes.count >= 3, !handles.isEmpty else { return }
            let handle = handles[(Int(bytes[0]) << 8 | Int(bytes[1])) % handles.count]
            let status = [200, 200, 200, 400, 404, 500, 301, 206][Int(bytes[2]) % 8]
            let headers: [(name: String, value: String)] = [("x-amz-request-id", "r"), ("x-amz-checksum-crc32", "AAAAAA=="),
                                                             ("Expires", String(decoding: bytes.prefix(8), as: UTF8.self))]
            _ = engine.parseResponse(ResponseData(status: status, headers: headers, body: Array(bytes[3...])), for: handle)
        case .resp:
            // Every reply in the bytes, as a connection reads them; and every prefix must
            // be "not yet" or the same first reply (a reply is never read from part of it).
            let parser = RESPParser()
            var offset = 0
            while offset < bytes.count, let (_, end) = try? parser.parse(bytes, from: offset) { offset = end }
            if let (whole, end) = try? parser.parse(bytes) {
                for cut in stride(from: 0, to: end, by: max(1, end / 8)) {
                    if let (part, _) = try? parser.parse(Array(bytes[..<cut])), part != whole { fatalError("a prefix parsed as another reply") }
                }
            }
        case .sigv4:
            SignatureFuzz.run(bytes)
        case .route:
            // Any request, under a signing name the first byte picks: an operation or a refusal.
            guard let first = bytes.first else { return }
            let names = ["s3", "dynamodb", "bedrock", "rds", "ec2", "lambda", "s3express", "execute-api", "monitoring", "sts"]
            let arrived = SignatureFuzz.request(Array(bytes.dropFirst()))
            let request = IncomingRequest(method: arrived.method, path: arrived.path, query: arrived.query, headers: arrived.headers,
                                          body: Array(bytes.dropFirst()), bucketFromHost: first % 3 == 0 ? "bucket" : nil)
            _ = serviceRouter.route(request, signingName: names[Int(first) % names.count])
        case .timestamp:
            if let t = Timestamp.parse(String(decoding: bytes, as: UTF8.self)) {
                _ = (t.iso8601, t.rfc822, t.amzDate, t.unixJSON)
            }
        }
    }

    private func containsNaN(_ value: JSON) -> Bool {
        switch value {
        case .double(let d): return d.isNaN || d.isInfinite
        case .array(let items): return items.contains(where: containsNaN)
        case .object(let object): return object.contains { containsNaN($0.value) }
        default: return false
        }
    }
}

nonisolated(unsafe) var world: FuzzWorld?
nonisolated(unsafe) var chosenTarget: FuzzTarget = .json

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    if world == nil {
        world = FuzzWorld()
        if let name = ProcessInfo.processInfo.environment["AWSGW_FUZZ_TARGET"] {
            guard let target = FuzzTarget(rawValue: name) else {
                FileHandle.standardError.write(Data("awsgw-fuzz: AWSGW_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue))\n".utf8))
                exit(2)
            }
            chosenTarget = target
        }
    }
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    world!.run(chosenTarget, bytes)
    return 0
}

#if !FUZZING
/// Seed inputs for the mutation loop: small valid examples of each target's input.
let seeds: [FuzzTarget: [String]] = [
    .json: [#"{"a":[1,2.5,-3e10,"x\u00e9\ud83d\ude00",true,null,{}]}"#, "[[[[]]]]", #""\\\"\/\b\f\n\r\t""#, "123456789012345678901234567890"],
    .envelope: [#"{"jsonrpc":"2.0","id":1,"method":"networkmanager.AssociateConnectPeer","params":{"GlobalNetworkId":"g"}}"#,
                #"[{"jsonrpc":"2.0","id":"a","method":"x.Y"},{"jsonrpc":"2.0","method":"x.Y","params":null}]"#],
    .request: ["\0\0" + #"{"GlobalNetworkId":"g","ConnectPeerId":"c","DeviceId":"d","Tags":[{"Key":"k","Value":"v"}]}"#,
               "\0\u{5}" + #"{"startTime":1700000000,"endTime":"2026-11-30T00:00:00Z","maxResults":5}"#],
    .response: ["\0\0\0" + #"{"ConnectPeerAssociation":{"ConnectPeerId":"c","State":"PENDING"}}"#,
                "\0\u{1}\u{3}" + #"{"__type":"com.amazon#ValidationException:http://x","message":"m","fields":[]}"#],
    .config: ["listen: [\"unix:/tmp/x.sock\", \"tcp:127.0.0.1:0\"]\nlimits: { max_body: 64KiB, header_timeout: 5s }\nteams:\n  a:\n    members: [any]\n    allow: [\"*:*\"]\n    rate: { \"*\": \"5/s burst 10\" }\n"],
    .framing: ["\u{20}POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 52\r\n\r\n" + #"{"jsonrpc":"2.0","id":1,"method":"lambda-core.Nope"}"#,
               "\u{8}" + #"{"jsonrpc":"2.0","id":1,"method":"x.Y"}"# + "\n[]\n",
               "\u{10}GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n"],
    .http1: ["\u{60}POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
             "\u{40}HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n"
                 + "HTTP/1.0 200 OK\r\n\r\nuntil the close"],
    .resp: ["+OK\r\n-ERR wrong\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\n1\r\n*1\r\n:0\r\n",
            "*3\r\n:1\r\n$3\r\n0.5\r\n:0\r\n%1\r\n+k\r\n,3.14\r\n_\r\n#t\r\n*-1\r\n"],
    .timestamp: ["2026-11-30T10:00:00.123456Z", "Sun, 06 Nov 1994 08:49:37 GMT", "1700000000.5"],
    .xml: ["\0\0\0<?xml version=\"1.0\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Contents><Key>a&amp;b</Key>"
               + "<Size>1</Size><LastModified>2026-11-20T10:00:00.000Z</LastModified></Contents><IsTruncated>false</IsTruncated></ListBucketResult>",
           "\0\u{3}\u{3}<Error><Code>NoSuchKey</Code><Message>m</Message><![CDATA[x]]></Error>",
           "\0\u{9}\0<ErrorResponse><Error><Type>Sender</Type><Code>C</Code></Error><RequestId>r</RequestId></ErrorResponse>"],
]

/// Binary seeds (CBOR is not text): an answer map with text, integers of several widths,
/// floats, a tag-1 timestamp, a byte string, indefinite-length items and an error.
let binarySeeds: [FuzzTarget: [[UInt8]]] = [
    .cbor: [
        [0, 0, 0, 0xA4, 0x64, 0x4E, 0x61, 0x6D, 0x65, 0x63, 0x61, 0x62, 0x63, 0x63, 0x41, 0x72, 0x6E, 0xC1, 0x1A, 0x65, 0x53, 0xF1, 0x00,
         0x61, 0x78, 0xFB, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0x61, 0x62, 0x5F, 0x41, 0x01, 0x42, 0x02, 0x03, 0xFF],
        [0, 1, 3, 0xBF, 0x66, 0x5F, 0x5F, 0x74, 0x79, 0x70, 0x65, 0x63, 0x61, 0x23, 0x42, 0x67, 0x6D, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65,
         0x7F, 0x61, 0x68, 0x61, 0x69, 0xFF, 0xFF],
        [0, 2, 0, 0x9F, 0x19, 0x01, 0x00, 0x3A, 0x7F, 0xFF, 0xFF, 0xFF, 0xF9, 0x7C, 0x00, 0xF6, 0xF5, 0xFF],
    ],
]

/// Interesting bytes to splice in: structure, numbers at the edges, escapes.
let tokens: [[UInt8]] = ["{", "}", "[", "]", ",", ":", "\"", "\\u", "\\ud800", "1e999", "-", "9223372036854775808", "0.0000001",
                         "null", "true", "\r\n", "\n", "\r\n\r\n", "Transfer-Encoding: chunked\r\n", "Content-Length: 99999999999\r\n",
                         "\u{0}", "\u{FF}", "é", "💥", "  ", "$region", "\"id\":", "HTTP/1.1", "GET ", "POST "].map { Array($0.utf8) }

struct Mutator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    mutating func mutate(_ input: [UInt8], corpus: [[UInt8]]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(4) {
            switch below(7) {
            case 0 where !bytes.isEmpty: bytes[below(bytes.count)] ^= UInt8(1 << below(8))
            case 1 where !bytes.isEmpty: bytes[below(bytes.count)] = UInt8(truncatingIfNeeded: next())
            case 2 where !bytes.isEmpty: bytes.remove(at: below(bytes.count))
            case 3: bytes.insert(contentsOf: tokens[below(tokens.count)], at: below(bytes.count + 1))
            case 4 where bytes.count > 1:
                let start = below(bytes.count)
                bytes.removeSubrange(start..<min(bytes.count, start + below(16) + 1))
            case 5:
                let other = corpus[below(corpus.count)]
                if !other.isEmpty {
                    let from = below(other.count)
                    bytes.insert(contentsOf: other[from..<min(other.count, from + below(32) + 1)], at: below(bytes.count + 1))
                }
            default:
                if !bytes.isEmpty {
                    let at = below(bytes.count)
                    bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + below(8) + 1)], at: below(bytes.count + 1))
                }
            }
        }
        return bytes.count > 8192 ? Array(bytes.prefix(8192)) : bytes
    }
}

@main
struct FuzzMain {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
            print("usage: awsgw-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) [ITERATIONS] [SEED]")
            exit(2)
        }
        let iterations = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000
        let seed = arguments.count > 3 ? UInt64(arguments[3]) ?? 1 : UInt64.random(in: 1...UInt64(UInt32.max))
        print("awsgw-fuzz \(target.rawValue): \(iterations) iterations, seed \(seed)")
        world = FuzzWorld()
        chosenTarget = target
        var corpus = binarySeeds[target] ?? (seeds[target] ?? [""]).map { Array($0.utf8) }
        var mutator = Mutator(state: seed)
        let started = Date()
        for i in 0..<iterations {
            let input = mutator.mutate(corpus[mutator.below(corpus.count)], corpus: corpus)
            input.withUnsafeBufferPointer { _ = fuzzOneInput($0.baseAddress, $0.count) }
            // Keep some mutants as parents, so inputs drift further from the seeds.
            if i % 64 == 0 { corpus.append(input) }
            if corpus.count > 256 { corpus.removeFirst(corpus.count - 256) }
        }
        let seconds = Date().timeIntervalSince(started)
        print("awsgw-fuzz \(target.rawValue): done \(iterations) iterations in \(String(format: "%.1f", seconds)) s, no crash")
    }
}
#endif

/// The AWS door's signature check on any request: verified or refused, never a crash; and
/// whatever the path, query and headers, a request signed by the gateway's own signer
/// verifies (what the one writes, the other reads), and with its signature changed does not.
enum SignatureFuzz {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let verifier = SigV4Verifier { $0 == "AKIDEXAMPLE" ? secret : nil }
    static let now = Timestamp(seconds: 1_765_000_000)

    /// `METHOD TARGET` then `name:value` lines, as the bytes say.
    static func request(_ bytes: [UInt8]) -> SignableRequest {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let first = lines.first.map(String.init) ?? ""
        let target = first.split(separator: " ", maxSplits: 1).dropFirst().first.map(String.init) ?? "/"
        let pathAndQuery = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var request = SignableRequest(method: first.split(separator: " ").first.map(String.init) ?? "GET", path: String(pathAndQuery[0]),
                                      query: pathAndQuery.count > 1 ? String(pathAndQuery[1]) : "", headers: [], body: [])
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            request.headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        return request
    }

    static func run(_ bytes: [UInt8]) {
        let options: (String) -> SigV4Options = { service in
            var options = SigV4Options()
            options.doubleEncodePath = service != "s3"
            options.normalizePath = service != "s3"
            options.unsignedPayload = service == "s3"
            return options
        }
        var arrived = request(bytes)
        _ = verifier.verify(arrived, body: bytes, at: now, options: options)
        // Signed here: names reduced to what a header name may be, values to one line.
        arrived.headers = arrived.headers.compactMap { name, value in
            let cleanName = String(name.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
            guard !cleanName.isEmpty, !["authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"].contains(cleanName) else { return nil }
            return (cleanName, String(value.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }))
        }
        arrived.headers.append(("host", "127.0.0.1:4566"))
        arrived.path = "/" + String(arrived.path.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && $0 != "?" && $0 != "#" })
        arrived.query = String(arrived.query.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F && $0 != "#" })
        let service = bytes.first.map { $0 % 2 == 0 ? "s3" : "dynamodb" } ?? "dynamodb"
        var signed = arrived
        var signing = options(service)
        signing.addContentSHA256Header = service == "s3"  // as S3 requires, and its SDKs send
        SigV4Signer(credentials: Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: secret), region: "us-east-1", service: service,
                    options: signing).sign(&signed, at: now)
        let body: [UInt8] = service == "s3" ? [] : signed.body
        guard case .success = verifier.verify(signed, body: body, at: now, options: options) else {
            fatalError("a request signed by the signer did not verify: \(signed.method) \(signed.path)?\(signed.query) \(signed.headers)")
        }
        if let index = signed.headers.firstIndex(where: { $0.name == "Authorization" }) {
            let value = signed.headers[index].value
            signed.headers[index].value = String(value.dropLast()) + (value.hasSuffix("0") ? "1" : "0")
            if case .success = verifier.verify(signed, body: body, at: now, options: options) { fatalError("a changed signature verified") }
        }
    }
}
