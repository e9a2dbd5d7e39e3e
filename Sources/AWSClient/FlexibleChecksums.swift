import AWSJSON
import AWSModels
import AWSPrimitives
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

    /// The checksum a request carries: its algorithm, and the header naming the algorithm
    /// when botocore sets it for the caller.
    struct RequestChecksum {
        let algorithm: String
        let algorithmHeader: (name: String, value: String)?
        var name: String { "x-amz-checksum-" + algorithm }
    }

    /// `resolve_request_checksum_algorithm`: the caller's algorithm, else CRC32 for an
    /// operation that supports or requires one; nil if none applies or the caller
    /// already gave a checksum header.
    static func resolve(_ headers: [(name: String, value: String)], operation: AWSModels.Operation,
                        params: JSONObject) throws(ClientError) -> RequestChecksum? {
        guard !headers.contains(where: { isChecksumHeader($0.name) }) else { return nil }
        if let member = operation.requestAlgorithmMember, case .string(let named)? = params[member] {
            let algorithm = named.lowercased()
            guard supported.contains(algorithm) else {
                throw .invalidParams([ValidationProblem(
                    path: "$." + member, problem: "checksum algorithm \(named) is not supported; use CRC32, SHA1, SHA256 or SHA512")])
            }
            return RequestChecksum(algorithm: algorithm, algorithmHeader: nil)
        }
        guard operation.httpChecksumRequired || operation.requestChecksumRequired || operation.requestAlgorithmMember != nil else { return nil }
        var algorithmHeader: (String, String)?
        if let member = operation.requestAlgorithmMember, let header = operation.input?.member(named: member)?.locationName {
            algorithmHeader = (header, "CRC32")
        }
        return RequestChecksum(algorithm: "crc32", algorithmHeader: algorithmHeader)
    }

    /// `apply_request_checksum` in the header. Returns the header's name.
    @discardableResult
    static func apply(_ headers: inout [(name: String, value: String)], body: [UInt8], operation: AWSModels.Operation,
                      params: JSONObject) throws(ClientError) -> String? {
        guard let checksum = try resolve(headers, operation: operation, params: params) else { return nil }
        headers.append((checksum.name, Base64.encode(digest(checksum.algorithm, body))))
        setAlgorithmHeader(checksum, &headers)
        return checksum.name
    }

    /// `_apply_request_trailer_checksum`, for a streaming upload over https: the body sent
    /// as `aws-chunked` (1 MiB chunks, then the checksum as a trailer), with
    /// `Transfer-Encoding: chunked` and the decoded length; the signer then signs
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
    static func applyTrailer(_ checksum: RequestChecksum, headers: inout [(name: String, value: String)], body: inout [UInt8]) {
        headers.append(("Transfer-Encoding", "chunked"))
        if let index = headers.firstIndex(where: { $0.name.equalsIgnoringASCIICase("content-encoding") }) {
            headers[index].value += ",aws-chunked"
        } else {
            headers.append(("Content-Encoding", "aws-chunked"))
        }
        headers.append(("X-Amz-Trailer", checksum.name))
        headers.append(("X-Amz-Decoded-Content-Length", String(body.count)))
        setAlgorithmHeader(checksum, &headers)
        body = awsChunked(body, trailer: checksum.name + ":" + Base64.encode(digest(checksum.algorithm, body)))
    }

    static let chunkSize = 1024 * 1024

    /// botocore's `AwsChunkedWrapper`: `<hex length>\r\n<bytes>\r\n` per chunk, then
    /// `0\r\n<trailer>\r\n\r\n`.
    static func awsChunked(_ body: [UInt8], trailer: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + body.count / chunkSize * 12 + trailer.utf8.count + 16)
        var offset = 0
        while offset < body.count {
            let end = min(offset + chunkSize, body.count)
            out.append(contentsOf: String(end - offset, radix: 16).utf8)
            out.append(contentsOf: [0x0D, 0x0A])
            out.append(contentsOf: body[offset..<end])
            out.append(contentsOf: [0x0D, 0x0A])
            offset = end
        }
        out.append(contentsOf: Array("0\r\n".utf8) + Array(trailer.utf8) + [0x0D, 0x0A, 0x0D, 0x0A])
        return out
    }

    private static func setAlgorithmHeader(_ checksum: RequestChecksum, _ headers: inout [(name: String, value: String)]) {
        guard let (name, value) = checksum.algorithmHeader else { return }
        if let index = headers.firstIndex(where: { $0.name == name }) { headers[index].value = value } else { headers.append((name, value)) }
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
