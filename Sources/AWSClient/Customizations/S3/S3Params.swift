import AWSJSON
import AWSProtocols
import Crypto
import Foundation

/// botocore 1.44.5's `before-parameter-build` handlers for S3, in the order it runs them
/// (an operation's own handlers before the service's): `CopySource` quoting, metadata
/// that must be ASCII, SSE-C keys base64-encoded with their MD5, bucket names checked.
enum S3Params {
    static func apply(_ params: JSONObject, operation: String) throws(ClientError) -> JSONObject {
        var params = params
        if operation == "CopyObject" || operation == "UploadPartCopy" { params = try quoteCopySource(params) }
        if ["CopyObject", "PutObject", "CreateMultipartUpload"].contains(operation) { try checkASCIIMetadata(params) }
        if sseOperations.contains(operation) { params = sseMD5(params, prefix: "SSECustomer") }
        if operation == "CopyObject" || operation == "UploadPartCopy" { params = sseMD5(params, prefix: "CopySourceSSECustomer") }
        try validateBucketName(params)
        return params
    }

    static let sseOperations: Set<String> = [
        "HeadObject", "GetObject", "PutObject", "CopyObject", "CreateMultipartUpload", "UploadPart", "UploadPartCopy",
        "CompleteMultipartUpload", "SelectObjectContent",
    ]

    /// `_sse_md5`: the key (its UTF-8 text, as boto3 takes a str) goes base64-encoded,
    /// with the base64 MD5 of the key, unless the caller gave the MD5.
    static func sseMD5(_ params: JSONObject, prefix: String) -> JSONObject {
        guard case .string(let key)? = params[prefix + "Key"], params[prefix + "KeyMD5"] == nil else { return params }
        var out = params
        let bytes = Array(key.utf8)
        out[prefix + "Key"] = .string(Base64.encode(bytes))
        out.append(prefix + "KeyMD5", .string(Base64.encode(Array(Insecure.MD5.hash(data: bytes)))))
        return out
    }

    /// `handle_copy_source_param`: `bucket/key` percent-encoded (`/` kept) with any
    /// `?versionId=` left as it is; or `{Bucket, Key, VersionId}` put together so.
    static func quoteCopySource(_ params: JSONObject) throws(ClientError) -> JSONObject {
        var out = params
        switch params["CopySource"] {
        case .string(let source)?:
            if let range = source.range(of: #"\?versionId=[^\s]+$"#, options: .regularExpression) {
                out["CopySource"] = .string(PercentEncoding.encode(String(source[..<range.lowerBound]), safe: "/") + source[range.lowerBound...])
            } else {
                out["CopySource"] = .string(PercentEncoding.encode(source, safe: "/"))
            }
        case .object(let source)?:
            guard case .string(let bucket)? = source["Bucket"], case .string(let key)? = source["Key"] else {
                throw .invalidParams([ValidationProblem(path: "$.CopySource", problem: "needs Bucket and Key (and may have VersionId)")])
            }
            let joined = isS3ARN(bucket) ? bucket + "/object/" + key : bucket + "/" + key
            var quoted = PercentEncoding.encode(joined, safe: "/")
            if case .string(let version)? = source["VersionId"] { quoted += "?versionId=" + version }
            out["CopySource"] = .string(quoted)
        default:
            break
        }
        return out
    }

    /// `validate_ascii_metadata`.
    static func checkASCIIMetadata(_ params: JSONObject) throws(ClientError) {
        guard case .object(let metadata)? = params["Metadata"] else { return }
        for entry in metadata {
            let value = entry.value.stringValue ?? ""
            if !entry.key.utf8.allSatisfy({ $0 < 0x80 }) || !value.utf8.allSatisfy({ $0 < 0x80 }) {
                throw .invalidParams([ValidationProblem(
                    path: "$.Metadata['\(entry.key)']", problem: "S3 metadata can only contain ASCII characters (key and value)")])
            }
        }
    }

    /// `validate_bucket_name`: letters, digits, `.`, `-`, `_` (1 to 255), or an access
    /// point or Outposts ARN.
    static func validateBucketName(_ params: JSONObject) throws(ClientError) {
        guard case .string(let bucket)? = params["Bucket"] else { return }
        let plain = (1...255).contains(bucket.utf8.count) && bucket.utf8.allSatisfy {
            PercentEncoding.isUnreserved($0) && $0 != UInt8(ascii: "~")
        }
        if !plain && !isS3ARN(bucket) {
            throw .invalidParams([ValidationProblem(
                path: "$.Bucket", problem: "invalid bucket name: use letters, digits, '.', '-' and '_', or an access point or Outposts ARN")])
        }
    }

    /// botocore's `VALID_S3_ARN`: an access point or Outposts ARN.
    static func isS3ARN(_ value: String) -> Bool {
        let accessPoint = #"^arn:(aws).*:(s3|s3-object-lambda):[a-z\-0-9]*:[0-9]{12}:accesspoint[/:][a-zA-Z0-9\-.]{1,63}$"#
        let outpost = #"^arn:(aws).*:s3-outposts:[a-z\-0-9]+:[0-9]{12}:outpost[/:][a-zA-Z0-9\-]{1,63}[/:]accesspoint[/:][a-zA-Z0-9\-]{1,63}$"#
        return value.range(of: accessPoint, options: .regularExpression) != nil || value.range(of: outpost, options: .regularExpression) != nil
    }
}
