import AWSPrimitives
@testable import AWSSigning
import Foundation
import Testing

/// aws-chunked bodies at the AWS door: AWS's own published example of a signed streaming
/// upload (seed and chunk signatures), read in pieces of any size.
@Suite("aws-chunked bodies, checked chunk by chunk")
struct ChunkedPayloadTests {
    /// The S3 documentation's example secret (a slash where the SigV4 suite has a plus).
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
    static let chunkSignatures = ["ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                                  "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                                  "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"]

    /// AWS's example body: 66,560 bytes of "a" as a 64 KiB chunk, a 1 KiB chunk and the last.
    static func body(corruptAt: Int? = nil) -> [UInt8] {
        var out: [UInt8] = []
        for (size, signature) in zip([65536, 1024, 0], chunkSignatures) {
            out += Array("\(String(size, radix: 16));chunk-signature=\(signature)\r\n".utf8)
            out += [UInt8](repeating: UInt8(ascii: "a"), count: size)
            out += Array("\r\n".utf8)
        }
        if let corruptAt { out[corruptAt] = UInt8(ascii: "b") }
        return out
    }

    static func read(_ body: [UInt8], pieces: Int) throws(ChunkedPayloadReader.Failure) -> (data: [UInt8], reader: ChunkedPayloadReader) {
        var reader = ChunkedPayloadReader(mode: .signed, seedSignature: seed, secret: secret, amzDate: "20130524T000000Z", region: "us-east-1", service: "s3")
        var data: [UInt8] = []
        var at = 0
        while at < body.count {
            let end = min(at + pieces, body.count)
            data += try reader.append(Array(body[at..<end]))
            at = end
        }
        return (data, reader)
    }

    @Test("AWS's example request verifies (its seed signature), and its body's chunks verify in pieces of 1 byte to all at once")
    func awsExample() throws {
        let request = SignableRequest(method: "PUT", path: "/examplebucket/chunkObject.txt", query: "", headers: [
            ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;"
                + "content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=\(Self.seed)"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
        ], body: [])
        var options = SigV4Options()
        options.doubleEncodePath = false
        options.normalizePath = false
        let verifier = SigV4Verifier { $0 == "AKIAIOSFODNN7EXAMPLE" ? Self.secret : nil }
        let verified = try verifier.verify(request, body: nil, at: Timestamp(year: 2013, month: 5, day: 24, minute: 2), options: { _ in options }).get()
        #expect(verified.signature == Self.seed && ChunkedPayloadReader.Mode(contentSHA256: verified.payloadHash) == .signed)
        #expect(Self.body().count == 66824)
        for pieces in [1, 7, 4096, 65600, 70000] {
            let (data, reader) = try Self.read(Self.body(), pieces: pieces)
            #expect(data == [UInt8](repeating: UInt8(ascii: "a"), count: 66560) && reader.isFinished && reader.decodedLength == 66560, "\(pieces)")
        }
    }

    @Test("a byte changed in a chunk, a signature changed, a chunk longer than its size, bytes after the end: refused")
    func refusals() {
        // In the second chunk's data (after the first chunk and the second's header).
        let secondChunk = 88 + 65536 + 2 + 86 + 10
        #expect(throws: ChunkedPayloadReader.Failure.self) { _ = try Self.read(Self.body(corruptAt: secondChunk), pieces: 4096) }
        do {
            _ = try Self.read(Self.body(corruptAt: secondChunk), pieces: 4096)
        } catch {
            #expect(error.isSignatureMismatch && error.description.contains("after 65536 bytes"))
        }
        var signature = Self.body()
        signature[30] = signature[30] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(throws: ChunkedPayloadReader.Failure.self) { _ = try Self.read(signature, pieces: 100_000) }
        var longer = Self.body()
        longer.insert(UInt8(ascii: "a"), at: 88 + 65536)
        #expect(throws: ChunkedPayloadReader.Failure.self) { _ = try Self.read(longer, pieces: 100_000) }
        #expect(throws: ChunkedPayloadReader.Failure.self) { _ = try Self.read(Self.body() + Array("x".utf8), pieces: 100_000) }
        // Cut short: nothing refused yet, and not finished.
        let short = try? Self.read(Array(Self.body().prefix(66000)), pieces: 4096)
        #expect(short?.reader.isFinished == false && short?.data.count == 65536)
        #expect(throws: ChunkedPayloadReader.Failure.self) { _ = try Self.read(Array("fffffffff;chunk-signature=x\r\n".utf8), pieces: 100) }
    }

    @Test("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the trailers' signature chained from the last chunk's (aws-c-auth's published vector); a trailer changed is refused")
    func signedTrailer() throws {
        func body(_ third: String) -> [UInt8] {
            Array(Self.body().dropLast(2)) + Array("first:1st\r\nsecond:2nd\r\nthird:\(third)\r\n".utf8)
                + Array("x-amz-trailer-signature:df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c\r\n\r\n".utf8)
        }
        func reader() -> ChunkedPayloadReader {
            ChunkedPayloadReader(mode: .signedWithTrailer, seedSignature: Self.seed, secret: Self.secret, amzDate: "20130524T000000Z", region: "us-east-1", service: "s3")
        }
        var good = reader()
        let data = try good.append(body("3rd"))
        #expect(data.count == 66560 && good.isFinished)
        #expect(good.trailers.map { "\($0.name)=\($0.value)" } == ["first=1st", "second=2nd", "third=3rd"])
        var bad = reader()
        #expect(throws: ChunkedPayloadReader.Failure.self) { _ = try bad.append(body("4th")) }
    }

    @Test("STREAMING-UNSIGNED-PAYLOAD-TRAILER, as the SDKs send S3 uploads with a checksum: the data, then the trailers")
    func unsignedTrailer() throws {
        var reader = ChunkedPayloadReader(mode: .unsignedWithTrailer, seedSignature: "", secret: "", amzDate: "20261208T000000Z", region: "us-east-1", service: "s3")
        let body = Array("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n".utf8)
        var data: [UInt8] = []
        for byte in body { data += try reader.append([byte]) }
        #expect(String(decoding: data, as: UTF8.self) == "hello world" && reader.isFinished)
        #expect(reader.trailers.map { "\($0.name)=\($0.value)" } == ["x-amz-checksum-crc32=DUoRhQ=="])
    }
}
