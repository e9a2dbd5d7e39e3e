import AWSJSON

/// The kinds of shapes botocore models use.
public enum ShapeType: String, Sendable {
    case structure, list, map, string, integer, long, float, double, boolean, timestamp, blob, bigdecimal, biginteger
    /// Old models' single-character strings.
    case character
}

/// Where a member of an input or output structure lives on the HTTP message.
public enum MemberLocation: String, Sendable {
    case uri, querystring, header, headers, statusCode
}

/// A reference from a structure, list or map to a shape, with the serialization
/// traits of the reference merged over the target shape's own (as botocore does).
/// A class: every walk over a shape's members would otherwise copy (and retain) each
/// of its fields.
public final class Member: Sendable {
    public let name: String
    public let shape: Shape
    public let location: MemberLocation?
    /// `locationName`: the wire name (header, query key, URI label, JSON key for some protocols).
    public let locationName: String?
    public let queryName: String?
    public let timestampFormat: String?
    public let jsonValue: Bool
    public let idempotencyToken: Bool
    public let hostLabel: Bool
    public let contextParam: String?
    public let flattened: Bool
    public let xmlNamespace: JSON?
    public let xmlAttribute: Bool
    public let eventPayload: Bool
    /// An event's member carried in a message header (`eventheader`).
    public let isEventHeader: Bool

    /// The name this member has on the wire, given how the protocol names things.
    public let wireName: String
    /// `"name":` as a result's JSON text starts this member (written once, copied often).
    public let resultKey: [UInt8]

    /// Read from an XML body: every member but those bound to the status line or
    /// headers (botocore's `KNOWN_LOCATIONS`), and event headers. A `uri` or
    /// `querystring` member of a structure used for both request and answer is in the body.
    public var isXMLBodyMember: Bool {
        switch location {
        case .statusCode?, .header?, .headers?: return false
        default: return !isEventHeader
        }
    }

    /// The element an XML answer carries this member in: a flattened list's element
    /// name, else `locationName`, else the member name (botocore's XML parsers).
    public var xmlElementName: String {
        if shape.type == .list, flattened, let name = shape.listMember?.locationName { return name }
        return wireName
    }

    /// Builds a reference, merging the reference's traits over the target shape's.
    init(name: String, reference: JSONObject, shape: Shape) {
        self.name = name
        self.shape = shape
        location = reference["location"]?.stringValue.flatMap(MemberLocation.init(rawValue:)) ?? shape.location
        locationName = reference["locationName"]?.stringValue ?? shape.locationName
        queryName = reference["queryName"]?.stringValue
        timestampFormat = reference["timestampFormat"]?.stringValue ?? shape.timestampFormat
        jsonValue = reference["jsonvalue"]?.boolValue ?? false
        idempotencyToken = reference["idempotencyToken"]?.boolValue ?? false
        hostLabel = reference["hostLabel"]?.boolValue ?? false
        contextParam = reference["contextParam"]?["name"]?.stringValue
        flattened = reference["flattened"]?.boolValue ?? shape.isFlattened
        xmlNamespace = reference["xmlNamespace"] ?? shape.xmlNamespace
        xmlAttribute = reference["xmlAttribute"]?.boolValue ?? false
        eventPayload = reference["eventpayload"]?.boolValue ?? false
        isEventHeader = reference["eventheader"]?.boolValue ?? false
        wireName = locationName ?? name
        var key: [UInt8] = []
        JSON.writeString(name, to: &key, asciiOnly: false)
        key.append(UInt8(ascii: ":"))
        resultKey = key
    }
}

/// One shape of a service model. Shapes form a graph (possibly cyclic), so they are
/// reference types, resolved once when the model is loaded.
///
/// The links below are written only while the model loads, before the shape is shared,
/// and only read after: their exclusivity is not checked at run time (a check on every
/// read was a tenth of reading a large answer). Other modules read them through getters,
/// as a stored property read from another module is checked whatever it is marked.
public final class Shape: @unchecked Sendable {
    public let name: String
    public let type: ShapeType
    /// Structure members in model order.
    public var members: [Member] { _members }
    @exclusivity(unchecked) var _members: [Member] = []
    public var memberIndex: [String: Int] { _memberIndex }
    @exclusivity(unchecked) var _memberIndex: [String: Int] = [:]
    let memberKeys = ByteKeyIndex()
    /// Members without an HTTP location, by their wire name (JSON body keys).
    public var bodyMemberIndex: [String: Int] { _bodyMemberIndex }
    @exclusivity(unchecked) var _bodyMemberIndex: [String: Int] = [:]
    /// The same, as UTF-8 keys, for readers that look keys up without making strings.
    public let bodyMemberKeys = ByteKeyIndex()
    /// Members without an HTTP location, by the element name they are found under in
    /// XML (filled for XML protocols' models).
    public var xmlMemberIndex: [String: Int] { _xmlMemberIndex }
    @exclusivity(unchecked) var _xmlMemberIndex: [String: Int] = [:]
    let xmlMemberKeys = ByteKeyIndex()
    /// For each member, the next member found under the same XML element name, or -1
    /// (S3's deprecated `Event` and the flattened `Events` both read `<Event>`: each is
    /// filled from it, as botocore fills both).
    @exclusivity(unchecked) var _xmlNextSameName: [Int] = []
    public var required: [String] { _required }
    @exclusivity(unchecked) var _required: [String] = []
    /// The list element, map key and map value references.
    public var listMember: Member? { _listMember }
    @exclusivity(unchecked) var _listMember: Member?
    public var mapKey: Member? { _mapKey }
    @exclusivity(unchecked) var _mapKey: Member?
    public var mapValue: Member? { _mapValue }
    @exclusivity(unchecked) var _mapValue: Member?

