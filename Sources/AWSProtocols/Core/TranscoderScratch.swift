import AWSModels

/// The keys one map of an answer wrote, so that a key given twice is noticed (the
/// transcoders then leave the answer to the tree, whose rule is "first place, last
/// value"). Compared by first eight bytes and length, then the rest; through a set of
/// hashes once the map is large, so a map of many keys costs no more than its size.
struct WrittenKeys {
    private var keys: [(prefix: UInt64, start: Int, length: Int)] = []
    private var hashes: Set<Int> = []

    /// Adds the key at `start..<end` of `bytes`; false if the map had it already.
    mutating func insert(_ start: Int, _ end: Int, of bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let key = UnsafeBufferPointer(rebasing: bytes[start..<end])
        let prefix = ByteKeyIndex.prefix(key, readable: bytes.count - start)
        // One allocation for a map's first keys, not a growth step at 1, 2, 4 and 8.
        if keys.isEmpty { keys.reserveCapacity(16) }
        // Large maps: a new hash is a new key; only a hash seen before is compared.
        if keys.count >= 16, hashes.insert(Self.hash(key)).inserted {
            keys.append((prefix, start, key.count))
            return true
        }
        for earlier in keys where earlier.prefix == prefix && earlier.length == key.count {
            var same = true
            for i in min(8, key.count)..<key.count where bytes[earlier.start + i] != key[i] { same = false; break }
            if same { return false }
        }
        keys.append((prefix, start, key.count))
        if keys.count == 16 { hashes = Set(keys.map { Self.hash(UnsafeBufferPointer(rebasing: bytes[$0.start..<($0.start + $0.length)])) }) }
        return true
    }

    private static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(key))
        return hasher.finalize()
    }
}

/// Where a transcoder writes a result's JSON text: an array of bytes, or `OutputBytes`.
protocol ResultTextSink: ~Copyable {
    var count: Int { get }
    mutating func append(_ byte: UInt8)
    mutating func append(contentsOf bytes: [UInt8])
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>)
    /// Drops what was written from `count` on.
    mutating func truncate(to count: Int)
    /// A copy of what was written from `start` on.
    func bytes(from start: Int) -> [UInt8]
}

extension Array: ResultTextSink where Element == UInt8 {
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) { append(contentsOf: bytes) }
    mutating func truncate(to count: Int) { removeLast(self.count - count) }
    func bytes(from start: Int) -> [UInt8] { Array(self[start...]) }
}

/// A growable buffer of bytes without an array's uniqueness and capacity checks on every
/// append: a large answer's result is written in many small pieces, and those checks
/// were a fifth of reading it.
struct OutputBytes: ~Copyable, ResultTextSink {
    private var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var last: UInt8? { count > 0 ? base[count - 1] : nil }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        let n = bytes.count
        if count + n > capacity { grow(to: count + n) }
        let target = UnsafeMutableRawPointer(base + count), from = UnsafeRawPointer(source)
        // Most pieces are short (a key, a number, a word): two overlapping word copies
        // instead of a call to memcpy.
        if n >= 8 && n <= 16 {
            target.storeBytes(of: from.loadUnaligned(as: UInt64.self), as: UInt64.self)
            (target + (n - 8)).storeBytes(of: (from + (n - 8)).loadUnaligned(as: UInt64.self), as: UInt64.self)
        } else if n >= 4 && n < 8 {
            target.storeBytes(of: from.loadUnaligned(as: UInt32.self), as: UInt32.self)
            (target + (n - 4)).storeBytes(of: (from + (n - 4)).loadUnaligned(as: UInt32.self), as: UInt32.self)
        } else if n < 4 {
            for i in 0..<n { base[count + i] = source[i] }
        } else {
            target.copyMemory(from: from, byteCount: n)
        }
        count += n
    }

    mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    mutating func truncate(to count: Int) {
        precondition(count >= 0 && count <= self.count)
        self.count = count
    }

    func bytes(from start: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: base + start, count: count - start))
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }
}

/// Where a transcoder wrote each member of a structure (model index, and the range of the
/// output holding `"name":value`): members that arrived out of model order are put in
/// order once, when the structure ends.
typealias WrittenMember = (index: Int, start: Int, end: Int)

/// Rewrites the members written from `contentStart` on in model order, comma-separated.
func putInModelOrder<Sink: ResultTextSink & ~Copyable>(_ out: inout Sink, _ members: ArraySlice<WrittenMember>, contentStart: Int) {
    let written = out.bytes(from: contentStart)
    let sorted = members.sorted { $0.index < $1.index }
    out.truncate(to: contentStart)
    written.withUnsafeBufferPointer { written in
        for (i, member) in sorted.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UnsafeBufferPointer(rebasing: written[(member.start - contentStart)..<(member.end - contentStart)]))
        }
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
    init<Sink: ResultTextSink & ~Copyable>(_ out: inout Sink, segments: [WrittenMember]) {
        out.append(UInt8(ascii: "{"))
        contentStart = out.count
        base = segments.count
    }

    /// Starts member `index` (a comma written if one is due; the caller then writes its
    /// key); nil if it was given before.
    mutating func begin<Sink: ResultTextSink & ~Copyable>(_ index: Int, _ out: inout Sink, segments: [WrittenMember]) -> (before: Int, start: Int)? {
        guard index < 64, seen & (1 << UInt64(index)) == 0 else { return nil }
        seen |= 1 << UInt64(index)
        let before = out.count
        if segments.count > base { out.append(UInt8(ascii: ",")) }
        return (before, out.count)
    }

    /// Ends member `index`: kept if a value was written, else its key taken back.
    mutating func end<Sink: ResultTextSink & ~Copyable>(_ index: Int, at mark: (before: Int, start: Int), wrote: Bool, _ out: inout Sink, segments: inout [WrittenMember]) {
        guard wrote else {
            out.truncate(to: mark.before)
            return
        }
        if let last = segments.last, segments.count > base, last.index > index { ordered = false }
        segments.append((index, mark.start, out.count))
    }

    /// Puts the members in model order if needed, writes the closing brace and frees the scratch.
    func finish<Sink: ResultTextSink & ~Copyable>(_ out: inout Sink, segments: inout [WrittenMember]) {
        if !ordered { putInModelOrder(&out, segments[base...], contentStart: contentStart) }
        out.append(UInt8(ascii: "}"))
        while segments.count > base { segments.removeLast() }
    }
}
