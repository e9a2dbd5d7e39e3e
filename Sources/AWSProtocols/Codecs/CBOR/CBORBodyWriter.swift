import AWSJSON
import AWSModels

/// Writes the CBOR request body as `ShapeWalker.visit` walks the params, as botocore's
/// RpcV2CBORSerializer: structures as maps keyed by member name (members left out when
/// null), lists and maps of definite length, timestamps as tag 1, blobs as byte strings,
/// documents and values of the wrong type as the natural CBOR of their JSON kind.
struct CBORBodyWriter: ShapeVisitor {
    static var visitsMapKeys: Bool { false }
    let options: CodecOptions
    var cbor = CBORWriter()

    init(options: CodecOptions) { self.options = options }

    mutating func enter(_ step: ShapeStep) {
        if case .key(let key, _) = step { cbor.text(key) }
    }

    mutating func visit(_ value: JSON, _ shape: Shape, at step: ShapeStep) -> Bool {
        if case .member(let member) = step {
            guard !value.isNull else { return false }
            cbor.text(member.locationName ?? member.name)
        }
        switch shape.type {
        case .structure where !shape.isDocument:
            guard case .object(let object) = value else { break }
            let present = object.members.count { !$0.value.isNull && shape.member(named: $0.key) != nil }
            cbor.head(5, UInt64(present))
            return true
        case .list:
            guard case .array(let items) = value, shape.listMember != nil else { break }
            cbor.head(4, UInt64(items.count))
            return true
        case .map:
            guard case .object(let map) = value, shape.mapKey != nil, shape.mapValue != nil else { break }
            cbor.head(5, UInt64(map.count))
            return true
        case .timestamp:
            guard let t = Timestamp.parse(value) else { break }
            cbor.head(6, 1)
            if t.microseconds > 0 {
                cbor.double(Double(t.seconds * 1_000_000 + Int64(t.microseconds)) / 1_000_000, single: false)
            } else {
                cbor.integer(t.seconds)
            }
            return false
        case .blob:
            guard case .string(let text) = value else { break }
            cbor.blob(options.blobsAreBase64 ? (Base64.decode(text) ?? []) : Array(text.utf8))
            return false
        case .float, .double:
            let number: Double
            switch value {
            case .int(let i): number = Double(i)
            case .double(let d): number = d
            case .string("NaN"): number = .nan
            case .string("Infinity"): number = .infinity
            case .string("-Infinity"): number = -.infinity
            default: CBORBodyWriter.writeDocument(value, into: &cbor); return false
            }
            cbor.double(number, single: shape.type == .float)
            return false
        default:
            break
        }
        CBORBodyWriter.writeDocument(value, into: &cbor)
        return false
    }

    /// A value as it is (documents, scalars): the natural CBOR for each JSON kind.
    static func writeDocument(_ value: JSON, into writer: inout CBORWriter) {
        switch value {
        case .fragment(let fragment): writeDocument(fragment.value, into: &writer)
        case .null: writer.bytes.append(0xF6)
        case .bool(let b): writer.bool(b)
        case .int(let i): writer.integer(i)
        case .double(let d): writer.double(d, single: false)
        case .string(let s): writer.text(s)
        case .array(let items):
            writer.head(4, UInt64(items.count))
            for item in items { writeDocument(item, into: &writer) }
        case .object(let object):
            writer.head(5, UInt64(object.count))
            for entry in object {
                writer.text(entry.key)
                writeDocument(entry.value, into: &writer)
            }
        }
    }
}
