/// Names → indexes, looked up straight from UTF-8 bytes (a key read from an answer, a
/// parameter name) without hashing a `String`: open addressing over a power-of-two table
/// whose rows hold each name's first eight bytes, so most lookups compare one word.
/// Built while a model loads; read-only after (hence `@unchecked Sendable`). A class over
/// raw memory: a lookup then touches no reference count (a shape's tables are read for
/// every member of every call).
public final class ByteKeyIndex: @unchecked Sendable {
    private struct Row {
        /// The name's first eight bytes, zero beyond its end; 0 with `value` -1: empty.
        var prefix: UInt64 = 0
        var length: Int32 = 0
        var value: Int32 = -1
        /// Where the name's bytes start in `text` (compared past the eighth byte).
        var textStart: Int32 = 0
    }

    private var rows = UnsafeMutableBufferPointer<Row>(start: nil, count: 0)
    private var text = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    private var textCount = 0
    private var count = 0

    public init() {}

    deinit {
        rows.deallocate()
        text.deallocate()
    }

    /// Adds `key` unless it is there already (the first one wins, as the dictionaries do).
    public func insert(_ key: [UInt8], _ value: Int) {
        if key.withUnsafeBufferPointer({ lookup($0) }) != nil { return }
        if (count + 1) * 2 > rows.count { rebuild(minimum: (count + 1) * 2) }
        let prefix = key.withUnsafeBufferPointer { Self.prefix($0) }
        place(Row(prefix: prefix, length: Int32(key.count), value: Int32(value), textStart: Int32(textCount)))
        if textCount + key.count > text.count {
            let grown = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(64, (textCount + key.count) * 2))
            if textCount > 0 { _ = grown.initialize(from: text[0..<textCount]) }
            text.deallocate()
            text = grown
        }
        for (i, byte) in key.enumerated() { text[textCount + i] = byte }
        textCount += key.count
        count += 1
    }

    /// `readable`: how many bytes may be read from the key's start (see `prefix`).
    public func lookup(_ key: UnsafeBufferPointer<UInt8>, readable: Int = 0) -> Int? {
        let rows = rows
        guard !rows.isEmpty else { return nil }
        let prefix = Self.prefix(key, readable: readable)
        let mask = rows.count - 1
        var slot = Self.hash(prefix, key.count) & mask
        while true {
            let row = rows[slot]
            if row.value < 0 { return nil }
            if row.prefix == prefix, Int(row.length) == key.count, key.count <= 8 || sameTail(row, key) { return Int(row.value) }
            slot = (slot + 1) & mask
        }
    }

    /// `lookup` for a name given as a `String`.
    public func lookup(_ name: String) -> Int? {
        var name = name
        return name.withUTF8 { lookup($0) }
    }

    private func sameTail(_ row: Row, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = Int(row.textStart)
        for i in 8..<key.count where text[start + i] != key[i] { return false }
        return true
    }

    private func rebuild(minimum: Int) {
        var size = 8
        while size < minimum { size *= 2 }
        let old = rows
        rows = .allocate(capacity: size)
        rows.initialize(repeating: Row())
        for row in old where row.value >= 0 { place(row) }
        old.deallocate()
    }

    private func place(_ row: Row) {
        let mask = rows.count - 1
        var slot = Self.hash(row.prefix, Int(row.length)) & mask
        while rows[slot].value >= 0 { slot = (slot + 1) & mask }
        rows[slot] = row
    }

    /// The first eight bytes of `key`, little-endian, zero beyond its end. `readable` is
    /// how many bytes may be read from the key's start (a key inside a document may be
    /// followed by more of it: one load then, instead of a byte loop).
    @inlinable @inline(__always)
    public static func prefix(_ key: UnsafeBufferPointer<UInt8>, readable: Int = 0) -> UInt64 {
        guard let base = key.baseAddress else { return 0 }
        if key.count >= 8 || readable >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(base).loadUnaligned(as: UInt64.self))
            return key.count >= 8 ? word : word & ((1 << UInt64(key.count * 8)) - 1)
        }
        var word: UInt64 = 0
        for i in 0..<key.count { word |= UInt64(base[i]) << UInt64(i * 8) }
        return word
    }

    /// The prefix and length mixed (names differ there; the rest is compared).
    @inlinable @inline(__always)
    public static func hash(_ prefix: UInt64, _ length: Int) -> Int {
        let h = (prefix ^ UInt64(truncatingIfNeeded: length) &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: h >> 32)
    }
}
