import AWSPrimitives
import Crypto
import Foundation

/// Checks a request's SigV4 signature as AWS does, for the AWS door: the caller signed with
/// a key the gateway issued, by header (`Authorization: AWS4-HMAC-SHA256 ...`) or by
/// presigned query (`X-Amz-Signature=...`). The canonical request is rebuilt from what
/// arrived (only the headers the caller named as signed), the key derived from the
/// secret the gateway holds for the key id, and the signatures compared in constant time.
public struct SigV4Verifier: Sendable {
    /// The secret of a key id the gateway issued; nil for a key it does not know.
    public let secret: @Sendable (_ accessKeyId: String) -> String?
    /// How far `X-Amz-Date` may be from the gateway's clock (AWS: 5 minutes).
    public var maxSkewSeconds: Int64 = 300

    public init(secret: @escaping @Sendable (_ accessKeyId: String) -> String?) {
        self.secret = secret
    }

    /// Who signed, for what: the scope's region and signing name, and how the body was signed.
    public struct Verified: Sendable, Equatable {
        public let accessKeyId: String
        public let region: String
        public let service: String
        /// `x-amz-content-sha256` as signed: a hex SHA-256, `UNSIGNED-PAYLOAD` or a
        /// `STREAMING-...` form whose chunks carry their own signatures.
        public let payloadHash: String
        public let signedHeaders: [String]
        public let presigned: Bool
        /// The seed signature a chunked body's first chunk signature chains from.
        public let signature: String
    }

    /// Why a request is refused; the door writes each in the protocol's own error form.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// Neither an `Authorization` header nor a presigned query (`MissingAuthenticationToken`).
        case missingAuthentication
        /// The header or query is not a whole SigV4 signature (`IncompleteSignature`).
        case incomplete(String)
        /// A key id the gateway did not issue (`InvalidClientTokenId`, S3 `InvalidAccessKeyId`).
        case unknownKey(String)
        /// The signature is not the one the key gives (`SignatureDoesNotMatch`).
        case signatureMismatch
        /// The body is not the one `x-amz-content-sha256` names (S3 `XAmzContentSHA256Mismatch`).
        case bodyMismatch
        /// Signed too far from now (`RequestTimeTooSkewed`, `InvalidSignatureException`).
        case skewed(String)
        /// A presigned request past its expiry (`AccessDenied`: "Request has expired").
        case expired

