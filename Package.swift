// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "awsgw",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "awsgw", targets: ["awsgw"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // zlib from the system (zlib1g-dev): gzip models now, compressed audit logs later.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // A small, fast, order-preserving JSON value with its own parser and writer.
        .target(name: "AWSJSON"),
        // botocore-format service models: lazy loading, shapes, name resolution.
        .target(name: "AWSModels", dependencies: ["AWSJSON", "CZlib"]),
        // Protocol serializers/parsers and parameter validation.
        .target(name: "AWSProtocols", dependencies: ["AWSModels", "AWSJSON"]),
        // Endpoints 2.0 rules interpreter and partitions.
        .target(name: "AWSEndpoints", dependencies: ["AWSJSON"]),
        // SigV4, pure functions over a request value.
        .target(name: "AWSSigning", dependencies: ["AWSJSON", .product(name: "Crypto", package: "swift-crypto")]),
        // Credential providers and the default chain.
        .target(name: "AWSCredentials", dependencies: ["AWSSigning"]),
        // Turns (service, operation, params) into a signed HTTP request and parses answers.
        .target(name: "AWSClient", dependencies: ["AWSModels", "AWSProtocols", "AWSEndpoints", "AWSSigning", "AWSCredentials", "AWSJSON"]),
        .executableTarget(name: "awsgw", dependencies: [
            "AWSClient",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "awsgw-bench", dependencies: ["AWSClient"]),

        // Locating the fetched fixtures and ../shared/conformance from tests.
        .target(name: "TestSupport", dependencies: ["AWSJSON"], path: "Tests/TestSupport"),
        .testTarget(name: "AWSJSONTests", dependencies: ["TestSupport", "AWSJSON"]),
        .testTarget(name: "AWSModelsTests", dependencies: ["TestSupport", "AWSModels"]),
        .testTarget(name: "AWSProtocolsTests", dependencies: ["TestSupport", "AWSProtocols"]),
        .testTarget(name: "AWSEndpointsTests", dependencies: ["TestSupport", "AWSEndpoints", "AWSModels"]),
        .testTarget(name: "AWSSigningTests", dependencies: ["TestSupport", "AWSSigning"]),
        .testTarget(name: "AWSCredentialsTests", dependencies: ["TestSupport", "AWSCredentials"]),
        // boto3-seed-requests.json / boto3-seed-responses.json: what botocore 1.44.5 sends
        // and returns for the seed operations (scripts/boto3_reference.py, boto3_parse_reference.py).
        // Runs the built awsgw binary as a user would.
        .testTarget(name: "awsgwCLITests", dependencies: ["TestSupport", "awsgw"]),
        .testTarget(
            name: "AWSClientTests", dependencies: ["TestSupport", "AWSClient"],
            exclude: ["boto3-seed-requests.json", "boto3-seed-responses.json"]),
    ]
)
