// swift-tools-version:6.0
import PackageDescription

/// An async function runs on its caller's executor instead of hopping to the generic one
/// on entry: a call's pipeline is some twenty nested async functions on one event loop,
/// and each hop asked the runtime for the task's executor under a lock.
let callerIsolation: [SwiftSetting] = [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]

/// What the tests of the gateway's NIO targets use: the targets, the testing target, NIO.
let gatewayTestDependencies: [Target.Dependency] = [
    "AWSClient", "AWSCredentials", "AWSJSON", "AWSModels", "AWSProtocols", "AWSSigning",
    "GatewayCore", "GatewayServer", "GatewayTesting", "GatewayTransport", "TestSupport",
    .product(name: "Logging", package: "swift-log"),
    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOEmbedded", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOSSL", package: "swift-nio-ssl"),
    .product(name: "X509", package: "swift-certificates"),
    .product(name: "Crypto", package: "swift-crypto"),
    .product(name: "SwiftASN1", package: "swift-asn1"),
]

let package = Package(
    name: "awsgw",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "awsgw", targets: ["awsgw"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // zlib from the system (zlib1g-dev): gzip models now, compressed audit logs later.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Timestamps, percent-encoding and Python's float text: what the signer and the
        // codecs share, free of JSON.
        .target(name: "AWSPrimitives"),
        // A small, fast, order-preserving JSON value with its own parser and writer.
        .target(name: "AWSJSON", dependencies: ["AWSPrimitives"]),
        // JMESPath, as botocore's paginators and waiters use it (Python jmespath's behaviour).
        .target(name: "AWSJMESPath", dependencies: ["AWSJSON"]),
        // botocore-format service models: lazy loading, shapes, name resolution.
        .target(name: "AWSModels", dependencies: ["AWSJSON", "CZlib"]),
        // Protocol serializers/parsers and parameter validation.
        .target(name: "AWSProtocols", dependencies: ["AWSPrimitives", "AWSModels", "AWSJSON", "CZlib"]),
        // Endpoints 2.0 rules interpreter and partitions.
        .target(name: "AWSEndpoints", dependencies: ["AWSJSON"]),
        // SigV4, pure functions over a request value.
        .target(name: "AWSSigning", dependencies: ["AWSPrimitives", .product(name: "Crypto", package: "swift-crypto")]),
        // Credential providers and the default chain.
        .target(name: "AWSCredentials", dependencies: ["AWSPrimitives", "AWSSigning", "AWSJSON", .product(name: "Crypto", package: "swift-crypto")],
                swiftSettings: callerIsolation),
        // The SDK core: (service, operation, params) into a signed HTTP request, answers into
        // results (AWSEngine), and the send with retries (AWSCaller).
        .target(name: "AWSClient", dependencies: [
            "AWSModels", "AWSProtocols", "AWSEndpoints", "AWSSigning", "AWSCredentials", "AWSJSON", "AWSJMESPath", "AWSPrimitives", "CZlib",
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: callerIsolation),
        // The gateway's pipeline (JSON-RPC, dispatch, retries, configuration), free of NIO.
        .target(name: "GatewayCore", dependencies: [
            "AWSJSON", "AWSModels", "AWSPrimitives", "AWSProtocols", "AWSSigning",
            "AWSClient", "AWSCredentials", "CZlib",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: callerIsolation),
        // A small Redis (RESP) client on SwiftNIO: replies parsed strictly, pipelining,
        // AUTH/SELECT, TLS, per-command timeouts, scripts by SHA. Usable on its own.
        .target(
            name: "RedisClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ], swiftSettings: callerIsolation),
        // The HTTP/1.1 codec, the HTTP client to AWS (a keep-alive pool per event loop), and the
        // event loops' tuning (idle polling, flushes gathered per turn).
        .target(
            name: "GatewayTransport",
            dependencies: [
                "AWSClient", "AWSPrimitives", "AWSProtocols",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)] + callerIsolation),
        // Listeners (unix, tcp, tls) and each connection's pipeline: framing, HTTP/1.1 and
        // NDJSON, limits and deadlines, peer identity; the JSON-RPC door's sockets.
        .target(
            name: "GatewayServer",
            dependencies: [
                "AWSJSON", "AWSPrimitives", "GatewayCore", "GatewayTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)] + callerIsolation),
        // The state replicas share through Redis: rate limits and throttle holds, the cache.
        .target(
            name: "GatewaySharedState",
            dependencies: [
                "AWSPrimitives", "GatewayCore", "RedisClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)] + callerIsolation),
        // The composition root: a configuration made into a running gateway (what `awsgw serve`,
        // the benchmarks and tests start), its start-up summary, reloads and orderly stop.
        .target(
            name: "GatewayApp",
            dependencies: [
                "AWSClient", "AWSCredentials", "AWSJSON", "AWSModels", "AWSProtocols", "AWSSigning",
                "GatewayCore", "GatewayServer", "GatewaySharedState", "GatewayTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)] + callerIsolation),
        // What tests, the fuzzer and the benchmarks stand in with: the one fake AWS transport, a
        // real HTTP server standing in for AWS, a gateway on real sockets, a connection on an
        // EmbeddedChannel, the HTTP/1.1 split-reading check, awsgw run as a process.
        .target(
            name: "GatewayTesting",
            dependencies: [
                "AWSClient", "AWSCredentials", "AWSJSON", "AWSModels", "AWSProtocols", "AWSSigning",
                "GatewayApp", "GatewayCore", "GatewayServer", "GatewayTransport", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]),
        .executableTarget(name: "awsgw", dependencies: [
            "AWSClient", "AWSCredentials", "AWSJSON", "AWSModels", "AWSPrimitives", "AWSProtocols", "AWSSigning",
            "GatewayApp", "GatewayCore", "GatewayServer", "GatewayTransport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "awsgw-bench", dependencies: [
            "AWSClient", "AWSCredentials", "AWSJSON", "AWSModels", "AWSProtocols", "AWSSigning",
            "GatewayApp", "GatewayCore", "GatewayServer", "GatewayTesting", "GatewayTransport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ], swiftSettings: [.swiftLanguageMode(.v5)]),
        // Fuzz targets: libFuzzer with `make fuzz` (--sanitize fuzzer -DFUZZING), else a
        // seeded mutation loop of its own.
        .executableTarget(name: "awsgw-fuzz", dependencies: [
            "AWSClient", "AWSCredentials", "AWSJSON", "AWSModels", "AWSProtocols", "AWSSigning",
            "GatewayCore", "GatewayServer", "GatewayTesting", "RedisClient",
        ]),

        // Locating the fetched fixtures and ../shared/conformance from tests.
        .target(name: "TestSupport", dependencies: ["AWSJSON"], path: "Tests/TestSupport"),
        .testTarget(name: "AWSJSONTests", dependencies: ["TestSupport", "AWSJSON"]),
        .testTarget(name: "AWSJMESPathTests", dependencies: ["TestSupport", "AWSJSON", "AWSJMESPath"]),
        .testTarget(name: "AWSModelsTests", dependencies: ["AWSJSON", "TestSupport", "AWSModels"]),
        .testTarget(name: "AWSProtocolsTests", dependencies: ["AWSJSON", "AWSModels", "TestSupport", "AWSProtocols"]),
        .testTarget(name: "AWSEndpointsTests", dependencies: ["AWSJSON", "TestSupport", "AWSEndpoints", "AWSModels"]),
        .testTarget(name: "AWSSigningTests", dependencies: ["AWSJSON", "AWSPrimitives", "TestSupport", "AWSSigning", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "AWSCredentialsTests", dependencies: ["AWSSigning", "TestSupport", "AWSCredentials"]),
        .testTarget(name: "RedisClientTests", dependencies: [
            "TestSupport", "RedisClient",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // boto3-seed-requests.json / boto3-seed-responses.json: what botocore 1.44.5 sends
        // and returns for the seed operations (scripts/make_wire_reference.py, boto3_parse_reference.py).
        .testTarget(name: "GatewayCoreTests", dependencies: [
            "AWSClient", "AWSCredentials", "AWSJSON", "AWSModels", "AWSProtocols", "AWSSigning", "TestSupport", "GatewayCore", "GatewayTesting",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "GatewayTransportTests", dependencies: gatewayTestDependencies, swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "GatewayServerTests", dependencies: gatewayTestDependencies, swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "GatewaySharedStateTests", dependencies: gatewayTestDependencies + ["GatewayApp", "GatewaySharedState", "RedisClient"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
        .testTarget(name: "GatewayAppTests", dependencies: gatewayTestDependencies + ["GatewayApp", "AWSPrimitives"], swiftSettings: [.swiftLanguageMode(.v5)]),
        // Runs the built awsgw binary as a user would.
        .testTarget(name: "awsgwCLITests", dependencies: ["AWSJSON", "TestSupport", "awsgw"]),
        .testTarget(
            name: "AWSClientTests", dependencies: ["AWSJSON", "AWSModels", "AWSPrimitives", "AWSSigning", "TestSupport", "AWSClient", "AWSProtocols", "GatewayCore"],
            exclude: ["boto3-seed-requests.json", "boto3-seed-responses.json", "boto3-json-requests.json", "boto3-query-requests.json", "boto3-xml-requests.json", "boto3-presign-urls.json"]),
    ]
)
