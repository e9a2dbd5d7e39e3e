import AWSModels
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// An upstream that answers every request at once with a small JSON body, standing in
/// for AWS so that only the gateway's own cost is measured.
final class InstantUpstream: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    static let body = #"{"ConnectPeerAssociation":{"ConnectPeerId":"connect-peer-0123","GlobalNetworkId":"global-network-0123","DeviceId":"device-0123","State":"PENDING"}}"#
    /// What DynamoDB's GetItem answers (json protocol calls carry `X-Amz-Target`).
    static let itemBody = #"{"Item":{"pk":{"S":"customer#1"},"total":{"N":"12.50"},"paid":{"BOOL":true},"tags":{"SS":["x","y"]}}}"#
    var isJSONProtocol = false
    var isHead = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head(let head) = part {
            isJSONProtocol = head.headers.contains(name: "X-Amz-Target")
            isHead = head.method == .HEAD
        }
        guard case .end = part else { return }
        if isHead {
            // S3's HeadObject: the object's headers, no body.
            var headers = HTTPHeaders()
            for (name, value) in [("x-amz-request-id", "bench"), ("Content-Length", "0"), ("ETag", "\"abc\""), ("Content-Type", "text/csv"),
                                  ("Last-Modified", "Fri, 20 Nov 2026 10:00:00 GMT"), ("x-amz-meta-team", "net ops")] {
                headers.add(name: name, value: value)
            }
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        let body = isJSONProtocol ? Self.itemBody : Self.body
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: isJSONProtocol ? "application/x-amz-json-1.0" : "application/json")
        headers.add(name: "x-amzn-RequestId", value: "bench")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    static func start(group: EventLoopGroup) throws -> Channel {
        try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false).flatMap {
                    channel.pipeline.addHandler(InstantUpstream())
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
    }
}

/// One closed-loop client connection: sends a request, waits for the whole answer,
/// records the latency, sends the next, until the deadline.
final class LoadConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Framing { case http, ndjson }

    let request: ByteBuffer
    let framing: Framing
    let deadline: UInt64
    let done: EventLoopPromise<[UInt64]>
    var latencies: [UInt64] = []
    /// Answers that carried a JSON-RPC error: a benchmark of errors would flatter.
    var errors = 0
    /// The run's promise is completed (by the deadline, an error or a close).
    var finished = false
    var sentAt: UInt64 = 0
    var received = ByteBuffer()

    init(request: ByteBuffer, framing: Framing, deadline: UInt64, done: EventLoopPromise<[UInt64]>) {
        self.request = request
        self.framing = framing
        self.deadline = deadline
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
    }

    static let errorMember = Array(#""error":"#.utf8)

    func send(context: ChannelHandlerContext) {
        sentAt = DispatchTime.now().uptimeNanoseconds
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        received.writeBuffer(&chunk)
        while let length = completeAnswerLength() {
            if received.withUnsafeReadableBytes({ firstIndex(of: LoadConnection.errorMember, in: $0.prefix(length)) != nil }) { errors += 1 }
            received.moveReaderIndex(forwardBy: length)
            let now = DispatchTime.now().uptimeNanoseconds
            latencies.append(now - sentAt)
            if now >= deadline {
                if errors > 0 { print("warning: \(errors) answers were errors") }
                finished = true
                done.succeed(latencies)
                context.close(promise: nil)
                return
            }
            send(context: context)
        }
        received.discardReadBytes()
    }

    /// The byte length of a complete answer at the front of `received`, if there is one.
    /// Read from the bytes in place: the load generator must cost far less than the
    /// gateway it drives (string searches here once capped it at 5-6k calls/s).
    func completeAnswerLength() -> Int? {
        received.withUnsafeReadableBytes { bytes -> Int? in
            switch framing {
            case .ndjson:
                guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
                return newline + 1
            case .http:
                return httpAnswerLength(bytes)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if !finished {
            finished = true
            done.fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        // Closed by the gateway before the run's end: what was measured is not load.
        done.fail(LoadError(message: "the connection was closed after \(latencies.count) answers, before the run ended"))
    }
}

struct LoadError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

struct LoadResult {
    let callsPerSecond: Double
    let p50: Double
    let p99: Double
    let calls: Int
}

enum Target {
    case unix(String)
    case tcp(String, Int)
    case tls(String, Int, NIOSSLContext)
}

/// Runs `concurrency` closed-loop connections for `seconds` and reports throughput and latency.
func runLoad(group: EventLoopGroup, target: Target, framing: LoadConnection.Framing, body: String, path: String = "/",
             concurrency: Int, seconds: Double) throws -> LoadResult {
    let request: String
    switch framing {
    case .http:
        // The Host a TCP listener accepts (its own address); a Unix socket takes any.
        let host: String
        switch target {
        case .unix: host = "localhost"
        case .tcp(let address, let port), .tls(let address, let port, _): host = "\(address):\(port)"
        }
        request = "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    case .ndjson: request = body + "\n"
    }
    let start = DispatchTime.now().uptimeNanoseconds
    let deadline = start + UInt64(seconds * 1e9)
    var futures: [EventLoopFuture<[UInt64]>] = []
    for _ in 0..<concurrency {
        let done = group.next().makePromise(of: [UInt64].self)
        let bootstrap = ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .tls(_, _, let context) = target {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        LoadConnection(request: ByteBuffer(string: request), framing: framing, deadline: deadline, done: done))
                }
            }
        switch target {
        case .unix(let path): _ = bootstrap.connect(unixDomainSocketPath: path)
        case .tcp(let host, let port), .tls(let host, let port, _):
            _ = bootstrap.channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1).connect(host: host, port: port)
        }
        futures.append(done.futureResult)
    }
    var latencies: [UInt64] = []
    for future in futures { latencies += try future.wait() }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    latencies.sort()
    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1000
    }
    return LoadResult(callsPerSecond: Double(latencies.count) / elapsed, p50: percentile(0.5), p99: percentile(0.99), calls: latencies.count)
}

