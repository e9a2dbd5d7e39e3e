import AWSJSON
import AWSModels
@testable import AWSProtocols
import Foundation
import Testing
import TestSupport

/// The transcoder (answer bytes → result text) must give byte for byte what the tree
/// reader gives, or leave the answer to it.
@Suite("JSON answers transcoded without a tree")
struct JSONTranscoderTests {
    static let codec = JSONValueCodec(options: CodecOptions())

    /// The transcoder's result written out, or nil when it leaves the answer to the tree.
    static func transcoded(_ body: [UInt8], _ shape: Shape) -> [UInt8]? {
        JSONResultTranscoder.members(of: body, as: shape, codec: codec).map { JSON.object($0).serialized() }
    }

    static func tree(_ body: [UInt8], _ shape: Shape) -> [UInt8]? {
        codec.readBody(body, as: shape).map { $0.serialized() }
    }

    static func model(_ shapes: String) throws -> ServiceModel {
        let text = #"{"metadata":{"protocol":"json","jsonVersion":"1.1","targetPrefix":"T","serviceId":"T","endpointPrefix":"t","apiVersion":"2020-01-01","protocols":["json"]},"operations":{"Op":{"name":"Op","http":{"method":"POST","requestUri":"/"},"output":{"shape":"Out"}}},"shapes":"#
            + shapes + "}"
        return try ServiceModel(name: "t", json: try JSON.parse(text), file: "test")
    }

