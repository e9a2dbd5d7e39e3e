import AWSJSON
import AWSModels

/// Writes query and ec2 form fields as `ShapeWalker.visit` walks the params, as botocore's
/// QuerySerializer/EC2Serializer: each value's key is its container's prefix and its own
/// serialized name joined by dots; lists as `Name.member.N` (query), `Name.N` (flattened
/// query lists and every ec2 list), maps as `Name.entry.N.key/value`.
struct FormWriter: ShapeVisitor {
    static var visitsMapKeys: Bool { false }
    let isEC2: Bool
    let options: CodecOptions
    var form: FormBody
    /// The key of each value being walked; the root's is empty.
    private var prefixes: [String] = [""]
    /// The lists and maps being walked, innermost last.
    private var containers: [Container] = []

    /// A list, whose elements are `<prefix>.N`, or a map, whose entries are
    /// `<prefix>.N.<key>` and `<prefix>.N.<value>`; `count` entries so far.
    private struct Container {
        let prefix: String
        var key = "", value = ""
        var count = 0
    }

    init(isEC2: Bool, options: CodecOptions, form: FormBody) {
        self.isEC2 = isEC2
        self.options = options
        self.form = form
    }

    /// `_get_serialized_name`: query uses `locationName`; ec2 `queryName`, else the
    /// capitalized `locationName`.
    func serializedName(_ member: Member, default name: String) -> String {
        if isEC2 {
            if let queryName = member.queryName { return queryName }
            if let location = member.locationName, let first = location.first { return first.uppercased() + location.dropFirst() }
            return name
        }
        return member.locationName ?? name
    }

    mutating func enter(_ step: ShapeStep) {
        let top = containers.count - 1
        switch step {
        case .member(let member):
            let name = serializedName(member, default: member.name)
            let prefix = prefixes[prefixes.count - 1]
            prefixes.append(prefix.isEmpty ? name : prefix + "." + name)
        case .index(let i, _):
            prefixes.append(containers[top].prefix + "." + String(i + 1))
        case .key(let key, _):
            containers[top].count += 1
            form.set(containers[top].prefix + "." + String(containers[top].count) + "." + containers[top].key, key)
            prefixes.append("")
        case .value:
            prefixes.append(containers[top].prefix + "." + String(containers[top].count) + "." + containers[top].value)
        case .root:
            prefixes.append("")
        }
    }

    mutating func leave(_ step: ShapeStep) { prefixes.removeLast() }

    mutating func visit(_ value: JSON, _ shape: Shape, at step: ShapeStep) -> Bool {
        let prefix = prefixes[prefixes.count - 1]
        let member = step.member
        switch shape.type {
        case .structure:
            guard case .object = value else { return false }
            return true
        case .list:
            guard case .array(let items) = value, let element = shape.listMember else { return false }
            var listPrefix: String
            if isEC2 {
                listPrefix = prefix
            } else if items.isEmpty {
                // The query protocol sends an empty list as an empty value.
                form.set(prefix, "")
                return false
            } else if member?.flattened == true {
                // A flattened list named by its member replaces the last part of the prefix.
                listPrefix = prefix
                if element.locationName != nil {
                    var parts = prefix.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                    parts[parts.count - 1] = serializedName(element, default: "")
                    listPrefix = parts.joined(separator: ".")
                }
            } else {
                listPrefix = prefix + "." + (element.locationName ?? "member")
            }
            containers.append(Container(prefix: listPrefix))
            return true
        case .map:
            guard case .object = value, let key = shape.mapKey, let valueMember = shape.mapValue else { return false }
            containers.append(Container(prefix: member?.flattened == true ? prefix : prefix + ".entry",
                                        key: serializedName(key, default: "key"), value: serializedName(valueMember, default: "value")))
            return true
        case .blob:
            guard case .string(let s) = value else { return false }
            let bytes = options.blobsAreBase64 ? (Base64.decode(s) ?? []) : Array(s.utf8)
            form.set(prefix, Base64.encode(bytes))
        case .timestamp:
            guard let t = Timestamp.parse(value) else { return false }
            switch (member?.timestampFormat ?? "iso8601").lowercased() {
            case "rfc822": form.set(prefix, t.rfc822)
            case "unixtimestamp": form.set(prefix, t.unixString)
            default: form.set(prefix, t.iso8601)
            }
        case .boolean:
            form.set(prefix, value.boolValue == true ? "true" : "false")
        default:
            form.set(prefix, pythonString(value))
        }
        return false
    }

    mutating func finish(_ value: JSON, _ shape: Shape) {
        if shape.type == .list || shape.type == .map { containers.removeLast() }
    }
}