        public var description: String {
            switch self {
            case .missingAuthentication: return "the request is not signed (no Authorization header, no X-Amz-Signature)"
            case .incomplete(let why): return "the signature is incomplete: \(why)"
            case .unknownKey(let id): return "the access key \(id) is not one the gateway issued"
            case .signatureMismatch: return "the request signature does not match the one the key gives"
            case .bodyMismatch: return "the body does not match its x-amz-content-sha256"
            case .skewed(let why): return "the request time is too far from the gateway's: \(why)"
            case .expired: return "the presigned request has expired"
            }
        }
    }

    /// Verifies `request` as it arrived (raw path and query, every header, the body when
    /// it is whole: nil when it streams and is checked by its chunks). `options` carries the
    /// service's path rules (S3: neither normalized nor encoded again) and whether a
    /// presigned request's payload is `UNSIGNED-PAYLOAD` (S3) or the body's hash.
    public func verify(_ request: SignableRequest, body: [UInt8]?, at now: Timestamp,
                       options: (_ service: String) -> SigV4Options) -> Result<Verified, Failure> {
        let claim: Claim
        switch Claim.read(request) {
        case .success(let read): claim = read
        case .failure(let failure): return .failure(failure)
        }
        guard let secret = secret(claim.accessKeyId) else { return .failure(.unknownKey(claim.accessKeyId)) }
        guard let signedAt = Claim.time(claim.amzDate), claim.amzDate.hasPrefix(claim.day) else {
            return .failure(.incomplete("X-Amz-Date \(claim.amzDate) is not the scope's day \(claim.day)"))
        }
        if let failure = checkTime(claim, signedAt: signedAt, now: now) { return .failure(failure) }
        let serviceOptions = options(claim.service)
        let payloadHash: String
        switch claim.payloadHash(request, body: body, presignedUnsigned: serviceOptions.unsignedPayload) {
        case .success(let hash): payloadHash = hash
        case .failure(let failure): return .failure(failure)
        }
        var signedOnly: [(name: String, value: String)] = []
        for header in request.headers where claim.signedHeaders.contains(where: { header.name.equalsIgnoringASCIICase($0) }) {
            signedOnly.append(header)
        }
        for name in claim.signedHeaders where !signedOnly.contains(where: { $0.name.equalsIgnoringASCIICase(name) }) {
            return .failure(.incomplete("the signed header \(name) is not in the request"))
        }
        guard claim.signedHeaders.contains("host") || claim.signedHeaders.contains(":authority") else {
            return .failure(.incomplete("the host header is not signed"))
        }
        let signer = SigV4Signer(credentials: Credentials(accessKeyId: claim.accessKeyId, secretAccessKey: secret),
                                 region: claim.region, service: claim.service, options: serviceOptions)
        let (canonicalHeaders, signedHeaderList) = signer.canonicalHeaderBlock(signedOnly)
        guard signedHeaderList == claim.signedHeaders.joined(separator: ";") else {
            return .failure(.incomplete("SignedHeaders must be lower-case, sorted and unique"))
        }
        let canonical = signer.canonicalRequest(method: request.method, path: request.path, canonicalQuery: SigV4Signer.canonicalQuery(claim.signedQuery),
                                                canonicalHeaders: canonicalHeaders, signedHeaders: signedHeaderList, payloadHash: payloadHash)
        let scope = SigV4Signer.credentialScope(day: claim.day, region: claim.region, service: claim.service)
        let key = SigV4Signer.deriveKey(secret: secret, day: claim.day, region: claim.region, service: claim.service)
        let toSign = signer.stringToSign(canonical, amzDate: claim.amzDate, scope: scope)
        // Compared in constant time: a timing difference must not tell how much was right.
        guard let given = Hex.decode(claim.signature), given.count == 32,
              HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: toSign, using: key) else {
            return .failure(.signatureMismatch)
        }
        return .success(Verified(accessKeyId: claim.accessKeyId, region: claim.region, service: claim.service, payloadHash: payloadHash,
                                 signedHeaders: claim.signedHeaders, presigned: claim.presigned, signature: claim.signature))
    }

    private func checkTime(_ claim: Claim, signedAt: Timestamp, now: Timestamp) -> Failure? {
        let age = now.seconds - signedAt.seconds
        if claim.presigned {
            guard let expires = claim.expires, expires >= 1, expires <= 604_800 else {
                return .incomplete("X-Amz-Expires must be from 1 to 604800 seconds")
            }
            if age < -maxSkewSeconds { return .skewed("signed \(-age) s in the future") }
            return age > expires ? .expired : nil
        }
        if abs(age) > maxSkewSeconds {
            return .skewed("signed at \(claim.amzDate), \(abs(age)) s \(age > 0 ? "ago" : "ahead"); at most \(maxSkewSeconds) s")
        }
        return nil
    }
}

/// What a request says about its signature, from the `Authorization` header or the query.
struct Claim {
    var accessKeyId = "", day = "", region = "", service = ""
    var signedHeaders: [String] = []
    var signature = ""
    var amzDate = ""
    var presigned = false
    var expires: Int64?
    /// The query without `X-Amz-Signature` (what a presigned request signed).
    var signedQuery = ""

