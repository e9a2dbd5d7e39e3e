import AWSJSON
import AWSModels
import AWSPrimitives
import AWSProtocols
import AWSSigning

/// S3, as botocore 1.44.5's handlers and its S3 signer make it:
/// - the model: `remove_bucket_from_url_paths_from_model` (the endpoint rules put the
///   bucket in the URL, so the URI loses its leading `/{Bucket}`);
/// - params (`S3Params`): `handle_copy_source_param`, `validate_ascii_metadata`, `_sse_md5`,
///   `validate_bucket_name`; `set_list_objects_encoding_type_url` (keys asked for
///   URL-encoded, so any key survives XML, and decoded again: `S3ListDecoding`);
/// - the request: `escape_xml_payload`; `add_expect_header` (uploads with a body ask for
///   100-continue); S3SigV4Auth (no double encoding or path normalization, the payload
///   hash always sent, an upload over https that a checksum covers left unsigned);
///   path style for `GetBucketLocation`; presigned URLs with the payload unsigned, for the
///   global endpoint where `_should_use_global_endpoint` says;
/// - the answer: `_handle_200_error`, `handle_expires_header`, `parse_get_bucket_location`;
///   `S3RegionRedirectorv2` (a bucket in another region asked there, once, remembered).
public struct S3Customization: ServiceCustomization {
    public init() {}

    // MARK: Model and params

    public func operation(_ operation: AWSModels.Operation) -> AWSModels.Operation {
        let bucketPath = "/{Bucket}"
        guard operation.requestURI.hasPrefix(bucketPath) else { return operation }
        // What is left may be empty or only a query (`?acl`): joined to the endpoint's path
        // as botocore's `_urljoin` joins it.
        return operation.rebound(requestURI: String(operation.requestURI.dropFirst(bucketPath.count)), hostPrefix: operation.hostPrefix)
    }

    public func params(_ params: JSONObject, operation: AWSModels.Operation) throws(ClientError) -> JSONObject {
        var params = try S3Params.apply(params, operation: operation.name)
        if S3ListDecoding.operations.contains(operation.name), params["EncodingType"] == nil {
            params.append("EncodingType", .string("url"))
        }
        return params
    }

    // MARK: Request

    /// `escape_xml_payload` (DeleteObjects, PutBucketLifecycleConfiguration): line breaks
    /// in the XML written as character references, so that XML's line-end normalization
    /// cannot change a key.
    public func written(_ request: inout SerializedRequest, operation: AWSModels.Operation) {
        guard operation.name == "DeleteObjects" || operation.name == "PutBucketLifecycleConfiguration",
              request.body.contains(0x0D) || request.body.contains(0x0A) else { return }
        var out: [UInt8] = []
        out.reserveCapacity(request.body.count + 16)
        for byte in request.body {
            switch byte {
            case 0x0D: out.append(contentsOf: "&#xD;".utf8)
            case 0x0A: out.append(contentsOf: "&#xA;".utf8)
            default: out.append(byte)
            }
        }
        request.body = out
    }

    public func headers(_ headers: inout [(name: String, value: String)], body: [UInt8], params: JSONObject, operation: AWSModels.Operation,
                        apiVersion: String) {
        // `convert_body_to_file_like_object` then `add_expect_header`.
        if operation.name == "PutObject" || operation.name == "UploadPart", params["Body"] != nil {
            headers.append(("Expect", "100-continue"))
        }
    }

    public func signing(_ options: inout SigV4Options, presigning: Bool) {
        options.doubleEncodePath = false
        options.normalizePath = false
        if presigning { options.unsignedPayload = true } else { options.addContentSHA256Header = true }
    }

    /// A bucket ARN is signed for the region the endpoint rules give; any other bucket for
    /// the call's region.
    public func presignSigningRegion(params: JSONObject, region: String) -> String? {
        (params["Bucket"]?.stringValue).map { $0.hasPrefix("arn:") } == true ? nil : region
    }

    public var leavesChecksummedUploadsUnsigned: Bool { true }

    public func forcesPathStyle(_ operation: AWSModels.Operation) -> Bool { operation.name == "GetBucketLocation" }

