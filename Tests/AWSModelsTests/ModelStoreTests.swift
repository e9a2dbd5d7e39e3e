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
}
