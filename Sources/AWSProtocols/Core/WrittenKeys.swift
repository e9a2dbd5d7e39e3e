/// The keys one map of an answer wrote, so that a key given twice is noticed (the
/// transcoders then leave the answer to the tree, whose rule is "first place, last
/// value"). Compared by hash and bytes; through a set of hashes once the map is large, so
/// a map of many keys costs no more than its size.
struct WrittenKeys {
    private var keys: [(hash: Int, start: Int, end: Int)] = []
    private var hashes: Set<Int> = []

    /// Adds the key at `start..<end` of `bytes`; false if the map had it already.
    mutating func insert(_ start: Int, _ end: Int, of bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for i in start..<end { hash = (hash ^ UInt64(bytes[i])) &* 0x100_0000_01b3 }
        let h = Int(truncatingIfNeeded: hash)
        if keys.count < 16 || hashes.contains(h) {
            for key in keys where key.hash == h && key.end - key.start == end - start {
                var same = true
                for k in 0..<(end - start) where bytes[key.start + k] != bytes[start + k] { same = false; break }
                if same { return false }
            }
        }
        keys.append((h, start, end))
        if keys.count == 16 { hashes = Set(keys.map(\.hash)) } else if keys.count > 16 { hashes.insert(h) }
        return true
    }
}
