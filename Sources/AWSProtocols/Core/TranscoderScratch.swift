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

/// Where a transcoder wrote each member of a structure (model index, and the range of the
/// output holding `"name":value`): members that arrived out of model order are put in
/// order once, when the structure ends.
typealias WrittenMember = (index: Int, start: Int, end: Int)

/// Rewrites the members written from `contentStart` on in model order, comma-separated.
func putInModelOrder(_ out: inout [UInt8], _ members: ArraySlice<WrittenMember>, contentStart: Int) {
    let written = Array(out[contentStart...])
    let sorted = members.sorted { $0.index < $1.index }
    out.removeLast(out.count - contentStart)
    for (i, member) in sorted.enumerated() {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: written[(member.start - contentStart)..<(member.end - contentStart)])
    }
}

/// One structure a transcoder is writing: each member written as it arrives
/// (`"name":value`), one given twice refused (the caller then leaves the answer to the
/// tree, whose rule is "last one wins"), and the members put in model order at the end
/// if they came in another. `segments` is scratch shared by the levels being written.
struct StructureOutput {
    private let base: Int
    private let contentStart: Int
    private var seen: UInt64 = 0
    private var ordered = true

    /// Writes the opening brace.
    init(_ out: inout [UInt8], segments: [WrittenMember]) {
        out.append(UInt8(ascii: "{"))
        contentStart = out.count
        base = segments.count
    }

    /// Starts member `index` (its key written, after a comma); nil if it was given before.
    mutating func begin(_ index: Int, key: [UInt8], _ out: inout [UInt8], segments: [WrittenMember]) -> (before: Int, start: Int)? {
        guard index < 64, seen & (1 << UInt64(index)) == 0 else { return nil }
        seen |= 1 << UInt64(index)
        let before = out.count
        if segments.count > base { out.append(UInt8(ascii: ",")) }
        let start = out.count
        out.append(contentsOf: key)
        return (before, start)
    }

    /// Ends member `index`: kept if a value was written, else its key taken back.
    mutating func end(_ index: Int, at mark: (before: Int, start: Int), wrote: Bool, _ out: inout [UInt8], segments: inout [WrittenMember]) {
        guard wrote else {
            out.removeLast(out.count - mark.before)
            return
        }
        if let last = segments.last, segments.count > base, last.index > index { ordered = false }
        segments.append((index, mark.start, out.count))
    }

    /// Puts the members in model order if needed, writes the closing brace and frees the scratch.
    func finish(_ out: inout [UInt8], segments: inout [WrittenMember]) {
        if !ordered { putInModelOrder(&out, segments[base...], contentStart: contentStart) }
        out.append(UInt8(ascii: "}"))
        while segments.count > base { segments.removeLast() }
    }
}
