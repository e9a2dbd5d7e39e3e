import AWSJSON
import AWSModels
import Foundation

/// The REST binding's response side (botocore's BaseRestParser `_parse_non_payload_attrs`):
/// members bound to the status code, a header, or a header prefix. Shared by rest-json
/// and rest-xml; the body is each codec's own.
struct RESTResponseBinding: Sendable {
    let results: ResultValues

    func bind(_ response: ResponseData, _ shape: Shape, into result: inout JSONObject) {
        for member in shape.members {
            switch member.location {
            case .statusCode:
                result.append(member.name, .int(Int64(response.status)))
            case .headers:
                let prefix = (member.locationName ?? "").lowercased()
                var map = JSONObject()
                for header in response.headers where header.name.lowercased().hasPrefix(prefix) {
                    map[String(header.name.dropFirst(prefix.count))] = .string(header.value)
                }
                result.append(member.name, .object(map))
            case .header:
                if let value = response.header(member.wireName), let parsed = headerValue(value, member) {
                    result.append(member.name, parsed)
                }
            default:
                break
            }
        }
    }

    // MARK: Values

    func headerValue(_ text: String, _ member: Member) -> JSON? {
        let shape = member.shape
        switch shape.type {
        case .string, .character:
            if member.jsonValue {
                guard let decoded = Base64.decode(text) else { return nil }
                return try? JSON.parse(decoded)
            }
            return .string(text)
        case .integer, .long, .biginteger:
            return Int64(text.trimmingCharacters(in: .whitespaces)).map(JSON.int)
        case .float, .double, .bigdecimal:
            return Double(text.trimmingCharacters(in: .whitespaces)).map(JSON.double)
        case .boolean:
            return .bool(text.lowercased() == "true")
        case .timestamp:
            return Timestamp.parse(text).map(results.timestamp)
        case .blob:
            return results.blob(Base64.decode(text) ?? [])
        case .list:
            guard let element = shape.listMember else { return nil }
            return .array(RESTResponseBinding.splitHeaderList(text, timestamps: element.shape.type == .timestamp).compactMap { headerValue($0, element) })
        default:
            return .string(text)
        }
    }

    /// Splits a comma-separated header into items, honouring double quotes.
    static func splitHeaderList(_ text: String, timestamps: Bool) -> [String] {
        if timestamps {
            // HTTP dates contain a comma after the weekday: pair them back up.
            let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            var items: [String] = []
            var i = 0
            while i < parts.count {
                if i + 1 < parts.count, parts[i].count == 3, parts[i].allSatisfy(\.isLetter) {
                    items.append(parts[i] + ", " + parts[i + 1])
                    i += 2
                } else {
                    items.append(parts[i])
                    i += 1
                }
            }
            return items
        }
        var items: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        var wasQuoted = false
        for ch in text {
            if escaped {
                current.append(ch)
                escaped = false
            } else if inQuotes && ch == "\\" {
                escaped = true
            } else if ch == "\"" {
                inQuotes.toggle()
                wasQuoted = true
            } else if ch == "," && !inQuotes {
                items.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
                current = ""
                wasQuoted = false
            } else if !(wasQuoted && !inQuotes) {
                current.append(ch)
            }
        }
        items.append(wasQuoted ? current : current.trimmingCharacters(in: .whitespaces))
        return items
    }
}
