import AWSJSON
import AWSModels
import AWSPrimitives
import AWSProtocols
import AWSSigning

/// Glacier: `inject_account_id` (`accountId` left out means `-`, the caller's own account),
/// `add_glacier_version` (every call names the API version) and `add_glacier_checksums`
/// (uploads carry the body's SHA-256 and tree hash unless the caller gave them).
public struct GlacierCustomization: ServiceCustomization {
    public init() {}

    public func params(_ params: JSONObject, operation: AWSModels.Operation) throws(ClientError) -> JSONObject {
        guard params["accountId"] == nil || params["accountId"] == .null else { return params }
        var out = params
        out["accountId"] = .string("-")
        return out
    }

    public func headers(_ headers: inout [(name: String, value: String)], body: [UInt8], params: JSONObject, operation: AWSModels.Operation,
                        apiVersion: String) {
        // The operation's handler is registered on the more specific event, so it runs first.
        if operation.name == "UploadArchive" || operation.name == "UploadMultipartPart" {
            if !headers.contains(where: { $0.name == "x-amz-content-sha256" }) {
                headers.append(("x-amz-content-sha256", SigV4Signer.hexSHA256(body)))
            }
            if !headers.contains(where: { $0.name == "x-amz-sha256-tree-hash" }) {
                headers.append(("x-amz-sha256-tree-hash", Self.treeHash(body)))
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
}

/// Route 53: `fix_route53_ids` (ids given as returned, `/hostedzone/Z123` or `/change/C1`,
/// keep only their last part, for members of the shapes `ResourceId`, `DelegationSetId`
/// and `ChangeId`).
public struct Route53Customization: ServiceCustomization {
    public init() {}

    public func params(_ params: JSONObject, operation: AWSModels.Operation) throws(ClientError) -> JSONObject {
        guard let input = operation.input else { return params }
        var out = params
        for member in input.members where ["ResourceId", "DelegationSetId", "ChangeId"].contains(member.shape.name) {
            if case .string(let id)? = out[member.name], let last = id.split(separator: "/", omittingEmptySubsequences: false).last {
                out[member.name] = .string(String(last))
            }
        }
        return out
    }
}

/// Machine Learning: `switch_host_machinelearning` (`Predict` goes to the `PredictEndpoint`
/// the caller names). botocore takes any URL; a gateway that holds keys signs only for AWS
/// hosts, so anything else is refused.
public struct MachineLearningCustomization: ServiceCustomization {
    public init() {}

    public func endpoint(params: JSONObject, operation: AWSModels.Operation) throws(ClientError) -> (scheme: String, authority: String)? {
        guard operation.name == "Predict", case .string(let value)? = params["PredictEndpoint"], !value.isEmpty else { return nil }
        guard let parts = URLParts(value), parts.scheme == "https",
              let host = parts.authority.split(separator: ":").first.map(String.init),
              host.hasSuffix(".amazonaws.com") || host.hasSuffix(".amazonaws.com.cn")
        else {
            throw .invalidParams([ValidationProblem(path: "$.PredictEndpoint", problem: "must be an https URL of an AWS host (*.amazonaws.com)")])
        }
        return (parts.scheme, parts.authority)
    }
}

/// API Gateway: `add_accept_header` (it answers HAL+JSON without `Accept: application/json`).
public struct APIGatewayCustomization: ServiceCustomization {
    public init() {}

    public func written(_ request: inout SerializedRequest, operation: AWSModels.Operation) {
        if !request.headers.contains(where: { $0.name.equalsIgnoringASCIICase("accept") }) {
            request.headers.append(("Accept", "application/json"))
        }
    }
}

/// CloudSearch Domain: `change_get_to_post` (a search goes as a form POST, so that a long
/// query fits).
public struct CloudSearchDomainCustomization: ServiceCustomization {
    public init() {}

    public func written(_ request: inout SerializedRequest, operation: AWSModels.Operation) {
        guard operation.name == "Search", request.method == "GET", !request.query.isEmpty else { return }
        request.method = "POST"
        request.body = Array(request.query.utf8)
        request.query = ""
        request.urlHasQueryMark = false
        request.headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    }
}

/// `base64_encode_user_data`: `UserData` is taken as text and sent base64-encoded (EC2
/// `RunInstances`, Auto Scaling `CreateLaunchConfiguration`).
func base64UserData(_ params: JSONObject) -> JSONObject {
    guard case .string(let text)? = params["UserData"] else { return params }
    var out = params
    out["UserData"] = .string(Base64.encode(Array(text.utf8)))
    return out
}

/// EC2: `base64_encode_user_data` (RunInstances), `decode_console_output`
/// (GetConsoleOutput's output as text) and `inject_presigned_url_ec2` (CopySnapshot).
public struct EC2Customization: ServiceCustomization {
    public init() {}

    public func paramsToWrite(_ params: JSONObject, operation: AWSModels.Operation) -> JSONObject {
        operation.name == "RunInstances" ? base64UserData(params) : params
    }

    public func result(_ result: JSONObject, response: ResponseData, operation: AWSModels.Operation) -> JSONObject {
        guard operation.name == "GetConsoleOutput", case .string(let text)? = result["Output"]?.resolved, let bytes = Base64.decode(text) else {
            return result
        }
        var out = result
        out["Output"] = .string(String(decoding: bytes, as: UTF8.self))
        return out
    }

    public func crossRegionCopy(_ operation: AWSModels.Operation) -> CrossRegionCopy.Style? { operation.name == "CopySnapshot" ? .ec2 : nil }
}

/// Auto Scaling: `base64_encode_user_data` (CreateLaunchConfiguration).
public struct AutoScalingCustomization: ServiceCustomization {
    public init() {}

    public func paramsToWrite(_ params: JSONObject, operation: AWSModels.Operation) -> JSONObject {
        operation.name == "CreateLaunchConfiguration" ? base64UserData(params) : params
    }
}

/// CloudFormation: `json_decode_template_body` (GetTemplate's template given as JSON when it is).
public struct CloudFormationCustomization: ServiceCustomization {
    public init() {}

    public func result(_ result: JSONObject, response: ResponseData, operation: AWSModels.Operation) -> JSONObject {
        guard operation.name == "GetTemplate", case .string(let text)? = result["TemplateBody"]?.resolved, let json = try? JSON.parse(text),
              case .object = json else { return result }
        var out = result
        out["TemplateBody"] = json
        return out
    }
}

/// IAM: `json_decode_policies` (policy documents, shape `policyDocumentType`, come
/// URL-encoded JSON and are given decoded).
public struct IAMCustomization: ServiceCustomization {
    public init() {}

    public func result(_ result: JSONObject, response: ResponseData, operation: AWSModels.Operation) -> JSONObject {
        var out = result
        // The walk reads values, not transcoded text.
        for index in out.members.indices { out.members[index].value = out.members[index].value.resolved }
        guard let shape = operation.output else { return out }
        let decoded = ShapeWalker.rewrite(.object(out), shape) { value, shape -> JSON? in
            guard shape.type == .string, shape.name == "policyDocumentType", case .string(let text) = value else { return .none }
            return (try? JSON.parse(PercentEncoding.decode(text))) ?? value
        }
        if case .object(let object) = decoded { out = object }
        return out
    }
}

/// RDS, Neptune and DocumentDB: `inject_presigned_url_rds` (a copy from another region
/// carries a URL presigned for the source region).
public struct CrossRegionCopyCustomization: ServiceCustomization {
    let operations: Set<String>

    static let rdsOperations: Set<String> = [
        "CopyDBClusterSnapshot", "CreateDBCluster", "CopyDBSnapshot", "CreateDBInstanceReadReplica", "StartDBInstanceAutomatedBackupsReplication",
    ]

    public func crossRegionCopy(_ operation: AWSModels.Operation) -> CrossRegionCopy.Style? { operations.contains(operation.name) ? .rds : nil }
}

/// DynamoDB: its CRC32 of each answer's body (`x-amz-crc32`) checked; an answer that does
/// not match is `CRC32CheckFailed`, retried as transient (botocore's `check_crc32`).
public struct DynamoDBCustomization: ServiceCustomization {
    public init() {}

    public func refusal(of response: ResponseData) -> AWSErrorResponse? {
        guard let expected = response.header("x-amz-crc32").flatMap(UInt32.init), CRC32.checksum(response.body) != expected else { return nil }
        return AWSErrorResponse(code: "CRC32CheckFailed", message: "the answer's CRC32 does not match x-amz-crc32", httpStatus: response.status,
                                requestId: response.header("x-amzn-RequestId"), shape: nil, fields: JSONObject())
    }
}
