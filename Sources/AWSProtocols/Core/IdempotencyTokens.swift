import AWSJSON
import AWSModels

/// Fills `idempotencyToken` members the caller left out, as botocore's
/// `generate_idempotent_uuid` handler does: a fresh UUID, appended after the caller's
/// own params (so it is serialized last, as boto3 sends it).
public enum IdempotencyTokens {
    public static func fill(_ params: JSONObject, input: Shape?, newToken: () -> String) -> JSONObject {
        guard let input else { return params }
        var filled = params
        for member in input.members where member.idempotencyToken && filled[member.name] == nil {
            filled.append(member.name, .string(newToken()))
        }
        return filled
    }
}
