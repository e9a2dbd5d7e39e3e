import AWSJSON

/// botocore's `service-2.sdk-extras.json`: members and metadata the SDKs add to a model
/// (RDS's `SourceRegion`, S3's `Expires` as a timestamp). The loader merges its `merge`
/// object into the model as `botocore.utils.merge_dicts` does: objects merge key by key
/// (new keys last), anything else replaces.
enum ModelExtras {
    static func merged(_ model: JSON, extrasIn directory: String, file: String = "service-2") throws(ModelError) -> JSON {
        let path = directory + "/" + file + ".sdk-extras.json"
        guard ModelFiles.exists(path) else { return model }
        guard case .object(let extras) = try ModelFiles.readJSON(atPath: path), case .object(let merge)? = extras["merge"] else {
            return model
        }
        return mergeDicts(model, .object(merge))
    }

    static func mergeDicts(_ base: JSON, _ extra: JSON) -> JSON {
        guard case .object(var target) = base, case .object(let additions) = extra else { return extra }
        for entry in additions {
            if case .object = entry.value, let existing = target[entry.key] {
                target[entry.key] = mergeDicts(existing, entry.value)
            } else {
                target[entry.key] = entry.value
            }
        }
        return .object(target)
    }
}
