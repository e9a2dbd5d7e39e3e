import Foundation
import AWSJSON
@testable import AWSSigning
import Crypto
import Testing
import TestSupport

/// A raw HTTP request from a test vector: request line, headers (with folded
/// continuation lines), blank line, body.
struct RawRequest {
    var method = ""
    var path = ""
    var query = ""
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []

    init(_ text: String) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        let requestLine = lines.removeFirst()
        let firstSpace = requestLine.firstIndex(of: " ")!
        method = String(requestLine[..<firstSpace])
        var target = String(requestLine[requestLine.index(after: firstSpace)...])
        if let versionRange = target.range(of: " HTTP/", options: .backwards) { target = String(target[..<versionRange.lowerBound]) }
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        } else {
            path = target
        }
        var bodyStart: Int?
        for (i, line) in lines.enumerated() {
            if line.isEmpty {
                bodyStart = i + 1
                break
            }
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            let colon = line.firstIndex(of: ":")!
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        if let bodyStart, bodyStart < lines.count {
            body = Array(lines[bodyStart...].joined(separator: "\n").utf8)
        }
    }

    var signable: SignableRequest { SignableRequest(method: method, path: path, query: query, headers: headers, body: body) }
}

struct AwsCAuthCase: CustomTestStringConvertible, Sendable {
    let suite: String
    let name: String
    let dir: String
    var testDescription: String { "\(suite)/\(name)" }

    static func all() -> [AwsCAuthCase] {
        var cases: [AwsCAuthCase] = []
        for (suite, base) in [
            ("aws-c-auth", Fixtures.sharedConformance + "/sigv4/aws-c-auth/v4"),
            ("smithy-kotlin", Fixtures.sharedConformance + "/sigv4/extras/smithy-kotlin/v4"),
            ("smithy-rs", Fixtures.sharedConformance + "/sigv4/extras/smithy-rs/v4"),
        ] {
            for name in Fixtures.listDirectory(base) where Fixtures.isDirectory(base + "/" + name) {
                cases.append(AwsCAuthCase(suite: suite, name: name, dir: base + "/" + name))
            }
        }
        return cases
    }
}

/// The vectors live beside the repository (`../shared/conformance`, from the project's
/// steering repo), not in it: a newcomer's clone has none, and then these are skipped
/// with the reason shown. Under CI (`CI=true`) they must be there.
let sharedVectorsPresent = Fixtures.isDirectory(Fixtures.sharedConformance + "/sigv4")
let sharedVectorsRequired = ProcessInfo.processInfo.environment["CI"] == "true"

@Suite("SigV4 conformance: ../shared/conformance (aws-c-auth, smithy)",
       .enabled(if: sharedVectorsPresent || sharedVectorsRequired,
                "../shared/conformance is not beside this clone: the 42 shared SigV4 vectors are skipped (botocore's own SigV4 suite still runs)"))
struct SharedConformanceTests {
    @Test("the shared vectors are all present")
    func vectorsPresent() {
        let cases = AwsCAuthCase.all()
        #expect(cases.filter { $0.suite == "aws-c-auth" }.count == 38)
        #expect(cases.count == 42)
    }

