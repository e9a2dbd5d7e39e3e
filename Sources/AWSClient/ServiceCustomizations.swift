import AWSJSON
import AWSModels
import AWSProtocols
import AWSSigning

/// What botocore 1.44.5's handlers change for single rest-json services, beside the
/// codec (docs/CONFORMANCE.md lists every handler and where it is done).
enum ServiceCustomizations {
    /// Params, before validation as botocore's before-parameter-build handlers run:
    /// `inject_account_id` (Glacier takes `-`, the caller's own account, when `accountId`
    /// is left out) and `fix_route53_ids`.
    static func params(_ params: JSONObject, service: String, input: Shape?) -> JSONObject {
        switch service {
        case "glacier":
            guard params["accountId"] == nil || params["accountId"] == .null else { return params }
            var out = params
            out["accountId"] = .string("-")
            return out
        case "route53":
            return route53IDs(params, input: input)
        default:
            return params
        }
    }

    /// `fix_route53_ids`: ids given as returned (`/hostedzone/Z123`, `/change/C1`) keep
    /// only their last part, for members of the shapes `ResourceId`, `DelegationSetId`
    /// and `ChangeId`.
    static func route53IDs(_ params: JSONObject, input: Shape?) -> JSONObject {
        guard let input else { return params }
        var out = params
        for member in input.members where ["ResourceId", "DelegationSetId", "ChangeId"].contains(member.shape.name) {
            if case .string(let id)? = out[member.name], let last = id.split(separator: "/", omittingEmptySubsequences: false).last {
                out[member.name] = .string(String(last))
            }
        }
        return out
    }

    /// Headers: `add_glacier_version` (every Glacier call names its API version) and
    /// `add_glacier_checksums` (uploads carry the body's SHA-256 and tree hash unless the
    /// caller gave them).
    static func headers(_ headers: inout [(name: String, value: String)], body: [UInt8], params: JSONObject, service: String,
                        operation: AWSModels.Operation, apiVersion: String) {
        // `inject_api_version_header_if_needed`: DynamoDB's `DescribeEndpoints` names the API version.
        if operation.isEndpointOperation { headers.append(("x-amz-api-version", apiVersion)) }
        // `convert_body_to_file_like_object` then `add_expect_header`: S3 uploads given a body ask for 100-continue.
        if service == "s3", operation.name == "PutObject" || operation.name == "UploadPart", params["Body"] != nil {
            headers.append(("Expect", "100-continue"))
        }
        guard service == "glacier" else { return }
        let operation = operation.name
        // The operation's handler is registered on the more specific event, so it runs first.
        if operation == "UploadArchive" || operation == "UploadMultipartPart" {
            if !headers.contains(where: { $0.name == "x-amz-content-sha256" }) {
                headers.append(("x-amz-content-sha256", SigV4Signer.hexSHA256(body)))
            }
            if !headers.contains(where: { $0.name == "x-amz-sha256-tree-hash" }) {
                headers.append(("x-amz-sha256-tree-hash", treeHash(body)))
            }
        }
        headers.append(("x-amz-glacier-version", apiVersion))
    }

    /// Glacier's SHA-256 tree hash: hashes of 1 MiB chunks, paired up level by level.
    static func treeHash(_ body: [UInt8]) -> String {
        let chunkSize = 1024 * 1024
        var level: [[UInt8]] = stride(from: 0, to: body.count, by: chunkSize).map {
            SigV4Signer.sha256(body[$0..<min($0 + chunkSize, body.count)])
        }
        if level.isEmpty { return SigV4Signer.hexSHA256([]) }
        while level.count > 1 {
            var next: [[UInt8]] = []
            next.reserveCapacity((level.count + 1) / 2)
            for i in stride(from: 0, to: level.count, by: 2) {
                next.append(i + 1 < level.count ? SigV4Signer.sha256(level[i] + level[i + 1]) : level[i])
            }
            level = next
        }
        return Hex.encode(level[0])
    }

    /// `switch_host_machinelearning`: Machine Learning `Predict` goes to the
    /// `PredictEndpoint` the caller names. botocore takes any URL; a gateway that holds
    /// keys signs only for AWS hosts, so anything else is refused.
    static func predictEndpoint(_ params: JSONObject, service: String, operation: String) throws(ClientError) -> (scheme: String, authority: String)? {
        guard service == "machinelearning", operation == "Predict", case .string(let value)? = params["PredictEndpoint"], !value.isEmpty else {
            return nil
        }
        guard let parts = URLParts(value), parts.scheme == "https",
              let host = parts.authority.split(separator: ":").first.map(String.init),
              host.hasSuffix(".amazonaws.com") || host.hasSuffix(".amazonaws.com.cn")
        else {
            throw .invalidParams([ValidationProblem(path: "$.PredictEndpoint", problem: "must be an https URL of an AWS host (*.amazonaws.com)")])
        }
        return (parts.scheme, parts.authority)
    }
}
