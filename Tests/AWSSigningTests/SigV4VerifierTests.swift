import AWSPrimitives
@testable import AWSSigning
import Foundation
import Testing
import TestSupport

/// The AWS door's check of a caller's signature: every signed request of AWS's own test
/// suites verifies, and any change to what was signed does not.
@Suite("SigV4 verification (the AWS door)")
struct SigV4VerifierTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let verifier = SigV4Verifier { $0 == "AKIDEXAMPLE" ? secret : nil }

    static func options(normalize: Bool = true, s3: Bool = false) -> (String) -> SigV4Options {
        { _ in
            var options = SigV4Options()
            options.normalizePath = normalize && !s3
            options.doubleEncodePath = !s3
            options.unsignedPayload = s3
            return options
        }
    }

    static func verify(_ request: RawRequest, at time: Timestamp, normalize: Bool = true) -> Result<SigV4Verifier.Verified, SigV4Verifier.Failure> {
        verifier.verify(request.signable, body: request.body, at: time, options: options(normalize: normalize))
    }

    /// The request with one byte of `field` changed: the signature, a signed header's value, the path.
    static func tampered(_ request: RawRequest, _ field: String) -> RawRequest {
        var copy = request
        switch field {
        case "signature":
            if let index = copy.headers.firstIndex(where: { $0.name.lowercased() == "authorization" }) {
                let value = copy.headers[index].value
                copy.headers[index].value = String(value.dropLast()) + (value.hasSuffix("0") ? "1" : "0")
            } else {
                copy.query = String(copy.query.dropLast()) + (copy.query.hasSuffix("0") ? "1" : "0")
            }
        case "host":
            if let index = copy.headers.firstIndex(where: { $0.name.lowercased() == "host" }) { copy.headers[index].value += "m" }
        default:
            copy.path += "x"
        }
        return copy
    }

    @Test("the shared vectors' signed requests verify, by header and presigned; a byte changed in the signature, the host or the path does not",
          .enabled(if: sharedVectorsPresent || sharedVectorsRequired, "../shared/conformance is not beside this clone: skipped"),
          arguments: AwsCAuthCase.all().filter { $0.suite == "aws-c-auth" })
    func sharedVectors(_ testCase: AwsCAuthCase) throws {
        let context = try Fixtures.readJSON(testCase.dir + "/context.json")
        let time = try #require(Timestamp.parse(context["timestamp"]?.stringValue ?? ""))
        let normalize = context["normalize"]?.boolValue ?? true
        for kind in ["header", "query"] {
            // IoT's form: the token added to a presigned query after signing, which AWS's
            // other services (and the gateway, whose keys have no token) refuse.
            if kind == "query" && context["omit_session_token"]?.boolValue == true { continue }
            guard let text = try? Fixtures.readText(testCase.dir + "/\(kind)-signed-request.txt") else { continue }
            let request = RawRequest(text)
            let verified = try Self.verify(request, at: time, normalize: normalize).get()
            #expect(verified.accessKeyId == "AKIDEXAMPLE" && verified.region == context["region"]?.stringValue
                    && verified.service == context["service"]?.stringValue && verified.presigned == (kind == "query"))
            for field in ["signature", "host", "path"] {
                guard case .failure(let failure) = Self.verify(Self.tampered(request, field), at: time, normalize: normalize) else {
                    Issue.record("\(kind): a changed \(field) verified")
                    continue
                }
                #expect(failure == .signatureMismatch, "\(kind), \(field): \(failure)")
            }
        }
    }

    /// Its .sreq carries get-vanilla's signature, not one over the token (botocore checks
    /// only that case's canonical request and string to sign).
    static let inconsistentSignedRequests: Set<String> = ["get-vanilla-with-session-token"]

    @Test("botocore's aws4_testsuite: every signed request (.sreq) verifies",
          arguments: BotocoreSigV4Case.all().filter { !SigV4VerifierTests.inconsistentSignedRequests.contains($0.name) })
    func botocoreSuite(_ testCase: BotocoreSigV4Case) throws {
        let base = testCase.dir + "/" + testCase.name.split(separator: "/").last!
        let request = RawRequest(try Fixtures.readText(base + ".sreq"))
        // The suite signs at 2015-08-30T12:36:00Z.
        let verified = try Self.verify(request, at: Timestamp(year: 2015, month: 8, day: 30, hour: 12, minute: 36)).get()
        #expect(verified.service == "service" && verified.region == "us-east-1")
        #expect(Self.verify(Self.tampered(request, "signature"), at: Timestamp(year: 2015, month: 8, day: 30, hour: 12, minute: 36))
                == .failure(.signatureMismatch))
    }

    /// A request signed here with the example key, as an SDK would sign it.
    static func signed(path: String = "/", query: String = "", body: String = "", contentHash: String? = nil, at time: Timestamp,
                       service: String = "dynamodb", key: String = "AKIDEXAMPLE") -> SignableRequest {
        var request = SignableRequest(method: "POST", path: path, query: query, headers: [("Host", "127.0.0.1:4566"), ("Content-Type", "application/x-amz-json-1.0")],
                                      body: Array(body.utf8))
        var options = SigV4Options()
        options.payloadHash = contentHash
        options.addContentSHA256Header = contentHash != nil
        options.doubleEncodePath = service != "s3"
        options.normalizePath = service != "s3"
        SigV4Signer(credentials: Credentials(accessKeyId: key, secretAccessKey: secret), region: "eu-west-1", service: service, options: options)
            .sign(&request, at: time)
        return request
    }

    static let now = Timestamp(year: 2026, month: 12, day: 8, hour: 10)

    @Test("refusals: no signature, an unknown key, a malformed header, a missing signed header, outside ±5 minutes, an expired presigned URL, a body unlike its hash")
    func refusals() throws {
        let request = Self.signed(body: #"{"TableName":"t"}"#, at: Self.now)
        #expect(try Self.verifier.verify(request, body: request.body, at: Self.now, options: Self.options()).get().region == "eu-west-1")
        // ±5 minutes: 299 s either way verifies, 301 s does not.
        for (offset, verifies) in [(299, true), (-299, true), (301, false), (-301, false)] {
            let result = Self.verifier.verify(request, body: request.body, at: Timestamp(seconds: Self.now.seconds + Int64(offset)), options: Self.options())
            if verifies { #expect((try? result.get()) != nil, "\(offset)") } else {
                guard case .failure(.skewed) = result else { Issue.record("\(offset) s: \(result)"); continue }
            }
        }
        var unsigned = request
        unsigned.headers.removeAll { $0.name == "Authorization" }
        #expect(Self.verifier.verify(unsigned, body: request.body, at: Self.now, options: Self.options()) == .failure(.missingAuthentication))
        let stranger = Self.signed(body: "{}", at: Self.now, key: "AKIDOTHER")
        #expect(Self.verifier.verify(stranger, body: stranger.body, at: Self.now, options: Self.options()) == .failure(.unknownKey("AKIDOTHER")))
        var malformed = request
        malformed.setHeader("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261208/eu-west-1/dynamodb, SignedHeaders=host, Signature=00")
        guard case .failure(.incomplete) = Self.verifier.verify(malformed, body: request.body, at: Self.now, options: Self.options()) else {
            Issue.record("a four-part scope verified")
            return
        }
        var missing = request
        missing.headers.removeAll { $0.name == "Content-Type" }
        guard case .failure(.incomplete(let why)) = Self.verifier.verify(missing, body: request.body, at: Self.now, options: Self.options()) else {
            Issue.record("a missing signed header verified")
            return
        }
        #expect(why.contains("content-type"))
        // The body changed after signing: its hash is in the signature.
        #expect(Self.verifier.verify(request, body: Array("{}".utf8), at: Self.now, options: Self.options()) == .failure(.signatureMismatch))
    }

    @Test("payloads: x-amz-content-sha256 is checked against a whole body; UNSIGNED-PAYLOAD and streaming forms are signed as given; S3 paths are not encoded again")
    func payloads() throws {
        let body = "hello"
        let hashed = Self.signed(path: "/bucket/a%20b", body: body, contentHash: SigV4Signer.hexSHA256(Array(body.utf8)), at: Self.now, service: "s3")
        let s3 = Self.options(s3: true)
        #expect(try Self.verifier.verify(hashed, body: hashed.body, at: Self.now, options: s3).get().service == "s3")
        #expect(Self.verifier.verify(hashed, body: Array("hellO".utf8), at: Self.now, options: s3) == .failure(.bodyMismatch))
        // The same S3 request checked with another service's path rules (encoded again) does not match.
        #expect(Self.verifier.verify(hashed, body: hashed.body, at: Self.now, options: Self.options()) == .failure(.signatureMismatch))
        let unsigned = Self.signed(path: "/bucket/key", body: body, contentHash: "UNSIGNED-PAYLOAD", at: Self.now, service: "s3")
        #expect(try Self.verifier.verify(unsigned, body: Array("anything".utf8), at: Self.now, options: s3).get().payloadHash == "UNSIGNED-PAYLOAD")
        let streaming = Self.signed(path: "/bucket/key", contentHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", at: Self.now, service: "s3")
        let verified = try Self.verifier.verify(streaming, body: nil, at: Self.now, options: s3).get()
        #expect(verified.payloadHash == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" && verified.signature.count == 64)
    }

    @Test("presigned: verifies until X-Amz-Expires, then expired; S3's carry UNSIGNED-PAYLOAD")
    func presigned() throws {
        var request = SignableRequest(method: "GET", path: "/bucket/key.txt", query: "", headers: [("Host", "bucket.s3.amazonaws.com")], body: [])
        var options = SigV4Options()
        options.unsignedPayload = true
        options.doubleEncodePath = false
        options.normalizePath = false
        SigV4Signer(credentials: Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: Self.secret), region: "us-east-1", service: "s3", options: options)
            .presign(&request, at: Self.now, expires: 600)
        let s3 = Self.options(s3: true)
        #expect(try Self.verifier.verify(request, body: [], at: Timestamp(seconds: Self.now.seconds + 599), options: s3).get().presigned)
        #expect(Self.verifier.verify(request, body: [], at: Timestamp(seconds: Self.now.seconds + 601), options: s3) == .failure(.expired))
        var changed = request
        changed.query = changed.query.replacingOccurrences(of: "X-Amz-Expires=600", with: "X-Amz-Expires=6000")
        #expect(Self.verifier.verify(changed, body: [], at: Self.now, options: s3) == .failure(.signatureMismatch))
    }
}