    static func read(_ request: SignableRequest) -> Result<Claim, SigV4Verifier.Failure> {
        var claim = Claim()
        if let authorization = request.header("authorization")?.trimmingCharacters(in: .whitespaces) {
            guard authorization.hasPrefix("AWS4-HMAC-SHA256 ") else {
                return .failure(.incomplete("only AWS4-HMAC-SHA256 is accepted"))
            }
            var fields: [String: String] = [:]
            for part in authorization.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
                let item = part.trimmingCharacters(in: .whitespaces)
                guard let equals = item.firstIndex(of: "=") else { return .failure(.incomplete("\(item) is not NAME=VALUE")) }
                fields[String(item[..<equals])] = String(item[item.index(after: equals)...])
            }
            guard let credential = fields["Credential"], let signed = fields["SignedHeaders"], let signature = fields["Signature"] else {
                return .failure(.incomplete("Authorization needs Credential, SignedHeaders and Signature"))
            }
            guard let date = request.header("x-amz-date")?.trimmingCharacters(in: .whitespaces) else { return .failure(.incomplete("no X-Amz-Date header")) }
            claim.amzDate = date
            claim.signature = signature
            claim.signedHeaders = signed.split(separator: ";").map(String.init)
            claim.signedQuery = request.query
            return claim.scope(credential).map { claim }
        }
        let parameters = PercentEncoding.parameters(request.query)
        guard let signature = parameters["X-Amz-Signature"] else { return .failure(.missingAuthentication) }
        guard parameters["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" else { return .failure(.incomplete("X-Amz-Algorithm must be AWS4-HMAC-SHA256")) }
        guard let credential = parameters["X-Amz-Credential"], let date = parameters["X-Amz-Date"],
              let signed = parameters["X-Amz-SignedHeaders"], let expires = parameters["X-Amz-Expires"] else {
            return .failure(.incomplete("a presigned request needs X-Amz-Credential, X-Amz-Date, X-Amz-Expires and X-Amz-SignedHeaders"))
        }
        claim.presigned = true
        claim.amzDate = date
        claim.signature = signature
        claim.expires = Int64(expires)
        claim.signedHeaders = signed.split(separator: ";").map(String.init)
        claim.signedQuery = request.query.split(separator: "&", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("X-Amz-Signature=") }.joined(separator: "&")
        return claim.scope(credential).map { claim }
    }

    /// `KEY/DAY/REGION/SERVICE/aws4_request`.
    private mutating func scope(_ credential: String) -> Result<Void, SigV4Verifier.Failure> {
        let parts = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[4] == "aws4_request", !parts[0].isEmpty, parts[1].count == 8, !parts[2].isEmpty, !parts[3].isEmpty else {
            return .failure(.incomplete("Credential must be KEY/YYYYMMDD/REGION/SERVICE/aws4_request"))
        }
        (accessKeyId, day, region, service) = (String(parts[0]), String(parts[1]), String(parts[2]), String(parts[3]))
        return .success(())
    }

    /// The payload hash the signature covers: `x-amz-content-sha256` as given (checked
    /// against a whole body when it is a hash), else the body's hash, or for a presigned
    /// request of a service that presigns without one, `UNSIGNED-PAYLOAD`.
    func payloadHash(_ request: SignableRequest, body: [UInt8]?, presignedUnsigned: Bool) -> Result<String, SigV4Verifier.Failure> {
        if let declared = request.header("x-amz-content-sha256")?.trimmingCharacters(in: .whitespaces) {
            if declared.utf8.count == 64, let body, SigV4Signer.hexSHA256(body) != declared.lowercased() { return .failure(.bodyMismatch) }
            return .success(declared)
        }
        if presigned && presignedUnsigned { return .success("UNSIGNED-PAYLOAD") }
        guard let body else { return .failure(.incomplete("a body sent in pieces needs x-amz-content-sha256")) }
        return .success(SigV4Signer.hexSHA256(body))
    }

    /// `YYYYMMDDTHHMMSSZ`, the only form SigV4 signs.
    static func time(_ amzDate: String) -> Timestamp? {
        let d = Array(amzDate.utf8)
        guard d.count == 16, d[8] == UInt8(ascii: "T"), d[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            let digits = d[from..<(from + count)]
            guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        guard let year = number(0, 4), let month = number(4, 2), let day = number(6, 2), let hour = number(9, 2),
              let minute = number(11, 2), let second = number(13, 2), (1...12).contains(month), (1...31).contains(day),
              hour < 24, minute < 60, second < 61 else { return nil }
        return Timestamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }
}
