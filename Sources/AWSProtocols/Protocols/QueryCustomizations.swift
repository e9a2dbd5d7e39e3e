import AWSJSON
import AWSModels

/// What botocore 1.44.5's handlers change for query and ec2 services, beside the codec:
/// each a small, named step (docs/CONFORMANCE.md lists them all).
enum QueryCustomizations {
    /// `base64_encode_user_data`: EC2 `RunInstances` and Auto Scaling
    /// `CreateLaunchConfiguration` take `UserData` as text and send it base64-encoded.
    static func params(_ params: JSONObject, service: String, operation: String) -> JSONObject {
        guard (service == "ec2" && operation == "RunInstances") || (service == "autoscaling" && operation == "CreateLaunchConfiguration"),
              case .string(let text)? = params["UserData"]
        else { return params }
        var out = params
        out["UserData"] = .string(Base64.encode(Array(text.utf8)))
        return out
    }

    /// Results: EC2 console output decoded (`decode_console_output`), CloudFormation
    /// templates given as JSON (`json_decode_template_body`), IAM policy documents decoded
    /// (`json_decode_policies`).
    static func result(_ result: JSONObject, service: String, operation: AWSModels.Operation) -> JSONObject {
        var out = result
        switch (service, operation.name) {
        case ("ec2", "GetConsoleOutput"):
            if case .string(let text)? = out["Output"]?.resolved, let bytes = Base64.decode(text) {
                out["Output"] = .string(String(decoding: bytes, as: UTF8.self))
            }
        case ("cloudformation", "GetTemplate"):
            if case .string(let text)? = out["TemplateBody"]?.resolved, let json = try? JSON.parse(text), case .object = json {
                out["TemplateBody"] = json
            }
        case ("iam", _):
            // The walk reads values, not transcoded text.
            for index in out.members.indices { out.members[index].value = out.members[index].value.resolved }
            if let shape = operation.output, case .object(let decoded) = decodePolicies(.object(out), shape) { out = decoded }
        default:
            break
        }
        return out
    }

    /// IAM sends policy documents (shape `policyDocumentType`) as URL-encoded JSON.
    static func decodePolicies(_ value: JSON, _ shape: Shape) -> JSON {
        ShapeWalker.rewrite(value, shape) { value, shape -> JSON? in
            guard shape.type == .string, shape.name == "policyDocumentType", case .string(let text) = value else { return .none }
            return (try? JSON.parse(PercentEncoding.decode(text))) ?? value
        }
    }
}
