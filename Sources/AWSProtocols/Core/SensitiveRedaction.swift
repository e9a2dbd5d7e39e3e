import AWSJSON
import AWSModels

/// Values the model marks `sensitive` (passwords, tokens, personal data), replaced by
/// `"***"` wherever they sit in a value of the shape, for anything that records params.
/// A map whose keys are sensitive is masked whole.
public enum SensitiveRedaction {
    public static let mask: JSON = "***"

    public static func redact(_ value: JSON, shape: Shape) -> JSON {
        ShapeWalker.rewrite(value, shape) { _, shape -> JSON? in
            // `.none`, not `nil`: JSON takes the nil literal as its own `null`.
            shape.isSensitive || (shape.type == .map && shape.mapKey?.shape.isSensitive == true) ? mask : .none
        }
    }
}