    static let shapes = #"""
    {"Out":{"type":"structure","members":{"A":{"shape":"Str"},"B":{"shape":"Num"},"C":{"shape":"Inner"},"D":{"shape":"Items"},
      "E":{"shape":"Attrs"},"F":{"shape":"When"},"G":{"shape":"Bytes"},"H":{"shape":"Dbl"},"U":{"shape":"Choice"},"W":{"shape":"Str","locationName":"wire"}}},
     "Inner":{"type":"structure","members":{"X":{"shape":"Str"},"Y":{"shape":"Num"},"Z":{"shape":"Inner"}}},
     "Items":{"type":"list","member":{"shape":"Inner"}},
     "Attrs":{"type":"map","key":{"shape":"Str"},"value":{"shape":"Choice"}},
     "Choice":{"type":"structure","union":true,"members":{"S":{"shape":"Str"},"N":{"shape":"Str"},"L":{"shape":"ChoiceList"}}},
     "ChoiceList":{"type":"list","member":{"shape":"Choice"}},
     "Str":{"type":"string"},"Num":{"type":"integer"},"Dbl":{"type":"double"},"When":{"type":"timestamp"},"Bytes":{"type":"blob"}}
    """#

    @Test("what the tree gives, byte for byte: order, escapes, numbers, nulls, wrong types, timestamps, blobs", arguments: [
        #"{"B":1,"A":"x"}"#,
        #"{"C":{"Z":{"Y":2,"X":"deep"},"Y":1,"X":"a"},"A":"é \u00e9 \n \/ \"q\""}"#,
        #"{"D":[{"Y":3},null,"wrong",{"X":"b","Z":null}],"B":1.50,"H":"NaN"}"#,
        #"{"E":{"k1":{"S":"v"},"k2":null,"k3":{"L":[{"N":"1"},null]},"k4":7},"F":1700000000.5,"G":"aGVsbG8="}"#,
        #"{"wire":"by wire name","W":"not this","Unknown":{"a":[1,2]},"U":{"S":"s"}}"#,
        #"  { "A" : "spaces" , "B" : -0 , "H" : 1e2 , "F" : "2024-01-02T03:04:05Z" }  "#,
        #"{"A":123,"B":"text","C":[1],"D":{},"E":[],"F":null}"#,
        #"{}"#,
    ])
    func sameBytes(_ body: String) throws {
        let service = try Self.model(Self.shapes)
        let shape = try #require(service.operations["Op"]?.output)
        let transcoded = try #require(Self.transcoded(Array(body.utf8), shape), "left to the tree")
        #expect(String(decoding: transcoded, as: UTF8.self) == String(decoding: try #require(Self.tree(Array(body.utf8), shape)), as: UTF8.self))
    }

    @Test("the tree's rules stay the tree's: keys given twice, escaped map keys, a union's unknown member, not JSON", arguments: [
        #"{"A":"1","A":"2"}"#, #"{"A":"1","A":null}"#, #"{"C":{"X":"1","X":null}}"#, #"{"E":{"k":{"S":"1"},"k":{"S":"2"}}}"#,
        #"{"E":{"\u006b":{"S":"1"}}}"#, #"{"U":{"Other":1}}"#, #"[1]"#, #"{"A":"x""#, #"{"A":"x"} trailing"#, "{\"A\":\"\u{1}\"}",
    ])
    func leftToTree(_ body: String) throws {
        let shape = try #require(try Self.model(Self.shapes).operations["Op"]?.output)
        #expect(Self.transcoded(Array(body.utf8), shape) == nil)
    }

    /// Keys are found and compared by their first eight bytes, then the rest: names that
    /// share those eight bytes, or differ only in length, must not be taken for each other.
    static let lookalikeShapes = #"""
    {"Out":{"type":"structure","members":{"Consumed":{"shape":"Str"},"ConsumedCapacity":{"shape":"Str"},"ConsumedCapacitz":{"shape":"Str"},
      "Consume":{"shape":"Str"},"ConsumedCapacityUnits":{"shape":"Str"},"M":{"shape":"Big"}}},
     "Big":{"type":"map","key":{"shape":"Str"},"value":{"shape":"Str"}},
     "Str":{"type":"string"}}
    """#

    @Test("keys alike in their first eight bytes or length are told apart, in structures and in large maps")
    func lookalikeKeys() throws {
        let shape = try #require(try Self.model(Self.lookalikeShapes).operations["Op"]?.output)
        var random = SplitMix(seed: 7)
        let names = ["Consumed", "ConsumedCapacity", "ConsumedCapacitz", "Consume", "ConsumedCapacityUnits", "ConsumedCapacit", "Consumed\u{e9}"]
        for _ in 0..<300 {
            var parts: [String] = []
            for name in names.shuffled(using: &random) where random.chance(60) { parts.append("\"\(name)\":\"\(name.count)\"") }
            // Map keys beyond the count where a set of hashes takes over, alike in their
            // first bytes, sometimes one given twice.
            var keys = (0..<random.below(40)).map { "attribute-\(String(repeating: "x", count: $0 % 5))-\($0)" }
            if !keys.isEmpty, random.chance(30) { keys.insert(keys[random.below(keys.count)], at: random.below(keys.count + 1)) }
            parts.append("\"M\":{" + keys.map { "\"\($0)\":\"v\"" }.joined(separator: ",") + "}")
            let body = Array(("{" + parts.joined(separator: ",") + "}").utf8)
            let hasTwice = Set(keys).count != keys.count
            let transcoded = Self.transcoded(body, shape)
            #expect((transcoded == nil) == hasTwice, "\(String(decoding: body, as: UTF8.self))")
            if let transcoded { #expect(transcoded == Self.tree(body, shape), "\(String(decoding: body, as: UTF8.self))") }
        }
    }

    @Test("strings read eight bytes at a time: a quote, backslash, control or non-UTF-8 byte at every place of every length")
    func stringScan() throws {
        let shape = try #require(try Self.model(Self.shapes).operations["Op"]?.output)
        var checked = 0
        for length in 0..<34 {
            for place in 0..<max(length, 1) {
                for special in [[0x5C, 0x6E], [0x5C, 0x22], [0x01], [0xFF], [0xC3, 0xA9], [0x7F], [0xE6, 0x97, 0xA5]] as [[UInt8]] {
                    var text = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    if length > 0 { text.replaceSubrange(place..<(place + 1), with: special) }
                    let body = Array(#"{"A":""#.utf8) + text + Array(#"","E":{""#.utf8) + text + Array(#"":{"S":"x"}}}"#.utf8)
                    let transcoded = Self.transcoded(body, shape)
                    let valid = (try? JSON.parse(body)) != nil
                    #expect((transcoded != nil) == (valid && !text.contains(0x5C)), "\(length) \(place) \(special)")
                    if let transcoded { #expect(transcoded == Self.tree(body, shape)); checked += 1 }
                }
            }
        }
        #expect(checked > 1500)
    }

    @Test("every json and rest-json output case of botocore's suites: the same bytes as the tree")
    func botocoreSuites() throws {
        var compared = 0
        for name in ["json", "json_1_0", "rest-json"] {
            for c in ProtocolCase.load(protocolName: name, direction: "output").run where c.testCase["error"] == nil {
                let (_, operation) = try c.serviceModel()
                guard let output = operation.output, !output.members.contains(where: { $0.shape.isEventStream }),
                      let text = c.testCase["response"]?["body"]?.stringValue, !text.isEmpty
                else { continue }
                let codec = JSONValueCodec(options: { var o = CodecOptions(); o.blobsAreBase64 = false; o.resultTimestamps = .epochSeconds; return o }())
                guard let transcoded = JSONResultTranscoder.members(of: Array(text.utf8), as: output, codec: codec) else { continue }
                #expect(JSON.object(transcoded).serialized() == codec.readBody(Array(text.utf8), as: output)?.serialized(), "\(c.testDescription)")
                compared += 1
            }
        }
        #expect(compared >= 80, "only \(compared) cases transcoded")
    }

    @Test("2,000 random answers for real output shapes (mangled, reordered, escaped): the same bytes as the tree, or left to it")
    func randomAnswers() throws {
        let store = try ModelStore(root: Fixtures.modelsDir)
        var shapes: [Shape] = []
        for name in ["dynamodb", "lambda", "ecs", "logs", "kms", "secretsmanager", "ssm", "glue", "bedrock-agent", "apigateway"] {
            guard let service = try store.service(name) else { Issue.record("no model \(name)"); continue }
            for operation in service.operationNames.prefix(30) {
                if let output = service.operations[operation]?.output { shapes.append(output) }
            }
        }
        var random = SplitMix(seed: 20_261_130)
        var transcodedCount = 0
        for _ in 0..<2000 {
            let shape = shapes[random.below(shapes.count)]
            var text = ""
            RandomAnswer.write(shape, into: &text, depth: 0, random: &random)
            let body = Array(text.utf8)
            guard let transcoded = Self.transcoded(body, shape) else { continue }
            transcodedCount += 1
            let tree = Self.tree(body, shape)
            #expect(transcoded == tree, "\(shape.name): \(text)")
        }
        #expect(transcodedCount >= 1000, "only \(transcodedCount) transcoded")
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// JSON text for a shape, mostly right, sometimes wrong in the ways answers can be.
enum RandomAnswer {
    static let strings = [#""plain""#, #""é""#, #""a\"b""#, #""\u00e9\n""#, #""\/slash""#, #""""#, #""日本""#]

