import AWSJSON
import AWSModels

/// Values the model marks `sensitive` (passwords, tokens, personal data), replaced by
/// `"***"` wherever they sit in a value of the shape, for anything that records params.
public enum SensitiveRedaction {
    public static let mask: JSON = "***"

    public static func redact(_ value: JSON, shape: Shape) -> JSON {
        if shape.isSensitive { return mask }
        switch (shape.type, value) {
        case (.structure, .object(let object)) where !shape.isDocument:
            var out = JSONObject()
            for entry in object {
                if let member = shape.member(named: entry.key) {
                    out.append(entry.key, redact(entry.value, shape: member.shape))
                } else {
                    out.append(entry.key, entry.value)
                }
            }
            return .object(out)
        case (.list, .array(let items)):
            guard let element = shape.listMember?.shape else { return value }
            return .array(items.map { redact($0, shape: element) })
        case (.map, .object(let object)):
            guard let valueShape = shape.mapValue?.shape else { return value }
            if shape.mapKey?.shape.isSensitive == true { return mask }
            return .object(JSONObject(object.members.map { JSONObject.Member(key: $0.key, value: redact($0.value, shape: valueShape)) }))
        default:
            return value
        }
    }
}
