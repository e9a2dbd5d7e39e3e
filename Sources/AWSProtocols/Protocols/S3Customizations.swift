import AWSJSON
import AWSModels

/// What botocore 1.44.5's handlers change for S3 and S3 Control (docs/CONFORMANCE.md lists
/// each, done or not yet).
enum S3Customizations {
    /// `remove_bucket_from_url_paths_from_model` (s3): the endpoint rules put the bucket in
    /// the URL, so the operation's URI loses its leading `/{Bucket}`.
    /// `remove_accid_host_prefix_from_model` (s3control): the rules add `{AccountId}.`, so
    /// the model's host prefix goes.
    static func operation(_ operation: AWSModels.Operation, service: String) -> AWSModels.Operation {
        switch service {
        case "s3":
            let bucketPath = "/{Bucket}"
            guard operation.requestURI.hasPrefix(bucketPath) else { return operation }
            // What is left may be empty or only a query (`?acl`): joined to the endpoint's
            // path as botocore's `_urljoin` joins it.
            let uri = String(operation.requestURI.dropFirst(bucketPath.count))
            return operation.rebound(requestURI: uri, hostPrefix: operation.hostPrefix)
        case "s3control":
            guard operation.hostPrefix == "{AccountId}." else { return operation }
            return operation.rebound(requestURI: operation.requestURI, hostPrefix: nil)
        default:
            return operation
        }
    }

    /// `escape_xml_payload` (DeleteObjects, PutBucketLifecycleConfiguration): line breaks
    /// in the XML written as character references, so that XML's line-end normalization
    /// cannot change a key.
    static func escapeXMLPayload(_ body: [UInt8], operation: String) -> [UInt8] {
        guard operation == "DeleteObjects" || operation == "PutBucketLifecycleConfiguration",
              body.contains(0x0D) || body.contains(0x0A) else { return body }
        var out: [UInt8] = []
        out.reserveCapacity(body.count + 16)
        for byte in body {
            switch byte {
            case 0x0D: out.append(contentsOf: "&#xD;".utf8)
            case 0x0A: out.append(contentsOf: "&#xA;".utf8)
            default: out.append(byte)
            }
        }
        return out
    }

    /// `_should_handle_200_error`: a 200 whose body is a document (not a blob or string
    /// payload, not an event stream) may be an `<Error>` (a copy or multipart completion
    /// can fail after S3 has sent 200) or be cut short.
    static func mayHideErrorIn200(_ response: ResponseData, operation: AWSModels.Operation) -> Bool {
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
    static func result(_ result: JSONObject, response: ResponseData, operation: AWSModels.Operation) -> JSONObject {
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
}
