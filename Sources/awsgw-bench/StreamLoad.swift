import Foundation
import GatewayServer
import GatewayTesting
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

// `--only streams`: what streaming costs. (1) The latency an event gains by going through
// the gateway: a stand-in AWS holds each event of a ConverseStream answer until the client
// asks for it, and the time from asking to the event's arrival is measured through
// `awsgw serve` (NDJSON over its Unix socket) and straight from the stand-in; the
// difference is the gateway's. (2) The CPU a page of `$paginate` costs against a separate
// call for the same page (the gateway process's user+system time per request to AWS).

/// A blocking client that reads until a marker has arrived.
final class MarkerReader {
    let fd: Int32
    private var tail: [UInt8] = []
    private var buffer = [UInt8](repeating: 0, count: 65536)

    init(unixPath: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in unixPath.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        if rc != 0 { throw BenchError("connect \(unixPath) failed") }
    }

    init(tcpPort: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(tcpPort).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if rc != 0 { throw BenchError("connect 127.0.0.1:\(tcpPort) failed") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }

    /// Reads until `marker` has come (bytes before it are dropped).
    func read(until marker: [UInt8]) throws {
        while true {
            if let range = tail.firstRange(of: marker) {
                tail.removeSubrange(..<range.upperBound)
                return
            }
            tail = Array(tail.suffix(marker.count))
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { throw BenchError("the connection closed before \(String(decoding: marker, as: UTF8.self))") }
            tail += buffer[0..<n]
        }
    }
}

/// A ConverseStream answer of `count` deltas, each (after the first) held at its gate.
func heldStream(count: Int) -> (FakeAWS.Script, [FakeAWS.Gate]) {
    let gates = (0..<count).map { _ in FakeAWS.Gate() }
    let pieces = (0..<count).map { k in
        FakeAWS.Piece(EventStreamFrames.event("contentBlockDelta", json: #"{"contentBlockIndex":0,"delta":{"text":"t\#(k)|"}}"#),
                      after: k == 0 ? nil : gates[k])
    }
    let script: FakeAWS.Script = { _, _ in
        .stream(status: 200, headers: [("Content-Type", "application/vnd.amazon.eventstream"), ("x-amzn-RequestId", "bench")], pieces: pieces)
    }
    return (script, gates)
}

/// Median microseconds from opening an event's gate to the event's arrival at `reader`.
func eventLatency(_ reader: MarkerReader, gates: [FakeAWS.Gate]) throws -> Double {
    try reader.read(until: Array("\"t0|\"".utf8))
    var samples: [Double] = []
    for k in 1..<gates.count {
        let start = now()
        gates[k].open()
        try reader.read(until: Array("\"t\(k)|\"".utf8))
        samples.append(Double(now() - start) / 1000)
    }
    return median(samples)
}

/// The process's user + system CPU seconds so far.
func cpuSeconds(pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // Fields 14 and 15 of stat (utime, stime), counted from after the command's name.
    return (Double(fields[11]) ?? 0) / 100 + (Double(fields[12]) ?? 0) / 100
}

func streamBenchmarks(modelsDir: String) throws {
    let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    let awsgw = binDir + "/awsgw"
    guard FileManager.default.isExecutableFile(atPath: awsgw) else { throw BenchError("no awsgw binary beside the benchmark") }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-streams-\(getpid())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let made = Mutex<FakeAWS?>(nil)
    try blockingAwait {
        let fake = try await FakeAWS(group: group, script: { _, _ in .drop })
        made.withLock { $0 = fake }
    }
    guard let fake = made.withLock({ $0 }) else { throw BenchError("the stand-in did not start") }
    func start(_ name: String, _ extra: String) throws -> Process {
        try startGateway(awsgw: awsgw, dir: dir, name: name, config: """
            models: \(modelsDir)
            region: us-east-1
            listen: ["unix:\(dir)/\(name).sock"]
            \(extra)
            """, upstreamPort: fake.port)
    }
    let gateway = try start("polling", "")
    let sleeping = try start("sleeping", "idle_poll: off")
    defer {
        for process in [gateway, sleeping] {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }
    print("Event streams (awsgw serve, release, NDJSON over its Unix socket; a stand-in AWS on loopback holding each event until asked)")
    let events = 2000
    /// Median microseconds per event through the gateway at `socket`, or straight from the stand-in.
    func latency(through socket: String?) throws -> Double {
        let (script, gates) = heldStream(count: events)
        fake.setScript(script)
        guard let socket else {
            let raw = try MarkerReader(tcpPort: fake.port)
            raw.write("POST /model/m/converse-stream HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n")
            return try eventLatency(raw, gates: gates)
        }
        let client = try MarkerReader(unixPath: socket)
        client.write(#"{"jsonrpc":"2.0","id":1,"method":"bedrock-runtime.ConverseStream","params":{"modelId":"m","messages":[]}}"# + "\n")
        let figure = try eventLatency(client, gates: gates)
        try client.read(until: Array(#""result":{}"#.utf8))
        return figure
    }
    var polling: [Double] = [], asleep: [Double] = [], direct: [Double] = []
    for _ in 0..<5 {
        polling.append(try latency(through: dir + "/polling.sock"))
        asleep.append(try latency(through: dir + "/sleeping.sock"))
        direct.append(try latency(through: nil))
    }
    print(String(format: "  event latency, p50 of %d events: straight from AWS %.1f µs; through awsgw %.1f µs (added %.1f), with idle_poll: off %.1f µs (added %.1f)",
                 events - 1, median(direct), median(polling), median(polling) - median(direct), median(asleep), median(asleep) - median(direct)))
    print("    runs: \(runsText(direct)) / \(runsText(polling)) / \(runsText(asleep))")
    try pagingCPU(fake: fake, socketPath: dir + "/polling.sock", pid: gateway.processIdentifier)
    try? group.syncShutdownGracefully()
}

/// CPU per request to AWS: `$paginate` over 10 pages against 10 separate calls.
func pagingCPU(fake: FakeAWS, socketPath: String, pid: Int32) throws {
    let pages = 10
    fake.setScript { request, _ in
        let page = request.uri.split(separator: "nextToken=t").last.flatMap { Int($0) } ?? 0
        let next = page + 1 < pages ? #","NextToken":"t\#(page + 1)""# : ""
        return .respond(status: 200, headers: [("Content-Type", "application/json"), ("x-amzn-RequestId", "bench")],
                        body: #"{"CoreNetworks":[{"CoreNetworkId":"core-network-\#(page)","GlobalNetworkId":"global-network-0123","State":"AVAILABLE"}]\#(next)}"#)
    }
    /// CPU microseconds per request to AWS, over `calls` calls on 4 connections.
    func cpuPerRequest(paged: Bool, calls: Int) throws -> Double {
        let line = #"{"jsonrpc":"2.0","id":1,"method":"networkmanager.ListCoreNetworks","params":{\#(paged ? #""$paginate":true"# : "")}}"# + "\n"
        let before = cpuSeconds(pid: pid), requestsBefore = fake.requests.count
        let done = DispatchGroup()
        for _ in 0..<4 {
            done.enter()
            Thread {
                defer { done.leave() }
                guard let client = try? MarkerReader(unixPath: socketPath) else { return }
                for _ in 0..<(calls / 4) {
                    client.write(line)
                    _ = try? client.read(until: Array(#""result""#.utf8))
                }
            }.start()
        }
        done.wait()
        return (cpuSeconds(pid: pid) - before) * 1_000_000 / Double(fake.requests.count - requestsBefore)
    }
    _ = try cpuPerRequest(paged: false, calls: 400)
    var paged: [Double] = [], separate: [Double] = []
    for _ in 0..<3 {
        paged.append(try cpuPerRequest(paged: true, calls: 400))
        separate.append(try cpuPerRequest(paged: false, calls: 4000))
    }
    print(String(format: "  CPU per request to AWS: a page of $paginate (10 a call) %.1f µs, a separate call %.1f µs (ratio %.2f; runs: %@ / %@)",
                 median(paged), median(separate), median(paged) / median(separate), runsText(paged), runsText(separate)))
}
