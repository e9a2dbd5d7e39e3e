import AWSClient
import AWSJSON
import AWSSigning
import Testing
import TestSupport

/// A presign case and the URL botocore 1.44.5 made for it (scripts/make_presign_reference.py).
struct PresignCase: CustomTestStringConvertible, Sendable {
    let name: String
    let json: JSON
    var testDescription: String { name }

    static func all() -> [PresignCase] {
        guard case .array(let items)? = try? Fixtures.readJSON(Fixtures.repoRoot + "/Tests/AWSClientTests/boto3-presign-urls.json") else { return [] }
        return items.map { PresignCase(name: $0["name"]?.stringValue ?? "?", json: $0) }
    }
}

@Suite("Presigned URLs: as boto3 makes them with SigV4")
struct PresignTests {
    @Test("the reference file is there")
    func inventory() { #expect(PresignCase.all().count == 8) }

    @Test("the URL is boto3's, byte for byte", arguments: PresignCase.all())
    func matchesBoto3(_ c: PresignCase) throws {
        let engine = try makeEngine()
        let handle = try engine.operation(try #require(c.json["method"]?.stringValue))
        let params = try engine.prepareParams(c.json["params"]?.objectValue ?? JSONObject(), for: handle, forPresigning: true)
        var credentials = exampleKeys
        credentials.sessionToken = c.json["sessionToken"]?.stringValue
        let expires = Int(try #require(c.json["expires"]?.intValue))
        let presigned = try engine.presign(handle, params: params, region: try #require(c.json["region"]?.stringValue),
                                            credentials: credentials, at: frozenTime, expires: expires)
        #expect(presigned.url == c.json["url"]?.stringValue)
        #expect(presigned.expires.seconds == frozenTime.seconds + Int64(expires))
        if c.name == "s3PutObjectContentType" {
            #expect(presigned.method == "PUT")
            #expect(presigned.headers.map(\.name) == ["Content-Type"] && presigned.headers.first?.value == "application/octet-stream")
        } else if c.name.hasPrefix("s3Get") {
            #expect(presigned.method == "GET" && presigned.headers.isEmpty)
        }
    }
}
