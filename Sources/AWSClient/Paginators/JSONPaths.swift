import AWSJSON

/// botocore's helpers for building a merged result: setting a value at a dotted path
/// (`set_value_from_jmespath`) and merging nested objects (`merge_dicts`).
enum JSONPaths {
    /// Sets `value` at `path` (`A.B.C`), making the objects on the way.
    static func set(_ object: inout JSONObject, _ path: String, _ value: JSON) {
        guard let dot = path.firstIndex(of: ".") else {
            object[path] = value
            return
        }
        let key = String(path[..<dot])
        var inner = object[key]?.resolved.objectValue ?? JSONObject()
        set(&inner, String(path[path.index(after: dot)...]), value)
        object[key] = .object(inner)
    }

    /// Merges `extra` into `base`: objects member by member, anything else replaced.
    static func mergeDicts(_ base: inout JSONObject, _ extra: JSONObject) {
        for member in extra {
            if case .object(let additions) = member.value.resolved, case .object(var existing)? = base[member.key]?.resolved {
                mergeDicts(&existing, additions)
                base[member.key] = .object(existing)
            } else {
                base[member.key] = member.value
            }
        }
    }
}
