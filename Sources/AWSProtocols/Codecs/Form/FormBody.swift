import AWSJSON
import AWSPrimitives

/// A query/ec2 request body: ordered fields with the semantics of the dict botocore
/// builds (a key set again keeps its first position and takes the new value), encoded
/// as Python's `urlencode` encodes it.
public struct FormBody: Sendable {
    public private(set) var fields: [(key: String, value: String)] = []
    private var index: [String: Int] = [:]

    public init() {}

    /// Reads an encoded body back (`+` is a space, `%XX` a byte); nil if it is not one.
    public init?(decoding body: [UInt8]) {
        guard !body.isEmpty else { return }
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let key = FormBody.unquotePlus(parts[0]), let value = FormBody.unquotePlus(parts[1]) else { return nil }
            set(key, value)
        }
    }

    public subscript(key: String) -> String? { index[key].map { fields[$0].value } }

    public mutating func set(_ key: String, _ value: String) {
        if let at = index[key] {
            fields[at].value = value
        } else {
            index[key] = fields.count
            fields.append((key, value))
        }
    }

    public mutating func remove(_ key: String) {
        guard let at = index.removeValue(forKey: key) else { return }
        fields.remove(at: at)
        for (other, position) in index where position > at { index[other] = position - 1 }
    }

    /// Python's `urlencode`: `quote_plus` of each key and value.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        for (n, field) in fields.enumerated() {
            if n > 0 { out.append(UInt8(ascii: "&")) }
            FormBody.quotePlus(field.key, into: &out)
            out.append(UInt8(ascii: "="))
            FormBody.quotePlus(field.value, into: &out)
        }
        return out
    }

    static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func quotePlus(_ text: String, into out: inout [UInt8]) {
        for byte in text.utf8 {
            if PercentEncoding.isUnreserved(byte) {
                out.append(byte)
            } else if byte == UInt8(ascii: " ") {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
    }

    static func unquotePlus(_ bytes: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let byte = bytes[i]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex, let high = Hex.value(of: bytes[i + 1]), let low = Hex.value(of: bytes[i + 2]) else { return nil }
                out.append(high << 4 | low)
                i += 2
            } else {
                out.append(byte)
            }
            i += 1
        }
        return String(validating: out, as: UTF8.self)
    }
}
