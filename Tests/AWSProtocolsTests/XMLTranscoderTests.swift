import AWSJSON
import AWSModels
@testable import AWSProtocols
import Foundation
import Testing
import TestSupport

/// The XML transcoder (element table → result text) must give byte for byte what the
/// tree reader gives, or leave the answer to it.
@Suite("XML answers transcoded without a tree")
struct XMLTranscoderTests {
    static let codec = JSONValueCodec(options: CodecOptions())

    /// The transcoder's result written out, or nil when it leaves the answer to the tree.
    static func transcoded(_ body: [UInt8], _ shape: Shape, codec: JSONValueCodec = codec) -> [UInt8]? {
        guard let table = try? XMLElementTable.parse(body) else { return nil }
        return XMLResultTranscoder.members(of: table, element: 0, as: shape, results: codec.results).map { JSON.object($0).serialized() }
    }

    static func tree(_ body: [UInt8], _ shape: Shape, codec: JSONValueCodec = codec) -> [UInt8]? {
        guard let root = try? XMLDocument.parse(body) else { return nil }
        return XMLValueReader(results: codec.results).parseStructure(root, shape).map { JSON.object($0).serialized() }
    }

    static func model(_ shapes: String) throws -> ServiceModel {
        let text = #"{"metadata":{"protocol":"query","serviceId":"T","endpointPrefix":"t","apiVersion":"2020-01-01","protocols":["query"]},"operations":{"Op":{"name":"Op","http":{"method":"POST","requestUri":"/"},"output":{"shape":"Out"}}},"shapes":"#
            + shapes + "}"
        return try ServiceModel(name: "t", json: try JSON.parse(text), file: "test")
    }