/// Peak resident set size (VmHWM) of a process, in MB.
func peakRSS(pid: Int32) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return nil
}

/// `make bench`'s gateway part: starts `awsgw serve` (release) in front of an instant
/// upstream and drives it over each listener and framing.
func gatewayBenchmarks(modelsDir: String, seconds: Double) throws {
    let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    let awsgw = binDir + "/awsgw"
    guard FileManager.default.isExecutableFile(atPath: awsgw) else {
        print("gateway benchmarks skipped: \(awsgw) not built")
        return
    }
    let upstreamGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    defer {
        try? clientGroup.syncShutdownGracefully()
        try? upstreamGroup.syncShutdownGracefully()
    }
    let upstream = try InstantUpstream.start(group: upstreamGroup)
    let upstreamPort = upstream.localAddress!.port!

    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-bench-\(getpid())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let gateway = try BenchGateway.start(awsgw: awsgw, dir: dir, modelsDir: modelsDir, upstreamPort: upstreamPort)
    let (serve, socketPath, tcpPort, tlsPort) = (gateway.process, gateway.socketPath, gateway.tcpPort, gateway.tlsPort)
    defer {
        kill(serve.processIdentifier, SIGTERM)
        serve.waitUntilExit()
    }

    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .file(dir + "/server.pem")
    let tlsContext = try NIOSSLContext(configuration: tls)

    let call = #"{"jsonrpc":"2.0","id":1,"method":"networkmanager.AssociateConnectPeer","params":{"GlobalNetworkId":"global-network-0123","ConnectPeerId":"connect-peer-0123","DeviceId":"device-0123"}}"#
    let upstreamBody = #"{"ConnectPeerId": "connect-peer-0123", "DeviceId": "device-0123"}"#

    // Warm up: models loaded, pools filled.
    _ = try runLoad(group: clientGroup, target: .unix(socketPath), framing: .http, body: call, concurrency: 64, seconds: 0.5)

    print("")
    print("gateway load (closed loop, keep-alive, \(seconds) s per row; load generator, gateway and upstream share the 2 cores)")
    print("target                          conc   calls/s    p50 µs    p99 µs")
    func row(_ name: String, _ result: LoadResult, _ concurrency: Int) {
        print(name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: "%4d  %8.0f  %8.0f  %8.0f", concurrency, result.callsPerSecond, result.p50, result.p99))
    }
    var direct: [Int: LoadResult] = [:]
    for concurrency in [1, 16, 64] {
        let result = try runLoad(group: clientGroup, target: .tcp("127.0.0.1", upstreamPort), framing: .http, body: upstreamBody,
                                 path: "/global-networks/global-network-0123/connect-peer-associations", concurrency: concurrency, seconds: seconds)
        direct[concurrency] = result
        row("upstream directly (HTTP, TCP)", result, concurrency)
    }
    let targets: [(String, Target, LoadConnection.Framing)] = [
        ("gateway unix socket, HTTP", .unix(socketPath), .http),
        ("gateway unix socket, NDJSON", .unix(socketPath), .ndjson),
        ("gateway TCP, HTTP", .tcp("127.0.0.1", tcpPort), .http),
        ("gateway TLS, HTTP", .tls("127.0.0.1", tlsPort, tlsContext), .http),
    ]
    for (name, target, framing) in targets {
        for concurrency in [1, 16, 64] {
            let result = try runLoad(group: clientGroup, target: target, framing: framing, body: call, concurrency: concurrency, seconds: seconds)
            row(name, result, concurrency)
            if concurrency == 1, name == "gateway unix socket, HTTP", let base = direct[1] {
                print(String(format: "  added p50 latency at concurrency 1: %.0f µs", result.p50 - base.p50))
            }
        }
    }
    try protocolComparisons(clientGroup: clientGroup, socketPath: socketPath, call: call, seconds: seconds)
    if let rss = peakRSS(pid: serve.processIdentifier) {
        print(String(format: "gateway peak RSS (VmHWM): %.1f MB", rss))
    }
}

