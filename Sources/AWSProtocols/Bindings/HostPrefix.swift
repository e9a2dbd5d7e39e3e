import AWSJSON
import AWSModels

/// An operation's `endpoint.hostPrefix` with its `{Label}`s filled from params (every
/// protocol; the validator has already checked that each label is a plain DNS label).
enum HostPrefix {
    static func expand(_ operation: AWSModels.Operation, _ params: JSONObject) throws(SerializationError) -> String? {
        guard let prefix = operation.hostPrefix else { return nil }
        var result = prefix
        for member in operation.input?.members ?? [] where member.hostLabel {
            guard case .string(let value) = params[member.name] ?? .null else {
                throw SerializationError(message: "missing host label \(member.name)")
            }
            result = result.replacingOccurrences(of: "{\(member.name)}", with: value)
        }
        return result
    }
}