    static let shapes = #"""
    {"Out":{"type":"structure","members":{"A":{"shape":"Str"},"B":{"shape":"Num"},"C":{"shape":"Inner"},"D":{"shape":"Items"},
      "E":{"shape":"Attrs"},"F":{"shape":"When"},"G":{"shape":"Bytes"},"H":{"shape":"Dbl"},"I":{"shape":"Flag"},
      "J":{"shape":"FlatItems","flattened":true},"K":{"shape":"FlatAttrs","flattened":true,"locationName":"Kv"},
      "L":{"shape":"Str","xmlAttribute":true,"locationName":"xsi:type"},"U":{"shape":"Choice"},"W":{"shape":"Str","locationName":"wire"},
      "N":{"shape":"NamedItems"}}},
     "Inner":{"type":"structure","members":{"X":{"shape":"Str"},"Y":{"shape":"Num"},"Z":{"shape":"Inner"}}},
     "Items":{"type":"list","member":{"shape":"Inner"}},
     "NamedItems":{"type":"list","member":{"shape":"Str","locationName":"item"}},
     "FlatItems":{"type":"list","member":{"shape":"Str"}},
     "Attrs":{"type":"map","key":{"shape":"Str"},"value":{"shape":"Inner"}},
     "FlatAttrs":{"type":"map","key":{"shape":"Str","locationName":"Name"},"value":{"shape":"Str","locationName":"Value"}},
     "Choice":{"type":"structure","union":true,"members":{"S":{"shape":"Str"},"M":{"shape":"Num"}}},
     "Str":{"type":"string"},"Num":{"type":"integer"},"Dbl":{"type":"double"},"When":{"type":"timestamp"},"Bytes":{"type":"blob"},
     "Flag":{"type":"boolean"}}
    """#

    @Test("what the tree gives, byte for byte: order, entities, CDATA, lists, maps, flattened members, attributes, wrong types", arguments: [
        "<Out><B>1</B><A>x</A></Out>",
        "<Out xmlns=\"urn:x\"><ns:C xmlns:ns=\"urn:y\"><Z><Y> 2 </Y><X>deep</X></Z><Y>1</Y><X>a</X></ns:C><A>&#233; &amp; &lt;b&gt; &#x65E5; \"q\" \\</A></Out>",
        "<Out><D><member><Y>3</Y></member><member/><member>text</member><member><X>b</X><X>ignored</X></member></D><H>1.50</H><H>2</H></Out>",
        "<Out><E><entry><key>k1</key><value><X>v</X></value></entry><entry><value><X>no key</X></value></entry><entry><key>k2</key></entry></E></Out>",
        "<Out><J>one</J><A>between</A><J>two</J><Kv><Name>a</Name><Value>1</Value></Kv><J><![CDATA[th<r>ee]]></J><Kv><Name>b</Name></Kv></Out>",
        "<Out xsi:type=\"Kind\"><F>2024-01-02T03:04:05Z</F><G>aGVsbG8=</G><I>true</I><wire>by wire</wire><W>not this</W></Out>",
        "<Out><F>1700000000</F><F>not a time</F><G>!!</G><I>True</I><B>x</B><B>99999999999999999999</B><H>NaN</H><U><S>s</S></U></Out>",
        "<Out><N><item>a</item><item></item><other>b</other></N><A>  spaced \n text  </A><!-- c --><Unknown><A>no</A></Unknown></Out>",
        "<Out><A>before<!-- comment -->after<X>child</X>tail</A><C>text first<X>then child</X></C><U><__type>t</__type><M>4</M></U></Out>",
        "<Out><A>\u{65E5}\u{672C} \u{1F600}</A><A>second</A><D/><E/><B/><H>1e2</H><I/></Out>",
        "<Out/>",
    ])
    func sameBytes(_ body: String) throws {
        let shape = try #require(try Self.model(Self.shapes).operations["Op"]?.output)
        let transcoded = try #require(Self.transcoded(Array(body.utf8), shape), "left to the tree")
        #expect(String(decoding: transcoded, as: UTF8.self) == String(decoding: try #require(Self.tree(Array(body.utf8), shape)), as: UTF8.self))
    }

    @Test("the tree's rules stay the tree's: a map key given twice, a union's unknown member", arguments: [
        "<Out><E><entry><key>k</key><value><X>1</X></value></entry><entry><key>k</key><value><X>2</X></value></entry></E></Out>",
        "<Out><Kv><Name>a</Name><Value>1</Value></Kv><Kv><Name>a</Name><Value>2</Value></Kv></Out>",
        "<Out><U><Other>1</Other></U></Out>",
    ])
    func leftToTree(_ body: String) throws {
        let shape = try #require(try Self.model(Self.shapes).operations["Op"]?.output)
        #expect(Self.transcoded(Array(body.utf8), shape) == nil)
        #expect(Self.tree(Array(body.utf8), shape) != nil)
    }

    @Test("members read from one element name are each filled: a flattened list gets every element, a scalar the first")
    func sharedElementName() throws {
        // S3's NotificationConfigurationDeprecated: `Event` (deprecated) and `Events`
        // (flattened, locationName Event) both read <Event>; boto3 fills both.
        let model = try Self.model(#"""
        {"Out":{"type":"structure","members":{"Id":{"shape":"Str"},"Events":{"shape":"Names","locationName":"Event"},"Event":{"shape":"Str"}}},
         "Names":{"type":"list","member":{"shape":"Str"},"flattened":true},"Str":{"type":"string"}}
        """#)
        let shape = try #require(model.operations["Op"]?.output)
        for (body, expected) in [
            ("<Out><Id>t</Id><Event>a</Event></Out>", #"{"Id":"t","Events":["a"],"Event":"a"}"#),
            ("<Out><Event>a</Event><Id>t</Id><Event>b</Event></Out>", #"{"Id":"t","Events":["a","b"],"Event":"a"}"#),
        ] {
            #expect(String(decoding: try #require(Self.transcoded(Array(body.utf8), shape)), as: UTF8.self) == expected)
            #expect(String(decoding: try #require(Self.tree(Array(body.utf8), shape)), as: UTF8.self) == expected)
        }
    }

    @Test("the element table keeps what the tree keeps: text before the first child, attributes, local names")
    func table() throws {
        let body = Array("<?xml version=\"1.0\"?><a:Root xmlns:a=\"u\" k=\"v &amp; w\">lead<!--x--> on<b>in</b>tail<c/></a:Root>".utf8)
        let table = try XMLElementTable.parse(body)
        #expect(table.nameString(0) == "Root" && table.textString(0) == "lead on")
        #expect(table.attribute(of: 0, named: "k") == "v & w" && table.attribute(of: 0, named: "xmlns:a") == "u")
        let b = table.firstChild(of: 0, named: "b"), c = table.firstChild(of: 0, named: "c")
        #expect(table.textString(b) == "in" && c >= 0 && table.firstChild(of: 0, named: "tail") < 0)
        let tree = table.tree()
        #expect(tree.name == "Root" && tree.text == "lead on" && tree.children.map(\.name) == ["b", "c"] && tree.attribute("k") == "v & w")
    }

    @Test("every query, ec2 and rest-xml output case of botocore's suites: the same bytes as the tree")
    func botocoreSuites() throws {
        var options = CodecOptions()
        options.blobsAreBase64 = false
        options.resultTimestamps = .epochSeconds
        let codec = JSONValueCodec(options: options)
        var compared = 0
        for name in ["query", "ec2", "rest-xml"] {
            for c in ProtocolCase.load(protocolName: name, direction: "output").run where c.testCase["error"] == nil {
                let (service, operation) = try c.serviceModel()
                _ = service
                guard let output = operation.output, !output.members.contains(where: { $0.shape.isEventStream }),
                      let text = c.testCase["response"]?["body"]?.stringValue, !text.trimmingCharacters(in: .whitespaces).isEmpty,
                      let table = try? XMLElementTable.parse(Array(text.utf8))
                else { continue }
                // Query results sit under their wrapper element; the others at the root.
                var start = 0
                if name == "query", let wrapper = operation.outputResultWrapper {
                    start = table.firstChild(of: 0, named: wrapper)
                    guard start >= 0 else { continue }
                }
                guard let transcoded = XMLResultTranscoder.members(of: table, element: start, as: output, results: codec.results) else { continue }
                let tree = XMLValueReader(results: codec.results).parseStructure(table.tree(at: start), output)
                #expect(JSON.object(transcoded).serializedString() == tree.map { JSON.object($0).serializedString() }, "\(c.testDescription)")
                compared += 1
            }
        }
        #expect(compared >= 120, "only \(compared) cases transcoded")
    }

    @Test("3,000 random answers for real output shapes (mangled, reordered, entities, namespaces): the same bytes as the tree, or left to it")
    func randomAnswers() throws {
        let store = try ModelStore(root: Fixtures.modelsDir)
        var shapes: [Shape] = []
        for name in ["ec2", "sts", "iam", "sns", "cloudformation", "rds", "elasticache", "s3", "route53", "cloudfront"] {
            guard let service = try store.service(name) else { Issue.record("no model \(name)"); continue }
            for operation in service.operationNames.prefix(40) {
                if let output = service.operations[operation]?.output { shapes.append(output) }
            }
        }
        var random = SplitMix(seed: 20_261_130)
        var transcodedCount = 0
        for _ in 0..<3000 {
            let shape = shapes[random.below(shapes.count)]
            var text = "<Root>"
            RandomXMLAnswer.members(of: shape, into: &text, depth: 0, random: &random)
            text += "</Root>"
            let body = Array(text.utf8)
            guard let transcoded = Self.transcoded(body, shape) else { continue }
            transcodedCount += 1
            #expect(transcoded == Self.tree(body, shape), "\(shape.name): \(text)")
        }
        #expect(transcodedCount >= 2500, "only \(transcodedCount) transcoded")
    }
}

/// XML for a shape, mostly right, sometimes wrong in the ways answers can be.
enum RandomXMLAnswer {
    static let strings = ["plain", "a &amp; b", "&#233;t&#xE9;", "<![CDATA[x<y]]>", "  spaced  ", "日本", "", "q&quot;&apos;", "tab\there"]

    static func members(of shape: Shape, into out: inout String, depth: Int, random: inout SplitMix) {
        var members = Array(shape.members.indices)
        if random.chance(40) { members.shuffle(using: &random) }
        for index in members where random.chance(depth > 3 ? 15 : 70) {
            let member = shape.members[index]
            guard member.isXMLBodyMember, !member.xmlAttribute else { continue }
            let times = random.chance(4) ? 2 : 1
            for _ in 0..<times { self.member(member, into: &out, depth: depth, random: &random) }
        }
        if random.chance(5) { out += "<Unmodelled><A>1</A></Unmodelled>" }
        if random.chance(5) { out += "<!-- a comment -->" }
    }

    static func member(_ member: Member, into out: inout String, depth: Int, random: inout SplitMix) {
        let name = (random.chance(3) ? "ns:" : "") + member.xmlElementName
        let shape = member.shape
        if member.flattened, shape.type == .list, let item = shape.listMember {
            for _ in 0..<random.below(4) { element(name, item.shape, into: &out, depth: depth + 1, random: &random) }
            return
        }
        if member.flattened, shape.type == .map, let key = shape.mapKey, let value = shape.mapValue {
            for _ in 0..<random.below(4) {
                out += "<\(name)>"
                entry(key: key, value: value, into: &out, depth: depth, random: &random)
                out += "</\(name)>"
            }
            return
        }
        element(name, shape, into: &out, depth: depth + 1, random: &random)
    }

    static func entry(key: Member, value: Member, into out: inout String, depth: Int, random: inout SplitMix) {
        let keyName = key.locationName ?? "key", valueName = value.locationName ?? "value"
        if !random.chance(5) { out += "<\(keyName)>k\(random.below(6))</\(keyName)>" }
        if !random.chance(5) { element(valueName, value.shape, into: &out, depth: depth + 1, random: &random) }
    }

    static func element(_ name: String, _ shape: Shape, into out: inout String, depth: Int, random: inout SplitMix) {
        if random.chance(3) { out += "<\(name)/>"; return }
        out += "<\(name)>"
        if random.chance(3) {
            out += ["7", "text", "<member>x</member>", "<Other/>"][random.below(4)]
        } else {
            switch shape.type {
            case .structure:
                members(of: shape, into: &out, depth: depth, random: &random)
            case .list:
                let item = shape.listMember!
                let itemName = item.locationName ?? "member"
                for _ in 0..<random.below(depth > 3 ? 1 : 4) { element(itemName, item.shape, into: &out, depth: depth + 1, random: &random) }
            case .map:
                for _ in 0..<random.below(depth > 3 ? 1 : 4) {
                    out += "<entry>"
                    entry(key: shape.mapKey!, value: shape.mapValue!, into: &out, depth: depth, random: &random)
                    out += "</entry>"
                }
            case .integer, .long, .biginteger:
                out += ["0", "-12", " 42 ", "1.5", "x", "99999999999999999999"][random.below(6)]
            case .float, .double, .bigdecimal:
                out += ["1.5", "NaN", "-Infinity", "2", "1e300", " 12.5 ", "0.1", "bad"][random.below(8)]
            case .boolean:
                out += ["true", "false", "True", ""][random.below(4)]
            case .timestamp:
                out += ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123Z", "1700000000", "bad", "Tue, 29 Apr 2014 18:30:38 GMT"][random.below(5)]
            case .blob:
                out += ["aGVsbG8=", "!!", "", " aGk= "][random.below(4)]
            default:
                out += strings[random.below(strings.count)]
            }
        }
        out += "</\(name)>"
    }
}
