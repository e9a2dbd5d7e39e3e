/// Names → indexes, looked up straight from UTF-8 bytes (a key read from an answer)
/// without making a string: open addressing over a power-of-two table. Built while a
/// model loads; read-only after.
public struct ByteKeyIndex: Sendable {
    private var keys: [[UInt8]] = []
    private var values: [Int] = []
    /// Entry number + 1 per slot; 0 is an empty slot.
    private var slots: [Int32] = []

    public init() {}

    /// Adds `key` unless it is there already (the first one wins, as the dictionaries do).
    public mutating func insert(_ key: [UInt8], _ value: Int) {
        if key.withUnsafeBufferPointer({ lookup($0) }) != nil { return }
        keys.append(key)
        values.append(value)
        if keys.count * 2 > slots.count { rebuild() } else { place(keys.count - 1) }
    }

    public func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = Self.hash(key) & mask
        while true {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            let candidate = keys[entry - 1]
            if candidate.count == key.count {
                let same = candidate.withUnsafeBufferPointer { stored in
                    for i in 0..<key.count where stored[i] != key[i] { return false }
                    return true
                }
                if same { return values[entry - 1] }
            }
            slot = (slot + 1) & mask
        }
    }

    private mutating func rebuild() {
        var size = 8
        while size < keys.count * 2 { size *= 2 }
        slots = [Int32](repeating: 0, count: size)
        for entry in keys.indices { place(entry) }
    }

    private mutating func place(_ entry: Int) {
        let mask = slots.count - 1
        var slot = keys[entry].withUnsafeBufferPointer { Self.hash($0) } & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(entry + 1)
    }

    /// The length and the first and last eight bytes, mixed (names differ there).
    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var h = UInt64(truncatingIfNeeded: key.count) &* 0x9E37_79B9_7F4A_7C15
        if key.count >= 8, let base = key.baseAddress {
            let raw = UnsafeRawPointer(base)
            h ^= raw.loadUnaligned(as: UInt64.self)
            h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
            h ^= raw.loadUnaligned(fromByteOffset: key.count - 8, as: UInt64.self)
        } else {
            for byte in key { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        }
        h = (h ^ (h >> 32)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }
}
