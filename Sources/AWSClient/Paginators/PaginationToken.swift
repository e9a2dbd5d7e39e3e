import AWSJSON
import Foundation

/// The opaque token a paginated result ends with when it stopped early, as botocore's
/// `TokenEncoder` writes it: the next request's input tokens (and how many results of
/// that page were already given, `boto_truncate_amount`) as Python's `json.dumps`, in
/// base64. `startingToken` takes it back, or botocore's older `a___b___3` form, or a
/// service's own token as it is.
public enum PaginationToken {
    static let truncateKey = "boto_truncate_amount"

    public static func encode(_ token: JSONObject) -> String {
        Data(PythonJSON.dumps(.object(token)).utf8).base64EncodedString()
    }

    /// The input tokens a starting token holds and how many results of its first page to
    /// skip (`TokenDecoder` and botocore's fallbacks).
    public static func decode(_ text: String, inputTokens: [String]) throws(PaginationError) -> (tokens: JSONObject, skip: Int) {
        if let data = Data(base64Encoded: pythonBase64Text(text)), let json = String(data: data, encoding: .utf8),
           case .object(var tokens)? = try? JSON.parse(json) {
            tokens["boto_encoded_keys"] = nil
            var skip = 0
            if let amount = tokens[truncateKey] {
                skip = Int(amount.intValue ?? 0)
                tokens[truncateKey] = nil
            }
            return (tokens, skip)
        }
        return try deprecated(text, inputTokens: inputTokens)
    }

    /// `base64.b64decode` reads past characters outside the alphabet; Foundation does not.
    private static func pythonBase64Text(_ text: String) -> String {
        String(text.unicodeScalars.filter { c in
            (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "+" || c == "/" || c == "="
        }.map(Character.init))
    }

    /// botocore's old form: the input tokens joined by `___`, then the amount to skip.
    private static func deprecated(_ text: String, inputTokens: [String]) throws(PaginationError) -> (tokens: JSONObject, skip: Int) {
        var parts = text.components(separatedBy: "___")
        var skip = 0
        if parts.count == inputTokens.count + 1 {
            if let index = Int(parts[parts.count - 1]) {
                skip = index
                parts.removeLast()
            } else {
                parts = [text]
            }
        }
        guard parts.count <= inputTokens.count else { throw PaginationError.badStartingToken(text) }
        var tokens = JSONObject()
        for (i, name) in inputTokens.enumerated() {
            tokens.append(name, i < parts.count && parts[i] != "None" ? .string(parts[i]) : .null)
        }
        return (tokens, skip)
    }
}

/// Why a paginated call could not go on.
public enum PaginationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A `startingToken` that is none of the forms botocore reads.
    case badStartingToken(String)
    /// AWS gave the same next token twice: following it would never end.
    case repeatedToken(String)

    public var description: String {
        switch self {
        case .badStartingToken: "the starting token is not one this operation's paginator gives"
        case .repeatedToken(let token): "AWS gave the same next token twice (\(token)): paging stopped"
        }
    }
}
