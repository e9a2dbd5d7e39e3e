import AWSJSON
import AWSModels

/// The JSON payload codec shared by rest-json and json (botocore's JSONSerializer and
/// BaseJSONParser): member names, timestamps as epoch seconds unless the model says
/// otherwise, blobs as base64, documents as they are, unions with unknown members.
struct JSONValueCodec: Sendable {
    let options: CodecOptions

    // MARK: Writing

    func serialize(_ value: JSON, _ member: Member) -> JSON {
        switch member.shape.type {
        case .structure:
            if member.shape.isDocument { return value }
            guard case .object(let object) = value else { return value }
            return .object(serializeStructure(object, member.shape))
        case .list:
            guard case .array(let list) = value, let element = member.shape.listMember else { return value }
            return .array(list.map { serialize($0, element) })
        case .map:
            guard case .object(let map) = value, let valueMember = member.shape.mapValue else { return value }
            var out = JSONObject()
            out.members.reserveCapacity(map.count)
            for item in map { out.append(item.key, serialize(item.value, valueMember)) }
            return .object(out)
        case .timestamp:
            guard let t = Timestamp.parse(value) else { return value }
            switch (member.timestampFormat ?? "unixtimestamp").lowercased() {
            case "iso8601": return .string(t.iso8601)
            case "rfc822": return .string(t.rfc822)
            default: return t.unixJSON
            }
        case .blob:
            guard case .string(let s) = value else { return value }
            if options.blobsAreBase64 { return .string(Base64.encode(Base64.decode(s) ?? [])) }
            return .string(Base64.encode(Array(s.utf8)))
        default:
            return value
        }
    }

    func serializeStructure(_ object: JSONObject, _ shape: Shape) -> JSONObject {
        var out = JSONObject()
        out.members.reserveCapacity(object.count)
        for entry in object {
            guard let member = shape.member(named: entry.key) else { continue }
            out.append(member.wireName, serialize(entry.value, member))
        }
        return out
    }

    // MARK: Reading

    func parseBodyJSON(_ body: [UInt8]) -> JSON? {
        guard !body.isEmpty else { return .object(JSONObject()) }
        return (try? JSON.parse(body)) ?? .object(JSONObject([("message", .string(String(decoding: body, as: UTF8.self)))]))
    }

    func parseMembers(_ object: JSONObject, _ shape: Shape, into result: inout JSONObject) {
        for member in shape.members where member.location == nil {
            guard let raw = object[member.wireName], !raw.isNull, let value = parseValue(raw, member.shape) else { continue }
            result[member.name] = value
        }
    }

    func parseValue(_ value: JSON, _ shape: Shape) -> JSON? {
        if value.isNull { return nil }
        switch shape.type {
        case .structure:
            if shape.isDocument { return value }
            guard case .object(let object) = value else { return nil }
            if shape.isUnion {
                let set = object.members.filter { $0.key != "__type" && !$0.value.isNull }
                if set.count == 1, !shape.members.contains(where: { $0.wireName == set[0].key }) {
                    return .object(JSONObject([("SDK_UNKNOWN_MEMBER", .object(JSONObject([("name", .string(set[0].key))])))]))
                }
            }
            var result = JSONObject()
            parseMembers(object, shape, into: &result)
            return .object(result)
        case .list:
            guard case .array(let list) = value, let element = shape.listMember else { return nil }
            return .array(list.map { $0.isNull ? .null : (parseValue($0, element.shape) ?? .null) })
        case .map:
            guard case .object(let map) = value, let valueMember = shape.mapValue else { return nil }
            var result = JSONObject()
            result.members.reserveCapacity(map.count)
            for item in map {
                if item.value.isNull {
                    result[item.key] = .null
                } else if let parsed = parseValue(item.value, valueMember.shape) {
                    result[item.key] = parsed
                }
            }
            return .object(result)
        case .timestamp:
            return Timestamp.parse(value).map(timestampResult) ?? value
        case .blob:
            guard case .string(let s) = value else { return value }
            return blobResult(Base64.decode(s) ?? [])
        case .float, .double, .bigdecimal:
            if case .string(let s) = value {
                switch s {
                case "NaN": return .double(.nan)
                case "Infinity": return .double(.infinity)
                case "-Infinity": return .double(-.infinity)
                default: return Double(s).map(JSON.double) ?? value
                }
            }
            return value
        default:
            return value
        }
    }

    func timestampResult(_ t: Timestamp) -> JSON {
        switch options.resultTimestamps {
        case .iso8601: return .string(t.iso8601Result)
        case .epochSeconds: return t.unixJSON
        }
    }

    func blobResult(_ bytes: [UInt8]) -> JSON {
        switch options.resultBlobs {
        case .base64: return .string(Base64.encode(bytes))
        case .utf8Text: return .string(String(decoding: bytes, as: UTF8.self))
        }
    }
}