    static func write(_ shape: Shape, into out: inout String, depth: Int, random: inout SplitMix) {
        if depth > 0, random.chance(3) { out += "null"; return }
        if depth > 0, random.chance(3) { out += ["7", #""str""#, "[1]", #"{"k":1}"#, "true"][random.below(5)]; return }
        switch shape.type {
        case .structure where !shape.isDocument:
            var members = Array(shape.members.indices)
            if random.chance(50) { members.shuffle(using: &random) }
            var parts: [String] = []
            for index in members where random.chance(depth > 4 ? 10 : 70) {
                let member = shape.members[index]
                var key = member.wireName
                if random.chance(2), let first = key.unicodeScalars.first { key = String(format: "\\u%04x", first.value) + key.dropFirst() }
                var value = ""
                write(member.shape, into: &value, depth: depth + 1, random: &random)
                parts.append("\"\(key)\":\(value)")
                if random.chance(2) { parts.append("\"\(key)\":\(value)") }
            }
            if random.chance(5) { parts.append(#""Unmodelled":{"x":[1,"y"]}"#) }
            out += "{" + parts.joined(separator: random.chance(20) ? " , " : ",") + "}"
        case .list:
            out += "["
            for i in 0..<random.below(depth > 4 ? 1 : 4) {
                if i > 0 { out += "," }
                write(shape.listMember!.shape, into: &out, depth: depth + 1, random: &random)
            }
            out += "]"
        case .map:
            out += "{"
            for i in 0..<random.below(depth > 4 ? 1 : 4) {
                if i > 0 { out += "," }
                out += random.chance(3) ? #""\u006bey""# : "\"key\(random.below(4))\""
                out += ":"
                write(shape.mapValue!.shape, into: &out, depth: depth + 1, random: &random)
            }
            out += "}"
        case .integer, .long:
            out += ["0", "-12", "9007199254740993", "1.50", "1e2", "-0"][random.below(6)]
        case .float, .double, .bigdecimal:
            out += ["1.5", #""NaN""#, #""-Infinity""#, "2", "1e300", #""12.5""#, "0.1"][random.below(7)]
        case .boolean:
            out += random.chance(50) ? "true" : "false"
        case .timestamp:
            out += ["1700000000", "1.7e9", #""2024-01-01T00:00:00Z""#, #""not a time""#, "1700000000.123"][random.below(5)]
        case .blob:
            out += [#""aGVsbG8=""#, #""!!""#, #""""#][random.below(3)]
        default:
            out += strings[random.below(strings.count)]
        }
    }
}

extension SplitMix: RandomNumberGenerator {}