/// The gateway `gatewayBenchmarks` drives: `awsgw serve` (release) with a Unix socket, a
/// TCP and a TLS listener (a development certificate), in front of the instant upstream.
struct BenchGateway {
    let process: Process
    let socketPath: String
    let tcpPort: Int
    let tlsPort: Int

    static func start(awsgw: String, dir: String, modelsDir: String, upstreamPort: Int) throws -> BenchGateway {
        let socketPath = dir + "/gw.sock"
        let tcpPort = 20000 + Int(getpid() % 10000)
        let tlsPort = tcpPort + 1
        let config = """
        listen: ["unix:\(socketPath)", "tcp:127.0.0.1:\(tcpPort)", "tls:127.0.0.1:\(tlsPort)"]
        tls: { cert: \(dir)/server.pem, key: \(dir)/server.key }
        models: \(modelsDir)
        region: us-east-1
        credentials: { default: { source: env } }
        limits: { max_connections: 4096 }
        teams: { bench: { members: any, allow: ["networkmanager:*", "dynamodb:*", "s3:*"] } }
        """
        let certs = Process()
        certs.executableURL = URL(fileURLWithPath: awsgw)
        certs.arguments = ["certs", "generate", "--dir", dir]
        certs.standardOutput = FileHandle.nullDevice
        try certs.run()
        certs.waitUntilExit()
        let threads = ProcessInfo.processInfo.environment["AWSGW_THREADS"] ?? ""
        let serve = try startGateway(awsgw: awsgw, dir: dir, name: "bench", config: config, upstreamPort: upstreamPort,
                                     listeners: 3, environment: ["AWSGW_THREADS": threads])
        return BenchGateway(process: serve, socketPath: socketPath, tcpPort: tcpPort, tlsPort: tlsPort)
    }
}

/// The json and rest-xml protocols against the rest-json seed call over the Unix socket at
/// c=64, alternated so that drift in the machine's load falls on both.
func protocolComparisons(clientGroup: EventLoopGroup, socketPath: String, call: String, seconds: Double) throws {
    let getItem = #"{"jsonrpc":"2.0","id":1,"method":"dynamodb.GetItem","params":{"TableName":"orders","Key":{"pk":{"S":"customer#1"}}}}"#
    let headObject = #"{"jsonrpc":"2.0","id":1,"method":"s3.HeadObject","params":{"Bucket":"team-data","Key":"reports/a.csv"}}"#
    for (name, body, target) in [("dynamodb.GetItem", getItem, 10), ("s3.HeadObject", headObject, 15)] {
        let runs = try alternatedRuns(call, body) {
            try runLoad(group: clientGroup, target: .unix(socketPath), framing: .http, body: $0, concurrency: 64, seconds: seconds).callsPerSecond
        }
        let (seed, other) = (median(runs.a), median(runs.b))
        print(String(format: "unix HTTP c=64, medians of 3 alternated runs: seed call %.0f calls/s, %@ %.0f calls/s (%.1f%%; target within %d%%)",
                     seed, name, other, (other / seed - 1) * 100, target))
    }
}

