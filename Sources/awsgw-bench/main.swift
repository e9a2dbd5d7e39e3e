import AWSClient
import AWSJSON
import AWSModels
import AWSProtocols
import AWSSigning
import Foundation

// Micro-benchmarks of the engine. Run with `make bench` (release build).
// Each figure is the median of several rounds; a round times many iterations and
// divides, so clock resolution does not matter.

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Median per-iteration time in nanoseconds over `rounds` rounds of `iterations`.
func measure(rounds: Int = 9, iterations: Int, _ body: () throws -> Void) rethrows -> Double {
    var samples: [Double] = []
    for _ in 0..<rounds {
        let start = now()
        for _ in 0..<iterations { try body() }
        samples.append(Double(now() - start) / Double(iterations))
    }
    samples.sort()
    return samples[samples.count / 2]
}

func format(_ nanoseconds: Double) -> String {
    nanoseconds >= 1_000_000 ? String(format: "%.2f ms", nanoseconds / 1_000_000) : String(format: "%.2f µs", nanoseconds / 1000)
}

var modelsDir = FileManager.default.currentDirectoryPath + "/models"
var loadSeconds = 2.0
var only: String?
/// Repetitions of the single-purpose profiling modes (`--only query-parse`, `xml-parse`).
var profileLoops = 40
var sampleDirectory = "."
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--models", let value = arguments.popFirst() { modelsDir = value }
    if argument == "--seconds", let value = arguments.popFirst().flatMap(Double.init) { loadSeconds = value }
    if argument == "--only", let value = arguments.popFirst() { only = value }
    if argument == "--loops", let value = arguments.popFirst().flatMap(Int.init) { profileLoops = value }
    if argument == "--out", let value = arguments.popFirst() { sampleDirectory = value }
}
if only == "gateway" {
    try gatewayBenchmarks(modelsDir: modelsDir, seconds: loadSeconds)
    exit(0)
}
if only == "policy" {
    try policyAndCacheBenchmarks(modelsDir: modelsDir, seconds: loadSeconds)
    exit(0)
}
if only == "audit" {
    try auditBenchmarks(modelsDir: modelsDir, seconds: loadSeconds)
    exit(0)
}
if only == "server-path" {
    try serverPathBenchmark(modelsDir: modelsDir, loops: profileLoops)
    exit(0)
}
if only == "pipeline" {
    try pipelineBenchmark(modelsDir: modelsDir, loops: profileLoops)
    exit(0)
}
if only == "streams" {
    try streamBenchmarks(modelsDir: modelsDir)
    exit(0)
}
if only == "shared" {
    try sharedStateBenchmarks(modelsDir: modelsDir, seconds: loadSeconds)
    exit(0)
}

