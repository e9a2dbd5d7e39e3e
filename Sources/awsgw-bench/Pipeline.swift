import AWSClient
import AWSCredentials
import AWSModels
import AWSProtocols
import AWSSigning
import AWSJSON
import Foundation
import GatewayCore
import GatewayTesting
import Synchronization

/// AWS answering at once from memory (nothing recorded): the pipeline's only way out, so
/// that a profiler sees the gateway's own work per call and nothing of the network.
let instantAnswer = ResponseData(
    status: 200, headers: [("Content-Type", "application/json"), ("x-amzn-RequestId", "req-bench")],
    body: Array(#"{"ConnectPeerAssociation":{"ConnectPeerId":"connect-peer-0123","DeviceId":"device-0123","GlobalNetworkId":"global-network-0123","State":"PENDING"}}"#.utf8))

/// Issue 14's in-process pipeline: envelope → policy (a team admitted by a bearer token,
/// `allow: ["*:*"]`, a rate that never binds) → build → sign → parse → answer, with the
/// audit log on, `loops` times one after another. Under `valgrind --tool=callgrind` two
/// loop counts give instructions and allocations per call (scripts/callgrind_pipeline.sh).
func pipelineBenchmark(modelsDir: String, loops: Int) throws {
    let models = try ModelStore(root: modelsDir)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-pipeline-\(getpid())").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let config = try GatewayConfig.parse("""
        region: us-east-1
        credentials: { default: { source: env } }
        teams:
          apps:
            members: [ "token-sha256:1b32c28cb38c05480eccc1bd60ff97029b57a05c96718b96dad7e9d84894f549" ]
            allow: [ "*:*" ]
            rate: { "*": "1000000/s burst 1000000" }
        """)
    var audit = AuditLogSettings()
    audit.dir = dir
    let keys = StaticCredentialProvider(Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"))
    var dependencies = GatewayDependencies(engine: AWSEngine(models: models, environment: [:]), transport: FakeTransport(recording: false) { _, _ in instantAnswer },
                                           credentialSources: ["default": keys])
    dependencies.policy = config.policy
    dependencies.rateLimiter = RateLimiter(limits: config.rateLimits)
    dependencies.defaultRegion = "us-east-1"
    dependencies.audit = try AuditLog(settings: audit)
    let door = JSONRPCDoor(gateway: Gateway(dependencies))
    // The token is "bench" (its SHA-256 is the team's member), sent as a TCP caller does.
    let context = CallContext(listener: "tcp:127.0.0.1:8080", bearerToken: "bench")
    let body = Array(benchCall.utf8)

    let done = DispatchSemaphore(value: 0)
    let answered = Mutex(0)
    Task {
        for i in 0..<loops {
            let answer = await door.handle(body, context: context)
            // {"jsonrpc":"2.0","id":1,"result":... (checked by bytes: the profile is of the gateway)
            if let bytes = answer.body, bytes.count > 31, bytes[25] == UInt8(ascii: "r"), bytes[26] == UInt8(ascii: "e") {
                answered.withLock { $0 += 1 }
            } else if i == 0 {
                FileHandle.standardError.write(Data("pipeline: the first answer: \(String(decoding: answer.body ?? [], as: UTF8.self))\n".utf8))
            }
        }
        done.signal()
    }
    done.wait()
    dependencies.audit?.close()
    let results = answered.withLock { $0 }
    guard results == loops else {
        FileHandle.standardError.write(Data("pipeline: \(loops - results) of \(loops) calls did not answer with a result\n".utf8))
        exit(1)
    }
    print("pipeline: \(loops) calls answered with a result")
}
