import AWSPrimitives
import Crypto

/// An `aws-chunked` body read as it arrives at the AWS door: each chunk's data handed on
/// only once its signature (chained from the request's seed signature) is checked, and the
/// trailers' signature at the end. Covers `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, its
/// `-TRAILER` form, and `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (no signatures, just framing).
public struct ChunkedPayloadReader {
    /// How a chunked body is signed, from `x-amz-content-sha256`.
    public enum Mode: Sendable, Equatable {
        case signed, signedWithTrailer, unsignedWithTrailer

        public init?(contentSHA256: String) {
            switch contentSHA256 {
            case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": self = .signed
            case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": self = .signedWithTrailer
            case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": self = .unsignedWithTrailer
            default: return nil
            }
        }
    }

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let description: String
        /// A signature did not match (`SignatureDoesNotMatch`); otherwise the framing is
        /// broken (`IncompleteBody`, `InvalidChunkSizeError`).
        public let isSignatureMismatch: Bool
    }

    /// The largest chunk held while its signature is checked.
    public static let maxChunkBytes = 16 << 20
    static let maxLineBytes = 4096
    static let emptyHash = SigV4Signer.hexSHA256([])

    let mode: Mode
    let key: SymmetricKey?
    let amzDate: String
    let scope: String
    private var previousSignature: String
    private var pending: [UInt8] = []
    private enum State { case header, data(size: Int, signature: String?), dataEnd, trailers, done }
    private var state = State.header
    /// The zero-size chunk has come: the next CRLF (or the trailers) ends the body.
    private var lastChunkSeen = false
    /// The trailers (`x-amz-checksum-crc32: ...`), once the body has ended.
    public private(set) var trailers: [(name: String, value: String)] = []
    /// Data bytes handed on so far (to compare with `x-amz-decoded-content-length`).
    public private(set) var decodedLength = 0
    public var isFinished: Bool { if case .done = state { return true } else { return false } }

    /// `seedSignature`, `secret`, `amzDate` and the scope are the request's, as verified.
    public init(mode: Mode, seedSignature: String, secret: String, amzDate: String, region: String, service: String) {
        self.mode = mode
        let day = String(amzDate.prefix(8))
        key = mode == .unsignedWithTrailer ? nil : SigV4Signer.deriveKey(secret: secret, day: day, region: region, service: service)
        self.amzDate = amzDate
        scope = SigV4Signer.credentialScope(day: day, region: region, service: service)
        previousSignature = seedSignature
    }

    /// The data of the chunks `bytes` completed (checked), or why the body is refused.
    public mutating func append(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        pending += bytes
        var out: [UInt8] = []
        var at = 0
        defer { pending.removeFirst(at) }
        while true {
            switch state {
            case .header:
                guard let line = try line(from: &at) else { return out }
                state = try chunkHeader(line)
            case .data(let size, let signature):
                guard pending.count - at >= size else {
                    if size > Self.maxChunkBytes { throw Failure(description: "a chunk of \(size) bytes is over \(Self.maxChunkBytes)", isSignatureMismatch: false) }
                    return out
                }
                let data = Array(pending[at..<(at + size)])
                at += size
                try check(data, signature: signature)
                out += data
                decodedLength += size
                state = size == 0 ? (mode == .signed ? .dataEnd : .trailers) : .dataEnd
            case .dataEnd:
                guard pending.count - at >= 2 else { return out }
                guard pending[at] == 0x0D, pending[at + 1] == 0x0A else { throw Failure(description: "a chunk is longer than its size says", isSignatureMismatch: false) }
                at += 2
                state = lastChunkSeen ? .done : .header
            case .trailers:
                guard let line = try line(from: &at) else { return out }
                if line.isEmpty {
                    try checkTrailers()
                    state = .done
                } else {
                    guard let colon = line.firstIndex(of: ":") else { throw Failure(description: "a trailer is not NAME:VALUE", isSignatureMismatch: false) }
                    trailers.append((String(line[..<colon]).lowercased(), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
                }
            case .done:
                guard pending.count == at else { throw Failure(description: "bytes after the last chunk", isSignatureMismatch: false) }
                return out
            }
        }
    }

    /// The next CRLF-ended line, or nil until it has come.
    private func line(from at: inout Int) throws(Failure) -> String? {
        guard let end = pending[at...].firstIndex(of: 0x0D), end + 1 < pending.count else {
            if pending.count - at > Self.maxLineBytes { throw Failure(description: "a chunk header is over \(Self.maxLineBytes) bytes", isSignatureMismatch: false) }
            return nil
        }
        guard pending[end + 1] == 0x0A else { throw Failure(description: "a chunk header line does not end in CRLF", isSignatureMismatch: false) }
        let text = String(decoding: pending[at..<end], as: UTF8.self)
        at = end + 2
        return text
    }

    /// `SIZE;chunk-signature=SIG` (signed) or `SIZE` (unsigned).
    private mutating func chunkHeader(_ line: String) throws(Failure) -> State {
        let parts = line.split(separator: ";", maxSplits: 1)
        guard let sizeText = parts.first, sizeText.count <= 8, let size = Int(sizeText, radix: 16), size >= 0 else {
            throw Failure(description: "\(line.prefix(40)) is not a chunk size", isSignatureMismatch: false)
        }
        var signature: String?
        if mode != .unsignedWithTrailer {
            guard parts.count == 2, parts[1].hasPrefix("chunk-signature=") else {
                throw Failure(description: "a chunk without chunk-signature", isSignatureMismatch: false)
            }
            signature = String(parts[1].dropFirst("chunk-signature=".count))
        }
        if size > Self.maxChunkBytes { throw Failure(description: "a chunk of \(size) bytes is over \(Self.maxChunkBytes)", isSignatureMismatch: false) }
        if size == 0 { lastChunkSeen = true }
        return .data(size: size, signature: signature)
    }

    /// `AWS4-HMAC-SHA256-PAYLOAD`, date, scope, the previous signature, the empty hash, the
    /// chunk's hash: signed with the request's key, compared in constant time.
    private mutating func check(_ data: [UInt8], signature: String?) throws(Failure) {
        guard let key, let signature else { return }
        let toSign = "AWS4-HMAC-SHA256-PAYLOAD\n\(amzDate)\n\(scope)\n\(previousSignature)\n\(Self.emptyHash)\n\(SigV4Signer.hexSHA256(data))"
        guard let given = Hex.decode(signature), given.count == 32,
              HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Array(toSign.utf8), using: key) else {
            throw Failure(description: "a chunk's signature does not match (after \(decodedLength) bytes)", isSignatureMismatch: true)
        }
        previousSignature = signature
    }

    /// The trailers' signature (`x-amz-trailer-signature`), chained from the last chunk's.
    private mutating func checkTrailers() throws(Failure) {
        guard mode == .signedWithTrailer, let key else { return }
        guard let signature = trailers.first(where: { $0.name == "x-amz-trailer-signature" })?.value else {
            throw Failure(description: "no x-amz-trailer-signature", isSignatureMismatch: false)
        }
        var canonical = ""
        for trailer in trailers where trailer.name != "x-amz-trailer-signature" { canonical += "\(trailer.name):\(trailer.value)\n" }
        let toSign = "AWS4-HMAC-SHA256-TRAILER\n\(amzDate)\n\(scope)\n\(previousSignature)\n\(SigV4Signer.hexSHA256(Array(canonical.utf8)))"
        guard let given = Hex.decode(signature), given.count == 32,
              HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Array(toSign.utf8), using: key) else {
            throw Failure(description: "the trailers' signature does not match", isSignatureMismatch: true)
        }
        trailers.removeAll { $0.name == "x-amz-trailer-signature" }
    }
}
