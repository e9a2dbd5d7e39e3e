import AWSJSON
import AWSModels
@testable import AWSProtocols
import Foundation
import Testing
import TestSupport

/// The CBOR transcoder (answer bytes → result text) must give byte for byte what the tree
/// reader gives, or leave the answer to it (and so to its errors).
@Suite("CBOR answers transcoded without a tree")
struct CBORTranscoderTests {
    static func transcoded(_ body: [UInt8], _ shape: Shape, _ codec: RPCv2CBORCodec) -> String? {
        CBORResultTranscoder.members(of: body, as: shape, codec: codec).map { JSON.object($0).serializedString() }
    }

    /// The tree's result; nil when the bytes are not one CBOR item.
    static func tree(_ body: [UInt8], _ shape: Shape, _ codec: RPCv2CBORCodec) -> String? {
        guard let value = try? CBORDecoder.decode(body) else { return nil }
        guard case .object(let result)? = codec.read(value, shape) else { return JSON.object(JSONObject()).serializedString() }
        return JSON.object(result).serializedString()
    }

    static func codec(_ service: ServiceModel, _ operation: AWSModels.Operation) -> RPCv2CBORCodec {
        RPCv2CBORCodec(operation: operation, service: service, options: CodecOptions())
    }

    @Test("every smithy-rpc-v2-cbor output case of botocore's suites: the same bytes as the tree")
    func botocoreSuites() throws {
        var compared = 0
        for name in ["smithy-rpc-v2-cbor", "smithy-rpc-v2-cbor-query-compatible", "smithy-rpc-v2-cbor-non-query-compatible"] {
            for c in ProtocolCase.load(protocolName: name, direction: "output").run where c.testCase["error"] == nil {
                let (service, operation) = try c.serviceModel()
                guard let output = operation.output, let text = c.testCase["response"]?["body"]?.stringValue,
                      let body = Base64.decode(text), !body.isEmpty else { continue }
                let codec = Self.codec(service, operation)
                guard let transcoded = Self.transcoded(body, output, codec) else { continue }
                #expect(transcoded == Self.tree(body, output, codec), "\(c.testDescription)")
                compared += 1
            }
        }
        #expect(compared >= 25, "only \(compared) cases transcoded")
    }

    @Test("3,000 random answers for real output shapes (reordered, wrong types, nulls, tags, indefinite lengths, every width): the same bytes as the tree, or left to it")
    func randomAnswers() throws {
        let store = try ModelStore(root: Fixtures.modelsDir)
        var cases: [(Shape, RPCv2CBORCodec)] = []
        for name in ["cloudwatchomni", "eventbridgev2", "partnercentral-revenue-measurement", "dynamodb", "cloudwatch", "glue", "ecs"] {
            guard let service = try store.service(name) else { Issue.record("no model \(name)"); continue }
            for operationName in service.operationNames.prefix(40) {
                guard let operation = service.operations[operationName], let output = operation.output else { continue }
                cases.append((output, Self.codec(service, operation)))
            }
        }
        var random = SplitMix(seed: 20_261_130)
        var transcodedCount = 0, malformed = 0
        for round in 0..<3000 {
            let (shape, codec) = cases[random.below(cases.count)]
            var writer = RandomCBORAnswer(random: random)
            writer.structure(shape, depth: 0)
            random = writer.random
            var body = writer.bytes
            // Now and then a broken answer: cut short or with a byte changed.
            if round % 10 == 9, !body.isEmpty {
                if random.chance(50) { body.removeLast(1 + random.below(body.count)) } else { body[random.below(body.count)] = UInt8(random.below(256)) }
            }
            let tree = Self.tree(body, shape, codec)
            if tree == nil { malformed += 1 }
            guard let transcoded = Self.transcoded(body, shape, codec) else { continue }
            transcodedCount += 1
            #expect(transcoded == tree, "\(shape.name): \(body.map { String(format: "%02x", $0) }.joined())")
        }
        #expect(transcodedCount >= 2400 && malformed > 0, "\(transcodedCount) transcoded, \(malformed) malformed")
    }
}

/// CBOR for a shape, mostly right, sometimes wrong in the ways answers can be.
struct RandomCBORAnswer {
    var random: SplitMix
    var bytes: [UInt8] = []

    init(random: SplitMix) { self.random = random }

