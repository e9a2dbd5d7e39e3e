import AWSJSON
import AWSModels
import Foundation
import Testing
import TestSupport

@Suite("Model loading")
struct ModelStoreTests {
    @Test("loads a service lazily, once")
    func lazyLoad() throws {
        let store = try ModelStore(root: Fixtures.modelsDir)
        #expect(store.serviceNames.contains("networkmanager"))
        let first = try #require(try store.service("networkmanager"))
        let second = try #require(try store.service("NetworkManager"))
        #expect(first === second)
        #expect(first.metadata.protocolName == "rest-json")
        #expect(first.operation(named: "associate_connect_peer")?.name == "AssociateConnectPeer")
    }

    @Test("every serviceId (spaces removed) resolves to its folder")
    func everyServiceId() throws {
        let store = try ModelStore(root: Fixtures.modelsDir)
        var checked = 0
        for service in store.serviceNames {
            let dir = try store.latestVersionDirectory(service)
            guard let text = try? Fixtures.readText(dir + "/service-2.json"),
                  let range = text.range(of: "\"serviceId\":\"") ?? text.range(of: "\"serviceId\": \"") else { continue }
            let serviceId = String(text[range.upperBound...].prefix(while: { $0 != "\"" }))
            // Two folders may share a serviceId (sms-voice, pinpoint-sms-voice): either is right.
            for spelling in [serviceId.replacingOccurrences(of: " ", with: ""), serviceId.replacingOccurrences(of: " ", with: "").uppercased()] {
                let resolved = try #require(store.canonicalServiceName(spelling), "\(serviceId)")
                #expect(try store.service(resolved)?.metadata.serviceId == serviceId, "\(serviceId)")
            }
            checked += 1
        }
        #expect(checked >= 400)
    }

    @Test("every model of the pinned release loads")
    func everyModelLoads() throws {
        let store = try ModelStore(root: Fixtures.modelsDir)
        for service in store.serviceNames {
            let model = try store.service(service)
            #expect(model?.operations.isEmpty == false, "\(service)")
        }
    }

    @Test("gzip models load the same as plain ones")
    func gzip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-models-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try ModelStore(root: Fixtures.modelsDir).latestVersionDirectory("networkmanager")
        let target = dir + "/networkmanager/2019-07-05"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for file in ["service-2.json", "endpoint-rule-set-1.json"] {
            let gzip = Process()
            gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
            gzip.arguments = ["-c", "gzip -c '\(source)/\(file)' > '\(target)/\(file).gz'"]
            try gzip.run()
            gzip.waitUntilExit()
        }
        let store = try ModelStore(root: dir)
        let model = try #require(try store.service("networkmanager"))
        let plain = try #require(try ModelStore(root: Fixtures.modelsDir).service("networkmanager"))
        #expect(model.operationNames == plain.operationNames)
        #expect(try store.endpointRuleSet("networkmanager")["version"] == "1.0")
    }

    @Test("a corrupt or missing model file is an error naming the file")
    func badFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-bad-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/broken/2020-01-01", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/gzbroken/2020-01-01", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/empty/2020-01-01", withIntermediateDirectories: true)
        try Data("{\"metadata\": {".utf8).write(to: URL(fileURLWithPath: dir + "/broken/2020-01-01/service-2.json"))
        try Data([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]).write(to: URL(fileURLWithPath: dir + "/gzbroken/2020-01-01/service-2.json.gz"))
        let store = try ModelStore(root: dir)
        #expect {
            _ = try store.service("broken")
        } throws: { error in
            "\(error)".contains(dir + "/broken/2020-01-01/service-2.json")
        }
        #expect {
            _ = try store.service("gzbroken")
        } throws: { error in
            "\(error)".contains("service-2.json.gz")
        }
        #expect {
            _ = try store.service("empty")
        } throws: { error in
            "\(error)".contains(dir + "/empty")
        }
        #expect(try store.service("nonexistent") == nil)
        #expect(throws: ModelError.self) { try ModelStore(root: dir + "/nope") }
    }

    @Test("suggestions for misspelt names")
    func suggestions() throws {
        let store = try ModelStore(root: Fixtures.modelsDir)
        #expect(store.serviceSuggestions(for: "networkmanagr").first == "networkmanager")
        let model = try #require(try store.service("networkmanager"))
        #expect(model.suggestions(for: "CreateConection").first == "CreateConnection")
    }

    @Test("suggestions: the same names, in the same order, as the edit distance over every candidate")
    func suggestionsMatchTheDefinition() throws {
        let store = try ModelStore(root: Fixtures.modelsDir)
        let model = try #require(try store.service("networkmanager"))
        // The rule written plainly: every candidate's full edit distance, then the shortcuts.
        func loose(_ s: String) -> [UInt8] { Array(s.lowercased().utf8.filter { $0 != 0x5F && $0 != 0x2D && $0 != 0x20 }) }
        func distance(_ a: [UInt8], _ b: [UInt8]) -> Int {
            var table = (0...b.count).map { $0 }
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var row = [i] + Array(repeating: 0, count: b.count)
                for j in stride(from: 1, through: b.count, by: 1) {
                    row[j] = min(table[j] + 1, row[j - 1] + 1, table[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
                table = row
            }
            return a.isEmpty ? b.count : table[b.count]
        }
        func reference(_ query: String, _ candidates: [String], _ limit: Int) -> [String] {
            let q = loose(query)
            var scored: [(Int, String)] = []
            for candidate in candidates {
                let c = loose(candidate)
                var d = distance(q, c)
                if !q.isEmpty, c.starts(with: q) || q.starts(with: c) { d = min(d, 1) }
                if q.count >= 4, q.count * 2 >= c.count, c.count >= q.count {
                    var j = 0
                    for byte in c where j < q.count && q[j] == byte { j += 1 }
                    if j == q.count { d = min(d, 2) }
                }
                if d <= (q.count <= 4 ? 1 : max(2, q.count / 3)) { scored.append((d, candidate)) }
            }
            scored.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            return scored.prefix(limit).map(\.1)
        }
        var generator = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijklmnopqrstuvwxyz_-".utf8)
        func typo(_ name: String) -> String {
            var bytes = Array(name.utf8)
            for _ in 0..<Int.random(in: 0...3, using: &generator) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(letters.randomElement(using: &generator)!, at: at)
                default: bytes[at] = letters.randomElement(using: &generator)!
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        let lists = [store.serviceNames, model.operationNames]
        for candidates in lists {
            var queries = ["", "a", "ab", "net", "networkmanager", "NetworkManager", "x".padding(toLength: 60, withPad: "y", startingAt: 0)]
            for _ in 0..<150 { queries.append(typo(candidates.randomElement(using: &generator)!)) }
            for query in queries {
                #expect(closestNames(to: query, among: candidates, limit: 5) == reference(query, candidates, 5), "query \(query.debugDescription)")
            }
        }
    }
}
