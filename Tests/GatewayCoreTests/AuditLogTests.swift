import AWSJSON
import Foundation
import GatewayCore
import GatewayTesting
import Testing

@Suite("Audit log", .serialized)
struct AuditLogTests {
    @Test("a log that records nothing leaves no file (a gateway that fails to start leaves no empty file)")
    func noEmptyFile() throws {
        let dir = try tempDir("empty")
        var settings = AuditLogSettings()
        settings.dir = dir
        let log = try AuditLog(settings: settings)
        log.close()
        #expect(AuditLog.logFiles(in: dir).isEmpty)
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("rotation by size and retention of the newest files; finished files pass gzip -t")
    func rotationAndRetention() throws {
        let dir = try tempDir("rotate")
        var settings = AuditLogSettings()
        settings.dir = dir
        settings.rotateBytes = 2000
        settings.keep = 3
        let log = try AuditLog(settings: settings)
        for i in 0..<3000 {
            log.record(line: (["time": "2026-11-23T10:00:00Z", "n": .int(Int64(i)), "noise": .string(UUID().uuidString)] as JSON).serialized())
        }
        log.close()
        let files = AuditLog.logFiles(in: dir)
        #expect(files.count == 3)
        for file in files { #expect(try gzipTest(file) == 0, "\(file)") }
        let numbers = try readRecords(dir).compactMap { $0["n"]?.intValue }
        #expect(!numbers.isEmpty && numbers == Array(numbers.first!...2999), "the newest records, in order")
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("compression ratio on realistic records is at least 8:1")
    func compressionRatio() throws {
        let dir = try tempDir("ratio")
        var settings = AuditLogSettings()
        settings.dir = dir
        let log = try AuditLog(settings: settings)
        var raw = 0
        let methods = ["networkmanager.AssociateConnectPeer", "lambda-core.GetNetworkConnector", "iot-managed-integrations.CreateAccountAssociation"]
        for i in 0..<20_000 {
            let record: JSON = [
                "time": .string("2026-11-23T10:\(String(format: "%02d", i / 1000 % 60)):\(String(format: "%02d", i % 60)).\(String(format: "%03d", i % 1000))Z"),
                "listener": "unix:/run/awsgw/awsgw.sock", "identity": .string("uid:\(1000 + i % 7)"), "team": i % 3 == 0 ? "netops" : "ci",
                "method": .string(methods[i % 3]), "decision": "allowed", "cache": i % 4 == 0 ? "hit" : "miss",
                "awsRequestId": .string(UUID().uuidString.lowercased()), "attempts": 1, "latencyMs": .double(Double(i % 900) / 10 + 3.7),
                "bytesIn": .int(Int64(150 + i % 40)), "bytesOut": .int(Int64(200 + i % 300)), "params": ["GlobalNetworkId", "ConnectPeerId", "DeviceId"],
            ]
            raw += record.serialized().count + 1
            log.record(line: record.serialized())
        }
        log.close()
        let compressed = AuditLog.logFiles(in: dir).reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int) ?? 0) }
        let ratio = Double(raw) / Double(compressed)
        #expect(ratio >= 8, "ratio \(ratio)")
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test("a full queue drops records and counts them; the caller never waits")
    func dropsWhenFull() throws {
        let dir = try tempDir("drops")
        var settings = AuditLogSettings()
        settings.dir = dir
        settings.queueLimit = 10
        let counter = DropCounter()
        let log = try AuditLog(settings: settings, onDrop: { counter.add() })
        for i in 0..<50_000 { log.record(line: (["n": .int(Int64(i))] as JSON).serialized()) }
        log.close()
        let written = try readRecords(dir).count
        #expect(written + log.dropped == 50_000)
        #expect(counter.count == log.dropped)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
final class DropCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.withLock { n += 1 } }
    var count: Int { lock.withLock { n } }
}
