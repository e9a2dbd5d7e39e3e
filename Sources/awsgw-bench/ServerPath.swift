import AWSModels
import Foundation
import GatewayCore
import GatewayApp
import GatewayServer
import Logging
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The whole server path in one process, for callgrind (`scripts/callgrind_pipeline.sh
/// server-path`): the gateway as `serve` builds it (a bearer-token team, `allow *:*`,
/// audit log on) on a TCP listener, in front of `InstantUpstream`, called `loops` times
/// one after another on one keep-alive connection by a plain blocking socket. Counted
/// this way, a change to the listener, the HTTP codec, the upstream client or the task
/// machinery shows as instructions per call, which CPU time on this shared machine
/// (±10 % run to run) cannot show. The client's and the upstream's own work is counted
/// too and is the same for every gateway.
func serverPathBenchmark(modelsDir: String, loops: Int) throws {
    let upstreamGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let upstream = try InstantUpstream.start(group: upstreamGroup)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-server-path-\(getpid())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // The token is "bench": its SHA-256 is the team's member.
    let token = "bench"
    let config = try GatewayConfig.parse("""
        listen: ["tcp:127.0.0.1:0"]
        region: us-west-2
        credentials: { default: { source: env } }
        logs: { dir: \(dir)/logs }
        teams:
          apps: { members: ["token-sha256:1b32c28cb38c05480eccc1bd60ff97029b57a05c96718b96dad7e9d84894f549"], allow: ["*:*"] }
        """)
    var logger = Logger(label: "awsgw-bench")
    logger.logLevel = .error
    let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                       "AWS_ENDPOINT_URL": "http://127.0.0.1:\(upstream.localAddress!.port!)", "HOME": dir]
    let runner = try GatewayRunner(config: config, models: try ModelStore(root: modelsDir), environment: environment, logger: logger, threads: 2)
    try blockingAwait { try await runner.start() }
    guard case .tcp(_, let port)? = runner.server.listeners.first?.address else { throw BenchError("no TCP listener") }

    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw BenchError("cannot connect to the gateway") }
    let body = Array(benchPeerCall.utf8)
    let request = Array("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    var answered = 0
    var buffer = [UInt8](repeating: 0, count: 65536)
    let result = Array(#""result":"#.utf8)
    for _ in 0..<loops {
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var answer: [UInt8] = []
        // Read until the head and the Content-Length it announces are in (by bytes: the
        // client's own cost is counted too and should stay small).
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw BenchError("the gateway closed the connection") }
            answer += buffer[..<count]
            if let length = httpAnswerLength(answer) {
                if firstIndex(of: result, in: answer[..<length]) != nil { answered += 1 }
                break
            }
        }
    }
    close(fd)
    print("server path: \(answered) of \(loops) calls answered with a result")
    try blockingAwait { await runner.stop() }
    try upstreamGroup.syncShutdownGracefully()
}

/// The call bench_peer.py makes.
let benchPeerCall = #"{"jsonrpc":"2.0","id":1,"method":"networkmanager.AssociateConnectPeer","params":{"GlobalNetworkId":"global-network-0123","ConnectPeerId":"connect-peer-0123","DeviceId":"device-0123"}}"#

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs async work to completion from synchronous code.
func blockingAwait(_ body: @escaping @Sendable () async throws -> Void) throws {
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<Error?>(nil)
    Task {
        do { try await body() } catch { failure.withLock { $0 = error } }
        done.signal()
    }
    done.wait()
    if let error = failure.withLock({ $0 }) { throw error }
}

/// Where `needle` first occurs in `haystack` (bytes, by the bench's clients).
func firstIndex<Bytes: RandomAccessCollection>(of needle: [UInt8], in haystack: Bytes) -> Int?
where Bytes.Element == UInt8, Bytes.Index == Int, Bytes.SubSequence: Collection<UInt8> {
    guard haystack.count >= needle.count else { return nil }
    var index = haystack.startIndex
    while index + needle.count <= haystack.endIndex {
        if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
        index += 1
    }
    return nil
}

/// The length of a whole HTTP/1.1 answer at the start of `bytes`: its head and the body
/// its `Content-Length: ` announces (none: no body); nil until all of it is there. Both
/// servers the bench reads from (awsgw, NIO's) write the field so.
func httpAnswerLength<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> Int?
where Bytes.Element == UInt8, Bytes.Index == Int, Bytes.SubSequence: RandomAccessCollection<UInt8>, Bytes.SubSequence.Index == Int {
    guard let end = firstIndex(of: headEnd, in: bytes) else { return nil }
    var length = 0
    if let field = firstIndex(of: contentLengthField, in: bytes[..<end]) {
        var index = field + contentLengthField.count
        while bytes[index] >= 0x30 && bytes[index] <= 0x39 {
            length = length * 10 + Int(bytes[index] - 0x30)
            index += 1
        }
    }
    let total = end + 4 + length - bytes.startIndex
    return total <= bytes.count ? total : nil
}

private let headEnd = Array("\r\n\r\n".utf8), contentLengthField = Array("Content-Length: ".utf8)