    /// `_should_use_global_endpoint` with `customize_endpoint_resolver_builtins`: a presign
    /// in the aws partition goes to the global endpoint unless the bucket needs path style,
    /// path style was asked for, or the bucket is an ARN.
    public func presignsToGlobalEndpoint(params: JSONObject, region: String, pathStyle: Bool) -> Bool {
        guard !pathStyle else { return false }
        for prefix in ["cn-", "us-gov-", "us-iso", "eu-isoe-"] where region.hasPrefix(prefix) { return false }
        guard case .string(let bucket)? = params["Bucket"] else { return true }
        if bucket.hasPrefix("arn:") || bucket.hasSuffix("--x-s3") { return false }
        // VALID_HOST_LABEL_RE: letters, digits and hyphens, 1 to 63, not starting or ending with a hyphen.
        return (1...63).contains(bucket.utf8.count)
            && bucket.utf8.allSatisfy { PercentEncoding.isUnreserved($0) && $0 != 0x2E && $0 != 0x5F && $0 != 0x7E }
            && bucket.first != "-" && bucket.last != "-"
    }

    // MARK: Answer

    /// `_should_handle_200_error`: a 200 whose body is a document (not a blob or string
    /// payload, not an event stream) may be an `<Error>` (a copy or multipart completion
    /// can fail after S3 has sent 200) or be cut short.
    public func mayHideErrorIn200(_ response: ResponseData, operation: AWSModels.Operation) -> Bool {
        guard response.status == 200, !response.body.isEmpty, let output = operation.output,
              !output.members.contains(where: { $0.shape.isEventStream }) else { return false }
        if let payload = operation.outputPayload ?? output.payload, let member = output.member(named: payload),
           member.shape.type == .blob || member.shape.type == .string {
            return false
        }
        return true
    }

    /// After the parse: `handle_expires_header` (the `Expires` header also as text, in
    /// `ExpiresString`) and `parse_get_bucket_location` (the region is the root's text,
    /// null for us-east-1).
    public func result(_ result: JSONObject, response: ResponseData, operation: AWSModels.Operation) -> JSONObject {
        var out = result
        if operation.name == "GetBucketLocation" {
            let text = (try? XMLDocument.parse(response.body))?.text ?? ""
            out["LocationConstraint"] = text.isEmpty ? .null : .string(text)
        }
        if let output = operation.output,
           output.members.contains(where: { $0.shape.name == "Expires" && $0.locationName == "Expires" }),
           let expires = response.header("Expires") {
            out["ExpiresString"] = .string(expires)
        }
        return out
    }

    /// List keys come back decoded when awsgw, not the caller, asked for them encoded.
    public func responseContext(callerParams: JSONObject, operation: AWSModels.Operation) -> ResponseContext {
        ResponseContext(decodeListedKeys: S3ListDecoding.operations.contains(operation.name) && callerParams["EncodingType"] == nil)
    }

    public func result(_ result: JSONObject, context: ResponseContext, operation: AWSModels.Operation) -> JSONObject {
        context.decodeListedKeys ? S3ListDecoding.decode(result, operation: operation.name) : result
    }

    public var followsRegionRedirects: Bool { true }
}

/// S3 Control, as botocore makes it: `remove_accid_host_prefix_from_model` (the endpoint
/// rules add `{AccountId}.`, so the model's host prefix goes), and S3's signer (the
/// payload hash always sent; presigned URLs with the payload unsigned, no double
/// encoding or normalization, signed for the call's region).
public struct S3ControlCustomization: ServiceCustomization {
    public init() {}

    public func operation(_ operation: AWSModels.Operation) -> AWSModels.Operation {
        guard operation.hostPrefix == "{AccountId}." else { return operation }
        return operation.rebound(requestURI: operation.requestURI, hostPrefix: nil)
    }

    public func signing(_ options: inout SigV4Options, presigning: Bool) {
        if presigning {
            options.doubleEncodePath = false
            options.normalizePath = false
            options.unsignedPayload = true
        } else {
            options.addContentSHA256Header = true
        }
    }

    public func presignSigningRegion(params: JSONObject, region: String) -> String? {
        (params["Bucket"]?.stringValue).map { $0.hasPrefix("arn:") } == true ? nil : region
    }

    public var leavesChecksummedUploadsUnsigned: Bool { true }
}