let store = try ModelStore(root: modelsDir)
let engine = AWSEngine(models: store, environment: [:])
let handle = try engine.operation("networkmanager.AssociateConnectPeer")
let params = try JSON.parse(#"{"GlobalNetworkId":"global-network-0123","ConnectPeerId":"connect-peer-0123","DeviceId":"device-0123","LinkId":"link-0123"}"#).objectValue!
let credentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
let time = Timestamp(year: 2026, month: 11, day: 20, hour: 10)

var rows: [(String, String, String)] = []

let query = try engine.operation("dynamodb.Query")
var items: [String] = []
for i in 0..<2500 {
    items.append(#"{"pk":{"S":"customer#\#(i)"},"sk":{"S":"2026-01-\#(i)"},"total":{"N":"\#(i).50"},"lines":{"L":[{"M":{"sku":{"S":"a-1"},"qty":{"N":"2"}}},{"M":{"sku":{"S":"b-2"},"qty":{"N":"1"}}}]},"tags":{"SS":["x","y","z"]},"note":{"S":"\#(String(repeating: "n", count: 200))"}}"#)
}
let queryBody = Array((#"{"Count":2500,"ScannedCount":2500,"Items":["# + items.joined(separator: ",") + "]}").utf8)
let queryResponse = ResponseData(status: 200, headers: [("x-amzn-RequestId", "req-1")], body: queryBody)
let describe = try engine.operation("ec2.DescribeInstances")
let describeBody = Array(describeInstancesXML(instances: 100).utf8)
let describeResponse = ResponseData(status: 200, headers: [("Content-Type", "text/xml;charset=UTF-8")], body: describeBody)
if only == "xml-parse" {
    for _ in 0..<profileLoops {
        if case .success(let result) = engine.parseResponse(describeResponse, for: describe) { _ = JSON.object(result).serialized() }
    }
    exit(0)
}
if only == "write-samples" {
    // The answers the parse figures use, for scripts/bench_botocore_parse.py to time
    // botocore on the same bytes.
    let directory = sampleDirectory
    _ = FileManager.default.createFile(atPath: directory + "/dynamodb-query.json", contents: Data(queryBody))
    _ = FileManager.default.createFile(atPath: directory + "/ec2-describe-instances.xml", contents: Data(describeBody))
    exit(0)
}
if only == "put-1mib" {
    let putObject = try engine.operation("s3.PutObject")
    let body = Base64.encode([UInt8](repeating: 0x61, count: 1 << 20))
    let putParams = JSONObject([("Bucket", "team-data"), ("Key", "reports/a.bin"), ("Body", .string(body))])
    for _ in 0..<profileLoops {
        let prepared = try engine.prepareParams(putParams, for: putObject)
        _ = try engine.buildRequest(putObject, params: prepared, region: "eu-west-1", credentials: credentials, at: time)
    }
    exit(0)
}
let listObjects = try engine.operation("s3.ListObjectsV2")
var contents = ""
for i in 0..<1000 {
    contents += "<Contents><Key>reports/2026/11/object-\(i).csv</Key><LastModified>2026-11-20T10:00:00.000Z</LastModified>"
        + "<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>\(i * 7)</Size>"
        + "<StorageClass>STANDARD</StorageClass></Contents>"
}
let listBody = Array(("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    + "<Name>team-data</Name><Prefix>reports/</Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>"
    + contents + "</ListBucketResult>").utf8)
let listResponse = ResponseData(status: 200, headers: [("x-amz-request-id", "r")], body: listBody)
let cborOperation = try engine.operation("eventbridgev2.ListEventBuses")
var cbor: [UInt8] = []
// {"EventBuses": [ {Name, Arn, Description, CreationTime(tag 1)} x N ], "NextToken": "t"}
var writerItems: [UInt8] = []
let busCount = 4500
for i in 0..<busCount {
    func text(_ s: String) -> [UInt8] {
        let u = Array(s.utf8)
        return (u.count < 24 ? [0x60 | UInt8(u.count)] : [0x78, UInt8(u.count)]) + u
    }
    writerItems += [0xA4] + text("Name") + text("bus-\(i)") + text("EventBusArn") + text("arn:aws:events:us-east-1:123456789012:event-bus/bus-\(i)")
        + text("Description") + text(String(repeating: "d", count: 120)) + text("CreationTime") + [0xC1, 0x1A, 0x69, 0x1E, 0xE6, 0xA0]
}
cbor = [0xA2] + [0x6A] + Array("EventBuses".utf8) + [0x99, UInt8(busCount >> 8), UInt8(busCount & 0xFF)] + writerItems + [0x69] + Array("NextToken".utf8) + [0x61, 0x74]
let cborResponse = ResponseData(status: 200, headers: [("x-amzn-RequestId", "r")], body: cbor)
if only == "list-parse" || only == "cbor-parse" {
    for _ in 0..<profileLoops {
        let (response, handle) = only == "list-parse" ? (listResponse, listObjects) : (cborResponse, cborOperation)
        if case .success(let result) = engine.parseResponse(response, for: handle) { _ = JSON.object(result).serialized() }
    }
    exit(0)
}
// The small calls built and signed (issue 10's µs figures, issue 14's per-call cost).
let putItem = try engine.operation("dynamodb.PutItem")
let putItemParams = try JSON.parse(#"{"TableName":"orders","Item":{"pk":{"S":"order#1"},"total":{"N":"12.50"},"paid":{"BOOL":true},"lines":{"L":[{"M":{"sku":{"S":"a-1"},"qty":{"N":"2"}}},{"M":{"sku":{"S":"b-2"},"qty":{"N":"1"}}}]},"tags":{"SS":["x","y"]}},"ConditionExpression":"attribute_not_exists(pk)"}"#).objectValue!
let describeParams = try JSON.parse(#"{"Filters":[{"Name":"instance-state-name","Values":["running","pending"]},{"Name":"tag:team","Values":["net ops"]},{"Name":"vpc-id","Values":["vpc-0123456789abcdef0"]}],"MaxResults":100}"#).objectValue!
let assumeRole = try engine.operation("sts.AssumeRole")
let assumeRoleParams = try JSON.parse(#"{"RoleArn":"arn:aws:iam::123456789012:role/app","RoleSessionName":"awsgw-session","DurationSeconds":3600,"Tags":[{"Key":"team","Value":"net ops"}]}"#).objectValue!
if only == "sign" {
    // For profilers: only the signature of a small request (the seed call's), repeated.
    let signer = SigV4Signer(credentials: credentials, region: "us-west-2", service: "networkmanager", keyCache: SigningKeyCache())
    let body = Array(#"{"ConnectPeerId": "connect-peer-0123", "DeviceId": "device-0123", "LinkId": "link-0123"}"#.utf8)
    for _ in 0..<profileLoops * 1000 {
        var request = SignableRequest(method: "POST", path: "/global-networks/global-network-0123/connect-peer-associations",
                                      headers: [("Host", "networkmanager.us-west-2.amazonaws.com"), ("Content-Type", "application/json")], body: body)
        signer.sign(&request, at: time)
    }
    exit(0)
}
if let name = only, name.hasPrefix("build-") {
    // For profilers: one operation validated, serialized, resolved and signed, repeated.
    let cases = ["build-seed": (handle, params, "us-east-1"), "build-putitem": (putItem, putItemParams, "us-east-1"),
                 "build-describe": (describe, describeParams, "us-east-1"), "build-assumerole": (assumeRole, assumeRoleParams, "eu-west-1")]
    guard let (operation, operationParams, region) = cases[name] else { print("unknown \(name)"); exit(2) }
    for _ in 0..<profileLoops * 1000 {
        let prepared = try engine.prepareParams(operationParams, for: operation)
        _ = try engine.buildRequest(operation, params: prepared, region: region, credentials: credentials, at: time)
    }
    exit(0)
}
if only == "query-parse" {
    // For profilers: only the 1 MB DynamoDB Query parse, repeated.
    for _ in 0..<profileLoops {
        if case .success(let result) = engine.parseResponse(queryResponse, for: query) { _ = JSON.object(result).serialized() }
    }
    exit(0)
}

let fullBuild = try measure(iterations: 20_000) {
    let prepared = try engine.prepareParams(params, for: handle)
    _ = try engine.buildRequest(handle, params: prepared, region: "us-east-1", credentials: credentials, at: time)
}
rows.append(("AssociateConnectPeer: validate + serialize + endpoint + sign", format(fullBuild), "≤ 15 µs"))

let validateOnly = try measure(iterations: 200_000) { _ = try engine.prepareParams(params, for: handle) }
rows.append(("  of which validate (+ token fill)", format(validateOnly), ""))

let endpointOnly = try measure(iterations: 50_000) { _ = try engine.resolveEndpoint(handle, params: params, region: "us-east-1") }
rows.append(("  of which endpoint resolution", format(endpointOnly), ""))

let serializer = RESTSerializer(operation: handle.operation)
let serializeOnly = try measure(iterations: 200_000) { _ = try serializer.serialize(params) }
rows.append(("  of which serialize", format(serializeOnly), ""))

let signer = SigV4Signer(credentials: credentials, region: "us-west-2", service: "networkmanager", keyCache: SigningKeyCache())
let body = Array(#"{"ConnectPeerId": "connect-peer-0123", "DeviceId": "device-0123", "LinkId": "link-0123"}"#.utf8)
let signOnly = measure(iterations: 50_000) {
    var request = SignableRequest(method: "POST", path: "/global-networks/global-network-0123/connect-peer-associations",
                                  headers: [("Host", "networkmanager.us-west-2.amazonaws.com"), ("Content-Type", "application/json")], body: body)
    signer.sign(&request, at: time)
}
rows.append(("  of which sign (SigV4, cached key)", format(signOnly), ""))

let responseBody = Array(#"{"ConnectPeerAssociation":{"ConnectPeerId":"connect-peer-0123","GlobalNetworkId":"global-network-0123","DeviceId":"device-0123","LinkId":"link-0123","State":"PENDING"}}"#.utf8)
let response = ResponseData(status: 200, headers: [("x-amzn-RequestId", "req-1"), ("Content-Type", "application/json")], body: responseBody)
let parse = measure(iterations: 200_000) {
    if case .success(let result) = engine.parseResponse(response, for: handle) { _ = JSON.object(result).serialized() }
}
rows.append(("AssociateConnectPeer: parse response to JSON result", format(parse), ""))

// The json protocol: DynamoDB PutItem with nested attribute values, and parsing a ~1 MB Query answer.
let putItemBuild = try measure(iterations: 20_000) {
    let prepared = try engine.prepareParams(putItemParams, for: putItem)
    _ = try engine.buildRequest(putItem, params: prepared, region: "us-east-1", credentials: credentials, at: time)
}
rows.append(("dynamodb.PutItem (json): validate + serialize + endpoint + sign", format(putItemBuild), "≤ 15 µs"))

let queryParse = measure(rounds: 7, iterations: 5) {
    if case .success(let result) = engine.parseResponse(queryResponse, for: query) { _ = JSON.object(result).serialized() }
}
rows.append(("dynamodb.Query (json): parse a \(queryBody.count / 1000) KB answer to the JSON result", format(queryParse), "≤ 5 ms"))

// The ec2 protocol: DescribeInstances with 3 filters built and signed, and a 100-instance
// answer (about 500 KB of XML) parsed.
let describeBuild = try measure(iterations: 20_000) {
    let prepared = try engine.prepareParams(describeParams, for: describe)
    _ = try engine.buildRequest(describe, params: prepared, region: "us-east-1", credentials: credentials, at: time)
}
rows.append(("ec2.DescribeInstances, 3 filters (ec2): validate + serialize + endpoint + sign", format(describeBuild), "≤ 20 µs"))

let assumeRoleBuild = try measure(iterations: 20_000) {
    let prepared = try engine.prepareParams(assumeRoleParams, for: assumeRole)
    _ = try engine.buildRequest(assumeRole, params: prepared, region: "eu-west-1", credentials: credentials, at: time)
}
rows.append(("sts.AssumeRole (query): validate + serialize + endpoint + sign", format(assumeRoleBuild), "≤ 20 µs"))

let describeParse = measure(rounds: 7, iterations: 5) {
    if case .success(let result) = engine.parseResponse(describeResponse, for: describe) { _ = JSON.object(result).serialized() }
}
rows.append(("ec2.DescribeInstances: parse a \(describeBody.count / 1000) KB, 100-instance answer to the JSON result", format(describeParse), "≤ 5 ms"))

// rest-xml and CBOR: S3 uploads built and signed (the payload hash and CRC32 included), a
// 1,000-key ListObjectsV2 answer and a 1 MB CBOR answer parsed.
let putObject = try engine.operation("s3.PutObject")
for (label, size) in [("1 KiB", 1024), ("1 MiB", 1 << 20)] {
    let body = Base64.encode([UInt8](repeating: 0x61, count: size))
    let putParams = JSONObject([("Bucket", "team-data"), ("Key", "reports/a.bin"), ("Body", .string(body)), ("ContentType", "application/octet-stream")])
    let putBuild = try measure(rounds: 7, iterations: size > 4096 ? 20 : 5_000) {
        let prepared = try engine.prepareParams(putParams, for: putObject)
        _ = try engine.buildRequest(putObject, params: prepared, region: "eu-west-1", credentials: credentials, at: time)
    }
    rows.append(("s3.PutObject \(label) (rest-xml): validate + serialize + CRC32 + endpoint + sign", format(putBuild), size > 4096 ? "≤ 3 ms" : ""))
}
let listParse = measure(rounds: 7, iterations: 10) {
    if case .success(let result) = engine.parseResponse(listResponse, for: listObjects) { _ = JSON.object(result).serialized() }
}
rows.append(("s3.ListObjectsV2: parse a 1,000-key answer (\(listBody.count / 1000) KB) to the JSON result", format(listParse), "≤ 5 ms"))

let cborParse = measure(rounds: 7, iterations: 5) {
    if case .success(let result) = engine.parseResponse(cborResponse, for: cborOperation) { _ = JSON.object(result).serialized() }
}
rows.append(("eventbridgev2.ListEventBuses: parse a \(cbor.count / 1000) KB CBOR answer to the JSON result", format(cborParse), "≤ 5 ms"))

for (service, target) in [("networkmanager", "≤ 10 ms"), ("ec2", "≤ 150 ms")] {
    let cold = try measure(rounds: 7, iterations: 1) {
        let fresh = try ModelStore(root: modelsDir)
        _ = try fresh.service(service)
    }
    rows.append(("cold load of the \(service) model (read + parse + compile)", format(cold), target))
}

let nameWidth = rows.map(\.0.count).max()!
print("awsgw engine benchmarks (release build, median of rounds)")
for (name, value, target) in rows {
    print(name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  " + value.padding(toLength: 10, withPad: " ", startingAt: 0) + "  " + target)
}

if only != "engine" {
    try gatewayBenchmarks(modelsDir: modelsDir, seconds: loadSeconds)
    try policyAndCacheBenchmarks(modelsDir: modelsDir, seconds: loadSeconds)
    try auditBenchmarks(modelsDir: modelsDir, seconds: loadSeconds)
    try sharedStateBenchmarks(modelsDir: modelsDir, seconds: loadSeconds)
    try streamBenchmarks(modelsDir: modelsDir)
}