    @Test("header signing and presigning", arguments: AwsCAuthCase.all())
    func vector(_ testCase: AwsCAuthCase) throws {
        let request = RawRequest(try Fixtures.readText(testCase.dir + "/request.txt"))
        let context: JSON
        if let json = try? Fixtures.readJSON(testCase.dir + "/context.json") {
            context = json
        } else {
            // The smithy-rs cases carry no context: their signed request names the scope.
            let signed = try Fixtures.readText(testCase.dir + "/header-signed-request.txt")
            let scope = signed.components(separatedBy: "Credential=")[1].components(separatedBy: ",")[0].split(separator: "/")
            let canonical = try Fixtures.readText(testCase.dir + "/header-canonical-request.txt")
            let d = Array(canonical.components(separatedBy: "x-amz-date:")[1].prefix(16))
            func part(_ from: Int, _ count: Int) -> String { String(d[from..<(from + count)]) }
            let timestamp: String = part(0, 4) + "-" + part(4, 2) + "-" + part(6, 2) + "T" + part(9, 2) + ":" + part(11, 2) + ":" + part(13, 2) + "Z"
            var object = JSONObject()
            object.append("credentials", .object(JSONObject([("access_key_id", .string(String(scope[0]))), ("secret_access_key", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")])))
            object.append("region", .string(String(scope[2])))
            object.append("service", .string(String(scope[3])))
            object.append("timestamp", .string(timestamp))
            context = .object(object)
        }
        let credentials = Credentials(
            accessKeyId: context["credentials"]?["access_key_id"]?.stringValue ?? "",
            secretAccessKey: context["credentials"]?["secret_access_key"]?.stringValue ?? "",
            sessionToken: context["credentials"]?["token"]?.stringValue)
        var options = SigV4Options()
        options.normalizePath = context["normalize"]?.boolValue ?? true
        options.doubleEncodePath = context["double_uri_encode"]?.boolValue ?? true
        options.addContentSHA256Header = context["sign_body"]?.boolValue ?? false
        options.omitSessionTokenFromSignature = context["omit_session_token"]?.boolValue ?? false
        options.unsignedHeaders = []  // these vectors sign every header they give
        let time = try #require(Timestamp.parse(context["timestamp"]?.stringValue ?? ""))
        let signer = SigV4Signer(
            credentials: credentials, region: context["region"]?.stringValue ?? "", service: context["service"]?.stringValue ?? "",
            options: options)

        var headerRequest = request.signable
        let headerResult = signer.sign(&headerRequest, at: time)
        #expect(headerResult.canonicalRequest == (try Fixtures.readText(testCase.dir + "/header-canonical-request.txt")))
        if let expected = try? Fixtures.readText(testCase.dir + "/header-string-to-sign.txt") {
            #expect(headerResult.stringToSign == expected.trimmingCharacters(in: .newlines))
        }
        if let expected = try? Fixtures.readText(testCase.dir + "/header-signature.txt") {
            #expect(headerResult.signature == expected.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(headerRequest.header("Authorization")?.hasSuffix("Signature=" + headerResult.signature) == true)
        }

        if let expectedCanonical = try? Fixtures.readText(testCase.dir + "/query-canonical-request.txt") {
            var queryRequest = request.signable
            let expires = Int(context["expiration_in_seconds"]?.intValue ?? 3600)
            let queryResult = signer.presign(&queryRequest, at: time, expires: expires)
            #expect(queryResult.canonicalRequest == expectedCanonical)
            #expect(queryResult.stringToSign == (try Fixtures.readText(testCase.dir + "/query-string-to-sign.txt")))
            let expectedSignature = try Fixtures.readText(testCase.dir + "/query-signature.txt").trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(queryResult.signature == expectedSignature)
            #expect(queryRequest.query.hasSuffix("X-Amz-Signature=" + expectedSignature))
        }
    }
}

struct BotocoreSigV4Case: CustomTestStringConvertible, Sendable {
    let name: String
    let dir: String
    var testDescription: String { name }

    /// botocore's own ignore list (tests/unit/auth/test_sigv4.py), with its reasons.
    static let ignored: [String: String] = [
        "normalize-path/get-space": "bad request-line syntax (botocore skips it too)",
        "get-vanilla-query-order-key-case": "repeated query keys: not supported by the SDKs (botocore skips it)",
        "get-vanilla-query-order-key": "repeated query keys: not supported by the SDKs (botocore skips it)",
        "get-vanilla-query-order-value": "repeated query keys: not supported by the SDKs (botocore skips it)",
    ]

    static var root: String { Fixtures.botocoreTests + "/unit/auth/aws4_testsuite" }

    static func all() -> [BotocoreSigV4Case] {
        var cases: [BotocoreSigV4Case] = []
        func walk(_ relative: String) {
            let dir = relative.isEmpty ? root : root + "/" + relative
            let entries = Fixtures.listDirectory(dir)
            if entries.contains(where: { $0.hasSuffix(".req") }) {
                if ignored[relative] == nil { cases.append(BotocoreSigV4Case(name: relative, dir: dir)) }
                return
            }
            for entry in entries where Fixtures.isDirectory(dir + "/" + entry) {
                walk(relative.isEmpty ? entry : relative + "/" + entry)
            }
        }
        walk("")
        return cases
    }
}

@Suite("SigV4 conformance: botocore aws4_testsuite")
struct BotocoreAws4TestsuiteTests {
    @Test("the suite was fetched")
    func suitePresent() {
        #expect(BotocoreSigV4Case.all().count >= 25)
    }

    @Test("signs as the suite says", arguments: BotocoreSigV4Case.all())
    func vector(_ testCase: BotocoreSigV4Case) throws {
        let base = testCase.dir + "/" + testCase.name.split(separator: "/").last!
        let request = RawRequest(try Fixtures.readText(base + ".req"))
        let canonical = try Fixtures.readText(base + ".creq").replacingOccurrences(of: "\r", with: "")
        var token: String?
        for line in canonical.split(separator: "\n") where line.hasPrefix("x-amz-security-token:") {
            token = String(line.dropFirst("x-amz-security-token:".count))
        }
        let signer = SigV4Signer(
            credentials: Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: token),
            region: "us-east-1", service: "service")
        var signable = request.signable
        // A token already in the request is signed as a header; don't add it twice.
        if signable.header("X-Amz-Security-Token") != nil {
            signable.headers.removeAll { $0.name.lowercased() == "x-amz-security-token" }
        }
        let result = signer.sign(&signable, at: Timestamp(year: 2015, month: 8, day: 30, hour: 12, minute: 36))
        #expect(result.canonicalRequest == canonical)
        #expect(result.stringToSign == (try Fixtures.readText(base + ".sts")).replacingOccurrences(of: "\r", with: ""))
        let authorization = try Fixtures.readText(base + ".authz").replacingOccurrences(of: "\r", with: "")
        #expect(signable.header("Authorization") == authorization)
    }
}

@Suite("SigV4 details")
struct SigV4DetailTests {
    @Test("the derived key matches AWS's documented example")
    func derivedKey() {
        // From the AWS General Reference "Examples of how to derive a signing key".
        let key = SigV4Signer.deriveKey(secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", day: "20120215", region: "us-east-1", service: "iam")
        let hexKey = key.withUnsafeBytes { Array($0) }.map { String(format: "%02x", $0) }.joined()
        #expect(hexKey == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    @Test("the key cache gives the same key and separates secrets")
    func keyCache() {
        let cache = SigningKeyCache()
        let a = cache.key(secret: "s1", day: "20260101", region: "us-west-2", service: "networkmanager")
        let b = cache.key(secret: "s1", day: "20260101", region: "us-west-2", service: "networkmanager")
        let c = cache.key(secret: "s2", day: "20260101", region: "us-west-2", service: "networkmanager")
        #expect(a == b)
        #expect(a != c)
        #expect(cache.material(secret: "s1", day: "20260101", region: "us-west-2", service: "networkmanager").scope
                == "20260101/us-west-2/networkmanager/aws4_request")
        // Signing through the cache (twice, and on another day) is signing without it.
        let credentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s1")
        for (seconds, region) in [(1_767_225_600, "us-west-2"), (1_767_225_600, "us-west-2"), (1_767_312_000, "eu-west-1")] {
            func authorization(_ keyCache: SigningKeyCache?) -> String? {
                var request = SignableRequest(method: "POST", path: "/x", headers: [("Host", "h.example")], body: Array("{}".utf8))
                SigV4Signer(credentials: credentials, region: region, service: "networkmanager", keyCache: keyCache)
                    .sign(&request, at: Timestamp(seconds: Int64(seconds), microseconds: 0))
                return request.header("Authorization")
            }
            let signed = authorization(cache)
            #expect(signed != nil && signed == authorization(nil))
            #expect(signed?.contains("Credential=AKIDEXAMPLE/\(seconds == 1_767_225_600 ? "20260101" : "20260102")/\(region)/networkmanager/aws4_request,") == true)
        }
    }

    @Test("credentials never print their secret")
    func redaction() {
        let creds = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "SECRETSECRET", sessionToken: "TOKENTOKEN")
        #expect(!"\(creds)".contains("SECRETSECRET"))
        #expect(!"\(creds)".contains("TOKENTOKEN"))
    }
}

@Suite("SigV4 path normalization fast path")
struct PathNormalizationTests {
    @Test("paths the fast path skips are already normal")
    func fastPathAgrees() {
        let pieces = ["/", "a", ".", "..", "...", ".a", "a.", "%2F", "//", "b"]
        var checked = 0
        for a in pieces { for b in pieces { for c in pieces {
            let path = "/" + a + b + "/" + c
            if !SigV4Signer.needsNormalization(path) {
                #expect(SigV4Signer.removeDotSegments(path) == path, "\(path)")
                checked += 1
            }
        }}}
        #expect(checked > 100)
        #expect(SigV4Signer.needsNormalization("/a/./b"))
        #expect(SigV4Signer.needsNormalization("/a/../b"))
        #expect(SigV4Signer.needsNormalization("/a//b"))
        #expect(SigV4Signer.needsNormalization("/a/.."))
        #expect(!SigV4Signer.needsNormalization("/a/.../b"))
        #expect(!SigV4Signer.needsNormalization("/a/.b/c."))
    }
}

@Suite("HMAC-SHA256 with a prepared key")
struct PreparedHMACTests {
    static func hexOf(_ digest: some Sequence<UInt8>) -> String { digest.map { String(format: "%02x", $0) }.joined() }

    @Test("RFC 4231's vectors: a short key, a block-size key, a key longer than a block")
    func rfc4231() {
        let cases: [(key: [UInt8], message: String, mac: String)] = [
            (Array("Jefe".utf8), "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0x0b, count: 20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            ([UInt8](repeating: 0xaa, count: 131), "Test Using Larger Than Block-Size Key - Hash Key First",
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ]
        for (key, message, mac) in cases {
            let prepared = PreparedHMACSHA256(key: SymmetricKey(data: key))
            #expect(Self.hexOf(prepared.authenticationCode(for: Array(message.utf8))) == mac)
            // Used again, it starts from the same state.
            #expect(Self.hexOf(prepared.authenticationCode(for: Array(message.utf8))) == mac)
        }
    }

    @Test("the same as swift-crypto's HMAC for keys and messages of every length up to two blocks")
    func matchesHMAC() {
        for keyLength in [0, 1, 32, 63, 64, 65, 128] {
            let key = SymmetricKey(data: (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
            let prepared = PreparedHMACSHA256(key: key)
            for messageLength in 0...130 {
                let message = (0..<messageLength).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
                #expect(Array(prepared.authenticationCode(for: message)) == Array(HMAC<SHA256>.authenticationCode(for: message, using: key)),
                        "key \(keyLength) bytes, message \(messageLength) bytes")
            }
        }
    }
}

@Suite("SigV4 canonical headers")
struct CanonicalHeaderTests {
    @Test("names lower-cased and sorted, repeated names joined in order, values trimmed and folded, unsigned names left out")
    func block() {
        let signer = SigV4Signer(credentials: Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret"), region: "us-east-1", service: "service")
        let headers: [(name: String, value: String)] = [
            ("X-Amz-Date", "20150830T123600Z"), ("host", "example.amazonaws.com"), ("My-Header1", "  a   b \t c  "), ("User-Agent", "curl"),
            ("my-header1", "second"), ("My-Header10", " z"), ("Empty", " \r\n "), ("X-Utf8", "é \t\tü"), ("expect", "100-continue"),
        ]
        let (block, signed) = signer.canonicalHeaderBlock(headers)
        #expect(String(decoding: block, as: UTF8.self) == """
            empty:
            host:example.amazonaws.com
            my-header1:a b c,second
            my-header10:z
            x-amz-date:20150830T123600Z
            x-utf8:é ü

            """)
        #expect(signed == "empty;host;my-header1;my-header10;x-amz-date;x-utf8")
    }

    @Test("unsigned names given in any case leave out headers in any case")
    func unsignedNamesWithoutCase() {
        var options = SigV4Options()
        options.unsignedHeaders = ["X-Forwarded-For"]
        let signer = SigV4Signer(credentials: Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret"), region: "us-east-1",
                                 service: "service", options: options)
        let (block, signed) = signer.canonicalHeaderBlock([("host", "h"), ("x-forwarded-for", "10.0.0.1"), ("User-Agent", "curl")])
        #expect(String(decoding: block, as: UTF8.self) == "host:h\nuser-agent:curl\n")
        #expect(signed == "host;user-agent")
    }
}
