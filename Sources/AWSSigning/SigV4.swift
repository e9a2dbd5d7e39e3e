import AWSPrimitives
import Crypto
import Foundation

/// AWS access keys. `description` never shows the secret or the token.
public struct Credentials: Sendable, CustomStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-lived keys.
    public var expiration: Date?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String { "Credentials(accessKeyId: \(accessKeyId), secret: <redacted>)" }
}

/// An HTTP request as the signer sees it. `path` and `query` are in their wire form
/// (already percent-encoded, as the serializer produced them).
public struct SignableRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first(where: { $0.name.equalsIgnoringASCIICase(name) })?.value
    }

    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll(where: { $0.name.equalsIgnoringASCIICase(name) })
        headers.append((name, value))
    }
}

/// The knobs that differ between services and SDKs.
public struct SigV4Options: Sendable {
    /// Percent-encode the (already encoded) path again. True for every service but S3.
    public var doubleEncodePath = true
    /// Remove `.`/`..` segments and repeated slashes. True for every service but S3.
    public var normalizePath = true
    /// Add and sign `x-amz-content-sha256` (S3 and some others).
    public var addContentSHA256Header = false
    /// Add the session token after signing instead of signing it (some services ask this).
    public var omitSessionTokenFromSignature = false
    /// Headers never signed (names compared without case): botocore leaves these out, since
    /// proxies may change them.
    public var unsignedHeaders = SigV4Options.defaultUnsignedHeaders
    /// Made once: a set literal per signer cost five string hashes per call.
    public static let defaultUnsignedHeaders: Set<String> = ["expect", "transfer-encoding", "user-agent", "x-amzn-trace-id", "authorization"]
    /// Use `UNSIGNED-PAYLOAD` instead of the body's hash.
    public var unsignedPayload = false
    /// The payload hash to sign instead of the body's (S3's aws-chunked uploads with a
    /// trailing checksum sign `STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
    public var payloadHash: String?

    public init() {}
}

/// Everything computed while signing, for tests and debugging. The texts are kept as
/// bytes (what was hashed) and turned into strings only when asked for.
public struct SigningResult: Sendable {
    public var canonicalRequestBytes: [UInt8]
    public var stringToSignBytes: [UInt8]
    public var signature: String
    public var signedHeaders: String

    public var canonicalRequest: String { String(decoding: canonicalRequestBytes, as: UTF8.self) }
    public var stringToSign: String { String(decoding: stringToSignBytes, as: UTF8.self) }
}

/// SigV4 signing (RFC-style header signing and query presigning) as the AWS SDKs do it.
public struct SigV4Signer: Sendable {
    public var credentials: Credentials
    public var region: String
    public var service: String
    public var options: SigV4Options
    let keyCache: SigningKeyCache?