    mutating func head(_ major: UInt8, _ value: UInt64) {
        // Not always the shortest head: decoders must take every width.
        let width = random.chance(10) ? 8 : value < 24 ? 0 : value < 256 ? 1 : value < 65536 ? 2 : value < 1 << 32 ? 4 : 8
        switch width {
        case 0: bytes.append(major << 5 | UInt8(value))
        case 1: bytes += [major << 5 | 24, UInt8(value)]
        default:
            bytes.append(major << 5 | (width == 2 ? 25 : width == 4 ? 26 : 27))
            for shift in stride(from: (width - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
    }

    mutating func text(_ s: String, key: Bool = false) {
        let utf8 = Array(s.utf8)
        // Keys in indefinite lengths are left to the tree: rare in them, rarer still in answers.
        if random.chance(key ? 0 : 3), utf8.count > 1 {
            // An indefinite-length text in two chunks (split on a character boundary).
            let cut = s.index(s.startIndex, offsetBy: s.count / 2)
            bytes.append(0x7F)
            for part in [String(s[..<cut]), String(s[cut...])] {
                head(3, UInt64(part.utf8.count))
                bytes += Array(part.utf8)
            }
            bytes.append(0xFF)
            return
        }
        head(3, UInt64(utf8.count))
        bytes += utf8
    }

    /// A container's head: definite, or indefinite (closed by `close`).
    mutating func open(_ major: UInt8, _ count: Int) -> Bool {
        if random.chance(20) {
            bytes.append(major << 5 | 31)
            return true
        }
        head(major, UInt64(count))
        return false
    }

    mutating func close(_ indefinite: Bool) { if indefinite { bytes.append(0xFF) } }

    mutating func structure(_ shape: Shape, depth: Int) {
        var chosen = shape.members.indices.filter { _ in random.chance(depth > 3 ? 15 : 70) }
        if random.chance(40) { chosen.shuffle(using: &random) }
        var entries: [(String, Shape?)] = chosen.map { (shape.members[$0].name, shape.members[$0].shape) }
        if random.chance(1), let first = entries.first { entries.append(first) }
        if random.chance(5) { entries.append(("Unmodelled", nil)) }
        let indefinite = open(5, entries.count)
        for (name, memberShape) in entries {
            text(name, key: random.chance(97))
            if let memberShape { value(memberShape, depth: depth + 1) } else { head(0, 7) }
        }
        close(indefinite)
    }

    mutating func value(_ shape: Shape, depth: Int) {
        if random.chance(3) { bytes.append(random.chance(50) ? 0xF6 : 0xF7); return }
        if random.chance(3) {
            // The wrong type.
            switch random.below(5) {
            case 0: head(0, 7)
            case 1: text("wrong")
            case 2: bytes += [0x81, 0x01]
            case 3: bytes += [0xA1, 0x61, 0x6B, 0x01]
            default: bytes.append(0xF5)
            }
            return
        }
        switch shape.type {
        case .structure where !shape.isDocument:
            structure(shape, depth: depth)
        case .list:
            let count = random.below(depth > 3 ? 1 : 4)
            let indefinite = open(4, count)
            for _ in 0..<count { value(shape.listMember!.shape, depth: depth + 1) }
            close(indefinite)
        case .map:
            let count = random.below(depth > 3 ? 1 : 4)
            let indefinite = open(5, count)
            for i in 0..<count {
                text(random.chance(5) ? "key0" : "key\(i)", key: true)
                value(shape.mapValue!.shape, depth: depth + 1)
            }
            close(indefinite)
        case .integer, .long, .biginteger:
            switch random.below(4) {
            case 0: head(0, UInt64(random.below(100_000)))
            case 1: head(1, UInt64(random.below(1000)))
            case 2: head(0, UInt64.max)
            default: head(1, UInt64.max)
            }
        case .float, .double, .bigdecimal:
            switch random.below(5) {
            case 0: bytes += [0xF9, 0x3E, 0x00]
            case 1: bytes += [0xFA, 0x3F, 0xC0, 0x00, 0x00]
            case 2: bytes += [0xFB, 0x3F, 0xB9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A]
            case 3: bytes += [0xF9, 0x7E, 0x00]
            default: head(0, 2)
            }
        case .boolean:
            bytes.append(random.chance(50) ? 0xF5 : 0xF4)
        case .timestamp:
            bytes.append(0xC1)
            if random.chance(50) { head(0, 1_700_000_000) } else { bytes += [0xFB, 0x41, 0xD9, 0x54, 0x0B, 0xE6, 0x40, 0x00, 0x00] }
        case .blob:
            if random.chance(20) { bytes += [0x5F, 0x41, 0x61, 0x42, 0x62, 0x63, 0xFF] } else { head(2, 3); bytes += [0, 1, 255] }
        default:
            text(["plain", "é \"q\" \\ \n", "日本", "", "tab\t"][random.below(5)])
        }
    }
}