    public let min: Double?
    public let max: Double?
    public let pattern: String?
    public let enumValues: [String]?
    public let timestampFormat: String?
    public let isUnion: Bool
    public let isDocument: Bool
    public let isException: Bool
    public let isFault: Bool
    public let isStreaming: Bool
    public let isEventStream: Bool
    public let isSensitive: Bool
    public let isFlattened: Bool
    public let requiresLength: Bool
    /// For structures: the member that is the whole HTTP body.
    public let payload: String?
    /// For errors: the `error` trait (code, httpStatusCode, senderFault).
    public let errorCode: String?
    public let errorHTTPStatus: Int?
    public let isRetryable: Bool
    public let isThrottlingRetry: Bool
    /// `locationName` set on the shape itself (lists' and maps' XML names, etc.).
    public let locationName: String?
    /// `location` set on the shape itself (old models put it there).
    public let location: MemberLocation?
    public let xmlNamespace: JSON?

    init(name: String, definition: JSONObject, file: String) throws(ModelError) {
        self.name = name
        guard let typeName = definition["type"]?.stringValue else {
            throw ModelError.invalidModel(file: file, reason: "shape \(name) has no type")
        }
        guard let type = ShapeType(rawValue: typeName) else {
            throw ModelError.invalidModel(file: file, reason: "shape \(name) has unknown type \(typeName)")
        }
        self.type = type
        min = definition["min"]?.doubleValue
        max = definition["max"]?.doubleValue
        pattern = definition["pattern"]?.stringValue
        enumValues = definition["enum"]?.arrayValue?.compactMap(\.stringValue)
        timestampFormat = definition["timestampFormat"]?.stringValue
        isUnion = definition["union"]?.boolValue ?? false
        isDocument = definition["document"]?.boolValue ?? false
        isException = definition["exception"]?.boolValue ?? false
        isFault = definition["fault"]?.boolValue ?? false
        isStreaming = definition["streaming"]?.boolValue ?? false
        isEventStream = definition["eventstream"]?.boolValue ?? false
        isSensitive = definition["sensitive"]?.boolValue ?? false
        isFlattened = definition["flattened"]?.boolValue ?? false
        requiresLength = definition["requiresLength"]?.boolValue ?? false
        payload = definition["payload"]?.stringValue
        errorCode = definition["error"]?["code"]?.stringValue
        errorHTTPStatus = definition["error"]?["httpStatusCode"]?.intValue.map { Int($0) }
        isRetryable = definition["retryable"] != nil
        isThrottlingRetry = definition["retryable"]?["throttling"]?.boolValue ?? false
        locationName = definition["locationName"]?.stringValue
        location = definition["location"]?.stringValue.flatMap(MemberLocation.init(rawValue:))
        xmlNamespace = definition["xmlNamespace"]
    }

    /// The member called `name`, compared by its bytes (as botocore compares names).
    public func member(named name: String) -> Member? {
        guard let index = memberKeys.lookup(name) else { return nil }
        return _members[index]
    }

    public func isRequired(_ member: String) -> Bool { required.contains(member) }

    /// The body member whose wire name is `key` (UTF-8 bytes of a JSON key), as
    /// `bodyMemberIndex` but without a string made for each key read.
    public func bodyMemberIndex(forKey key: UnsafeBufferPointer<UInt8>) -> Int? {
        bodyMemberKeys.lookup(key)
    }

    /// `memberIndex` for a member name given as UTF-8 bytes.
    public func memberIndex(forName name: UnsafeBufferPointer<UInt8>) -> Int? {
        memberKeys.lookup(name)
    }

    /// `xmlMemberIndex` for an element name given as UTF-8 bytes.
    public func xmlMemberIndex(forName name: UnsafeBufferPointer<UInt8>) -> Int? {
        xmlMemberKeys.lookup(name)
    }

    /// The member after `index` that is read from the same XML element name, if any.
    @inline(__always)
    public func nextMember(sharingXMLNameWith index: Int) -> Int? {
        let next = _xmlNextSameName.isEmpty ? -1 : _xmlNextSameName[index]
        return next >= 0 ? next : nil
    }

    func indexXMLMembers() {
        var last: [String: Int] = [:]
        for (index, member) in members.enumerated() where member.isXMLBodyMember {
            let name = member.xmlElementName
            if let previous = last[name] {
                if _xmlNextSameName.isEmpty { _xmlNextSameName = Array(repeating: -1, count: members.count) }
                _xmlNextSameName[previous] = index
            }
            last[name] = index
            if _xmlMemberIndex[name] == nil { _xmlMemberIndex[name] = index }
            xmlMemberKeys.insert(Array(name.utf8), index)
        }
    }
}