/// Three runs each of `a` and `b`, alternated so that drift in the machine's load falls on both.
func alternatedRuns<Load>(_ a: Load, _ b: Load, rate: (Load) throws -> Double) rethrows -> (a: [Double], b: [Double]) {
    var aRates: [Double] = [], bRates: [Double] = []
    for _ in 0..<3 {
        aRates.append(try rate(a))
        bRates.append(try rate(b))
    }
    return (aRates, bRates)
}

func median(_ runs: [Double]) -> Double { runs.sorted()[runs.count / 2] }

/// Starts `awsgw serve` with the given config text once it says it listens on all of its
/// `listeners`; returns the process.
func startGateway(awsgw: String, dir: String, name: String, config: String, upstreamPort: Int,
                  listeners: Int = 1, environment: [String: String] = [:]) throws -> Process {
    try config.write(toFile: dir + "/\(name).yaml", atomically: true, encoding: .utf8)
    let serve = Process()
    serve.executableURL = URL(fileURLWithPath: awsgw)
    serve.arguments = ["serve", "--config", dir + "/\(name).yaml", "--log-level", "error"]
    serve.environment = [
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:\(upstreamPort)", "HOME": dir, "PATH": "/usr/bin:/bin",
    ].merging(environment) { $1 }
    let out = Pipe()
    serve.standardOutput = out
    try serve.run()
    var started = ""
    while started.components(separatedBy: "listening on").count <= listeners {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        started += String(decoding: chunk, as: UTF8.self)
    }
    return serve
}

/// What the side-by-side benchmarks share: the awsgw binary, an instant upstream, a load
/// generator thread and a scratch folder.
final class BenchSetup {
    let awsgw: String
    let dir: String
    let upstreamPort: Int
    let upstreamGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var gateways: [Process] = []

    init?(name: String) throws {
        let binDir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        awsgw = binDir + "/awsgw"
        guard FileManager.default.isExecutableFile(atPath: awsgw) else { return nil }
        upstreamPort = try InstantUpstream.start(group: upstreamGroup).localAddress!.port!
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-\(name)-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    /// Starts a gateway listening on `<dir>/<name>.sock` with `config` added to the common part.
    func gateway(_ name: String, config: String) throws -> Target {
        let common = """
        models: \(modelsDirectory)
        region: us-east-1
        limits: { max_connections: 4096 }
        listen: ["unix:\(dir)/\(name).sock"]

        """
        gateways.append(try startGateway(awsgw: awsgw, dir: dir, name: name, config: common + config, upstreamPort: upstreamPort))
        return .unix(dir + "/\(name).sock")
    }

    var modelsDirectory = ""

    /// Runs the two targets alternately, three times each, after a warm-up; medians and runs.
    func alternate(_ a: (Target, String), _ b: (Target, String), seconds: Double) throws -> (Double, [Double], Double, [Double]) {
        for (target, body) in [a, b] {
            _ = try runLoad(group: clientGroup, target: target, framing: .ndjson, body: body, concurrency: 16, seconds: 0.5)
        }
        let runs = try alternatedRuns(a, b) {
            try runLoad(group: clientGroup, target: $0.0, framing: .ndjson, body: $0.1, concurrency: 64, seconds: seconds).callsPerSecond
        }
        return (median(runs.a), runs.a, median(runs.b), runs.b)
    }

    /// SIGTERM to every gateway started (their logs are finished), then the rest goes.
    func stopGateways() {
        for process in gateways {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        gateways = []
    }

    deinit {
        stopGateways()
        try? clientGroup.syncShutdownGracefully()
        try? upstreamGroup.syncShutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

func runsText(_ runs: [Double]) -> String { runs.map { String(format: "%.0f", $0) }.joined(separator: ", ") }
