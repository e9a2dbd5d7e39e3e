import AWSJSON
import Foundation
import AWSProtocols

/// botocore's `decode_list_object`, `decode_list_object_v2` and
/// `decode_list_object_versions`: keys and prefixes URL-decoded (`unquote_plus`: `+` is a space) when
/// the answer says `EncodingType: url` and the SDK had asked for it on its own.
enum S3ListDecoding {
    static let operations: Set<String> = ["ListObjects", "ListObjectsV2", "ListObjectVersions"]

    static func decode(_ result: JSONObject, operation: String) -> JSONObject {
        guard result["EncodingType"]?.stringValue == "url" else { return result }
        let (topLevel, nested): ([String], [(String, String)])
        switch operation {
        case "ListObjects": (topLevel, nested) = (["Delimiter", "Marker", "NextMarker"], [("Contents", "Key"), ("CommonPrefixes", "Prefix")])
        case "ListObjectsV2": (topLevel, nested) = (["Delimiter", "Prefix", "StartAfter"], [("Contents", "Key"), ("CommonPrefixes", "Prefix")])
        case "ListObjectVersions":
            (topLevel, nested) = (["KeyMarker", "NextKeyMarker", "Prefix", "Delimiter"],
                                  [("Versions", "Key"), ("DeleteMarkers", "Key"), ("CommonPrefixes", "Prefix")])
        default: return result
        }
        var out = result
        for key in topLevel {
            if case .string(let text)? = out[key]?.resolved { out[key] = .string(unquotePlus(text)) }
        }
        for (list, child) in nested {
            guard case .array(let items)? = out[list]?.resolved else { continue }
            out[list] = .array(items.map { item in
                guard case .object(var object) = item, case .string(let text)? = object[child] else { return item }
                object[child] = .string(unquotePlus(text))
                return .object(object)
            })
        }
        return out
    }

    static func unquotePlus(_ text: String) -> String {
        PercentEncoding.decode(text.replacingOccurrences(of: "+", with: " "))
    }
}
