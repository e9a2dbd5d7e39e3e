import AWSJSON
import AWSModels
import AWSProtocols
import Crypto

/// Flexible checksums (the `httpChecksum` trait) as botocore 1.44.5 applies them with its
/// defaults (`request_checksum_calculation` and `response_checksum_validation` both
/// `when_supported`): a CRC32 of the body for every operation that supports one, the
/// algorithm the caller names otherwise, and `ChecksumMode=ENABLED` on reads that can
/// return checksums.
enum FlexibleChecksums {
    /// The algorithms botocore computes without the CRT extension, by their lower-case names.
    static let supported: Set<String> = ["crc32", "sha1", "sha256", "sha512"]

    /// `_handle_request_validation_mode_member`: the member asking for the answer's
    /// checksums is set to `ENABLED` unless the caller set it.
    static func params(_ params: JSONObject, operation: AWSModels.Operation) -> JSONObject {
        guard let mode = operation.requestValidationModeMember, params[mode] == nil else { return params }
        var out = params
        out.append(mode, .string("ENABLED"))
        return out
    }

    /// `resolve_request_checksum_algorithm` then `apply_request_checksum`, in the header
    /// (botocore sends the checksum of a streaming upload over https in an aws-chunked
    /// trailer instead; awsgw sends it in the header, which S3 accepts the same).
    /// Returns the checksum header it added, if any.
    @discardableResult
    static func apply(_ headers: inout [(name: String, value: String)], body: [UInt8], operation: AWSModels.Operation,
                      params: JSONObject) throws(ClientError) -> String? {
        guard !headers.contains(where: { isChecksumHeader($0.name) }) else { return nil }
        let algorithm: String
        var algorithmHeader: (String, String)?
        if let member = operation.requestAlgorithmMember, case .string(let named)? = params[member] {
            algorithm = named.lowercased()
            guard supported.contains(algorithm) else {
                throw .invalidParams([ValidationProblem(
                    path: "$." + member, problem: "checksum algorithm \(named) is not supported; use CRC32, SHA1, SHA256 or SHA512")])
            }
        } else if operation.httpChecksumRequired || operation.requestChecksumRequired || operation.requestAlgorithmMember != nil {
            algorithm = "crc32"
            if let member = operation.requestAlgorithmMember, let header = operation.input?.member(named: member)?.locationName {
                algorithmHeader = (header, "CRC32")
            }
        } else {
            return nil
        }
        let checksumHeader = "x-amz-checksum-" + algorithm
        headers.append((checksumHeader, Base64.encode(digest(algorithm, body))))
        if let (name, value) = algorithmHeader {
            if let index = headers.firstIndex(where: { $0.name == name }) { headers[index].value = value } else { headers.append((name, value)) }
        }
        return checksumHeader
    }

    /// `X-Amz-Checksum-<letters and digits>`, any case.
    static func isChecksumHeader(_ name: String) -> Bool {
        let prefix = "x-amz-checksum-"
        guard name.utf8.count > prefix.utf8.count, name.lowercased().hasPrefix(prefix) else { return false }
        return name.utf8.dropFirst(prefix.utf8.count).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) }
    }

    static func digest(_ algorithm: String, _ body: [UInt8]) -> [UInt8] {
        switch algorithm {
        case "sha1": return Array(Insecure.SHA1.hash(data: body))
        case "sha256": return Array(SHA256.hash(data: body))
        case "sha512": return Array(SHA512.hash(data: body))
        default:
            let crc = CRC32.checksum(body)
            return [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
        }
    }

    /// botocore's order of preference among response checksums, kept to those it computes.
    static let responsePriority = ["crc32", "sha1", "sha256", "sha512"]

    /// `handle_checksum_body`: the first checksum header of the preferred algorithms the
    /// operation's answers may carry is checked against the body (a composite `-N`
    /// checksum is skipped); the mismatch, if any.
    static func verify(_ response: ResponseData, operation: AWSModels.Operation) -> String? {
        guard operation.requestValidationModeMember != nil, !operation.responseAlgorithms.isEmpty else { return nil }
        let offered = Set(operation.responseAlgorithms.map { $0.lowercased() })
        for algorithm in responsePriority where offered.contains(algorithm) {
            guard let expected = response.header("x-amz-checksum-" + algorithm) else { continue }
            if expected.contains("-") { return nil }
            let actual = Base64.encode(digest(algorithm, response.body))
            return Base64.decode(expected) == Base64.decode(actual) ? nil
                : "Expected checksum \(expected) did not match calculated checksum: \(actual)"
        }
        return nil
    }
}