    public init(credentials: Credentials, region: String, service: String, options: SigV4Options = SigV4Options(), keyCache: SigningKeyCache? = nil) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
        self.keyCache = keyCache
    }

    /// Signs with an `Authorization` header, setting `X-Amz-Date` (and the token and
    /// content hash headers when they apply).
    @discardableResult
    public func sign(_ request: inout SignableRequest, at time: Timestamp) -> SigningResult {
        let amzDate = time.amzDate
        let amzDay = time.amzDay
        request.headers.removeAll { $0.name.equalsIgnoringASCIICase("x-amz-date") || $0.name.equalsIgnoringASCIICase("authorization") }
        request.headers.append(("X-Amz-Date", amzDate))
        if let token = credentials.sessionToken, !options.omitSessionTokenFromSignature {
            request.setHeader("X-Amz-Security-Token", token)
        }
        let payloadHash = options.payloadHash ?? (options.unsignedPayload ? "UNSIGNED-PAYLOAD" : SigV4Signer.hexSHA256(request.body))
        if options.addContentSHA256Header { request.setHeader("X-Amz-Content-SHA256", payloadHash) }
        let (canonicalHeaders, signedHeaders) = canonicalHeaderBlock(request.headers)
        let canonical = canonicalRequest(
            method: request.method, path: request.path, canonicalQuery: SigV4Signer.canonicalQuery(request.query),
            canonicalHeaders: canonicalHeaders, signedHeaders: signedHeaders, payloadHash: payloadHash)
        let material = signingMaterial(day: amzDay)
        let toSign = stringToSign(canonical, amzDate: amzDate, scope: material.scope)
        let signature = Hex.encode(material.mac.authenticationCode(for: toSign))
        request.headers.append(("Authorization", authorization(scope: material.scope, signedHeaders: signedHeaders, signature: signature)))
        if let token = credentials.sessionToken, options.omitSessionTokenFromSignature {
            request.setHeader("X-Amz-Security-Token", token)
        }
        return SigningResult(canonicalRequestBytes: canonical, stringToSignBytes: toSign, signature: signature, signedHeaders: signedHeaders)
    }

    /// Presigns by adding the `X-Amz-*` query parameters (valid for `expires` seconds), in
    /// botocore's order.
    @discardableResult
    public func presign(_ request: inout SignableRequest, at time: Timestamp, expires: Int) -> SigningResult {
        let amzDate = time.amzDate
        let amzDay = time.amzDay
        request.headers.removeAll { $0.name.equalsIgnoringASCIICase("x-amz-date") || $0.name.equalsIgnoringASCIICase("authorization") }
        let (canonicalHeaders, signedHeaders) = canonicalHeaderBlock(request.headers)
        let material = signingMaterial(day: amzDay)
        let scope = material.scope
        var added: [(String, String)] = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope)"),
            ("X-Amz-Date", amzDate),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", signedHeaders),
        ]
        if let token = credentials.sessionToken, !options.omitSessionTokenFromSignature {
            added.append(("X-Amz-Security-Token", token))
        }
        var query = request.query
        for (name, value) in added {
            if !query.isEmpty { query += "&" }
            query += name + "=" + PercentEncoding.encode(value)
        }
        let payloadHash = options.unsignedPayload ? "UNSIGNED-PAYLOAD" : SigV4Signer.hexSHA256(request.body)
        let canonical = canonicalRequest(
            method: request.method, path: request.path, canonicalQuery: SigV4Signer.canonicalQuery(query),
            canonicalHeaders: canonicalHeaders, signedHeaders: signedHeaders, payloadHash: payloadHash)
        let toSign = stringToSign(canonical, amzDate: amzDate, scope: scope)
        let signature = Hex.encode(material.mac.authenticationCode(for: toSign))
        if let token = credentials.sessionToken, options.omitSessionTokenFromSignature {
            query += "&X-Amz-Security-Token=" + PercentEncoding.encode(token)
        }
        query += "&X-Amz-Signature=" + signature
        request.query = query
        return SigningResult(canonicalRequestBytes: canonical, stringToSignBytes: toSign, signature: signature, signedHeaders: signedHeaders)
    }

    // MARK: Pieces

    /// `AWS4-HMAC-SHA256 Credential=<key id>/<scope>, SignedHeaders=<names>, Signature=<hex>`.
    func authorization(scope: String, signedHeaders: String, signature: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(160 + credentials.accessKeyId.utf8.count + scope.utf8.count + signedHeaders.utf8.count)
        out.append(contentsOf: "AWS4-HMAC-SHA256 Credential=".utf8)
        credentials.accessKeyId.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "/"))
        scope.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: ", SignedHeaders=".utf8)
        signedHeaders.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: ", Signature=".utf8)
        signature.withUTF8Buffer { out.append(contentsOf: $0) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `<day>/<region>/<service>/aws4_request`.
    static func credentialScope(day: String, region: String, service: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(day.utf8.count + region.utf8.count + service.utf8.count + 16)
        day.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "/"))
        region.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "/"))
        service.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: "/aws4_request".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    func stringToSign(_ canonicalRequest: [UInt8], amzDate: String, scope: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        out.append(contentsOf: "AWS4-HMAC-SHA256\n".utf8)
        out.append(contentsOf: amzDate.utf8)
        out.append(0x0A)
        out.append(contentsOf: scope.utf8)
        out.append(0x0A)
        Hex.append(sha256Digest(canonicalRequest), to: &out)
        return out
    }

    func canonicalRequest(
        method: String, path: String, canonicalQuery: String, canonicalHeaders: [UInt8], signedHeaders: String, payloadHash: String
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(method.utf8.count + path.utf8.count + canonicalQuery.utf8.count + canonicalHeaders.count + signedHeaders.utf8.count + 80)
        out.append(contentsOf: method.utf8)
        out.append(0x0A)
        out.append(contentsOf: canonicalPath(path).utf8)
        out.append(0x0A)
        out.append(contentsOf: canonicalQuery.utf8)
        out.append(0x0A)
        out.append(contentsOf: canonicalHeaders)
        out.append(0x0A)
        out.append(contentsOf: signedHeaders.utf8)
        out.append(0x0A)
        out.append(contentsOf: payloadHash.utf8)
        return out
    }

    /// The path as signed: normalized, then encoded again (unless S3).
    public func canonicalPath(_ path: String) -> String {
        var p = path.isEmpty ? "/" : path
        if options.normalizePath && SigV4Signer.needsNormalization(p) { p = SigV4Signer.removeDotSegments(p) }
        if options.doubleEncodePath { p = PercentEncoding.encode(p, safe: SigV4Signer.slash) }
        return p
    }

    static let slash: [UInt8] = [UInt8(ascii: "/")]

    /// True when the path has `//`, a `.` or `..` segment, or does not start with `/`.
    static func needsNormalization(_ path: String) -> Bool {
        path.withUTF8Buffer { needsNormalization($0) }
    }

    private static func needsNormalization(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard path.first == UInt8(ascii: "/") else { return true }
        var segmentLength = 0
        var segmentDots = 0
        var afterSlash = false
        for byte in path {
            if byte == UInt8(ascii: "/") {
                if afterSlash && segmentLength == 0 { return true }
                if segmentLength > 0 && segmentLength <= 2 && segmentDots == segmentLength { return true }
                afterSlash = true
                segmentLength = 0
                segmentDots = 0
            } else {
                segmentLength += 1
                if byte == UInt8(ascii: ".") { segmentDots += 1 }
            }
        }
        return segmentLength > 0 && segmentLength <= 2 && segmentDots == segmentLength
    }

    /// RFC 3986 dot-segment removal, plus collapsing of empty segments, keeping a
    /// trailing slash.
    static func removeDotSegments(_ path: String) -> String {
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
                continue
            }
            output.append(segment)
        }
        var result = "/" + output.joined(separator: "/")
        if path.hasSuffix("/") && result != "/" { result += "/" }
        return result
    }

    /// Sorted `key=value` pairs, each percent-encoded exactly once.
    public static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let key: Substring
            let value: Substring
            if let eq = part.firstIndex(of: "=") {
                key = part[..<eq]
                value = part[part.index(after: eq)...]
            } else {
                key = part
                value = ""
            }
            pairs.append((reencode(key), reencode(value)))
        }
        pairs.sort { $0.0 != $1.0 ? $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) : $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) }
        return pairs.map { $0.0 + "=" + $0.1 }.joined(separator: "&")
    }

    private static func reencode(_ s: Substring) -> String {
        // Fast path: already in canonical form.
        if s.utf8.allSatisfy({ PercentEncoding.isUnreserved($0) }) { return String(s) }
        return PercentEncoding.encode(PercentEncoding.decode(String(s)))
    }

    /// Lower-cased, sorted, trimmed headers (values with inner runs of spaces folded,
    /// repeated names joined with commas), and the `;`-joined names.
    func canonicalHeaderBlock(_ headers: [(name: String, value: String)]) -> (block: [UInt8], signedHeaders: String) {
        // Every signed name lower-cased once into one buffer; a span per header, sorted by
        // name and then by position, so that a repeated name's values keep their order.
        // The scratch is on the stack (a request's names are a few hundred bytes).
        var nameBytes = 0
        for header in headers { nameBytes += header.name.utf8.count }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * nameBytes + headers.count + 1) { scratch in
            withUnsafeTemporaryAllocation(of: (start: Int, count: Int, header: Int).self, capacity: headers.count + 1) { spanSpace in
                // The lower-cased names, then the `;`-joined signed names after them.
                var namesEnd = 0, spanCount = 0
                for (index, header) in headers.enumerated() {
                    let start = namesEnd
                    header.name.withUTF8Buffer { bytes in
                        for byte in bytes {
                            scratch[namesEnd] = ASCIICase.lowercased(byte)
                            namesEnd += 1
                        }
                    }
                    let name = UnsafeBufferPointer(rebasing: scratch[start..<namesEnd])
                    let unsigned = options.unsignedHeaders.contains { $0.utf8.count == name.count && $0.utf8.elementsEqual(name) { ASCIICase.lowercased($0) == $1 } }
                    if unsigned {
                        namesEnd = start
                    } else {
                        spanSpace[spanCount] = (start, namesEnd - start, index)
                        spanCount += 1
                    }
                }
                let names = UnsafeBufferPointer(rebasing: scratch[..<namesEnd])
                func name(_ span: (start: Int, count: Int, header: Int)) -> UnsafeBufferPointer<UInt8> {
                    UnsafeBufferPointer(rebasing: names[span.start..<span.start + span.count])
                }
                var spans = UnsafeMutableBufferPointer(rebasing: spanSpace[..<spanCount])
                spans.sort { a, b in
                    let x = name(a), y = name(b)
                    if x.elementsEqual(y) { return a.header < b.header }
                    return x.lexicographicallyPrecedes(y)
                }
                var block: [UInt8] = []
                block.reserveCapacity(namesEnd + 16 * headers.count + 256)
                var signedEnd = namesEnd
                var i = 0
                while i < spans.count {
                    let first = name(spans[i])
                    if signedEnd > namesEnd {
                        scratch[signedEnd] = UInt8(ascii: ";")
                        signedEnd += 1
                    }
                    for byte in first {
                        scratch[signedEnd] = byte
                        signedEnd += 1
                    }
                    block.append(contentsOf: first)
                    block.append(UInt8(ascii: ":"))
                    SigV4Signer.appendFolded(headers[spans[i].header].value, to: &block)
                    i += 1
                    while i < spans.count && name(spans[i]).elementsEqual(first) {
                        block.append(UInt8(ascii: ","))
                        SigV4Signer.appendFolded(headers[spans[i].header].value, to: &block)
                        i += 1
                    }
                    block.append(0x0A)
                }
                return (block, String(decoding: UnsafeBufferPointer(rebasing: scratch[namesEnd..<signedEnd]), as: UTF8.self))
            }
        }
    }

    /// A header value as signed: without leading and trailing whitespace, each inner run
    /// of spaces, tabs and line breaks one space.
    static func appendFolded(_ value: String, to out: inout [UInt8]) {
        value.withUTF8Buffer { bytes in
            var pendingSpace = false
            var wrote = false
            var runStart = 0
            // Runs of plain bytes are copied whole; whitespace is looked at byte by byte.
            for (i, byte) in bytes.enumerated() where byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                if i > runStart {
                    if pendingSpace { out.append(0x20) }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                    wrote = true
                }
                pendingSpace = wrote
                runStart = i + 1
            }
            if bytes.count > runStart {
                if pendingSpace { out.append(0x20) }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
            }
        }
    }

    // MARK: Crypto

    public static func deriveKey(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// What signs a day's requests: the HMAC keyed with the derived key, and the credential
    /// scope. With a key cache both are made once per day, region and service: four HMACs,
    /// half of the fifth and the scope's text saved per call.
    func signingMaterial(day: String) -> SigningKeyCache.Material {
        keyCache?.material(secret: credentials.secretAccessKey, day: day, region: region, service: service)
            ?? SigningKeyCache.Material(key: SigV4Signer.deriveKey(secret: credentials.secretAccessKey, day: day, region: region, service: service),
                                        day: day, region: region, service: service)
    }

    public static func hexSHA256(_ bytes: [UInt8]) -> String {
        Hex.encode(sha256Digest(bytes))
    }

    public static func sha256(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(sha256Digest(bytes))
    }

    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(sha256Digest(bytes))
    }

}
