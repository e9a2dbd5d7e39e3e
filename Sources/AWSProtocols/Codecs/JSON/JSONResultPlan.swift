import AWSModels
import Synchronization

/// An output shape laid out for `JSONResultTranscoder`: every shape it reaches is one node
/// of a flat table, structure members and their JSON keys are rows of flat tables too,
/// and keys are found by their first eight bytes and length (as `ByteKeyIndex` finds
/// them). Reading an answer then follows indexes into memory that does not change: no
/// reference counting per value and no dictionary (both were a third of reading a large
/// answer). Made once per output shape, kept.
final class JSONResultPlan: @unchecked Sendable {
    enum Kind: UInt8 {
        case structure, union, list, map
        /// Read whole and converted by the codec (timestamps, blobs, floats, documents).
        case converted
        /// Strings copied as they are, other scalars written again.
        case plain
        /// A list or map without an element shape: skipped, as the tree skips it.
        case skipped
    }

    struct Node {
        let kind: Kind
        /// structure/union: first row in `members`; list/map: the element's or value's
        /// node; converted: index in `shapes`.
        let first: Int32
        /// structure/union: how many members (model order, all of them).
        let count: Int32
        /// structure/union: where its key table starts in `slots`, and its size - 1.
        let slotStart: Int32
        let slotMask: Int32
    }

    struct MemberRow {
        let node: Int32
        /// `"name":` as the result writes it, in `text`.
        let resultKeyStart: Int32
        let resultKeyLength: Int32
    }

    /// One JSON key of a structure's body members (its wire name) and the member's model index.
    struct KeyRow {
        let prefix: UInt64
        let start: Int32
        let length: Int32
        let member: Int32
    }

    let root: Shape
    let rootNode: Int
    let nodes: UnsafeBufferPointer<Node>
    let members: UnsafeBufferPointer<MemberRow>
    let keys: UnsafeBufferPointer<KeyRow>
    /// Per structure, an open-addressing table of key rows + 1 (0: empty).
    let slots: UnsafeBufferPointer<Int32>
    let text: UnsafeBufferPointer<UInt8>
    /// The shapes of converted nodes (the codec converts by shape).
    let shapes: [Shape]

    private init(root: Shape) {
        var builder = Builder()
        rootNode = Int(builder.node(root))
        self.root = root
        nodes = Self.copy(builder.nodes)
        members = Self.copy(builder.members)
        keys = Self.copy(builder.keys)
        slots = Self.copy(builder.slots)
        text = Self.copy(builder.text)
        shapes = builder.shapes
    }

    deinit {
        for pointer in [nodes.baseAddress.map(UnsafeRawPointer.init), members.baseAddress.map(UnsafeRawPointer.init),
                        keys.baseAddress.map(UnsafeRawPointer.init), slots.baseAddress.map(UnsafeRawPointer.init),
                        text.baseAddress.map(UnsafeRawPointer.init)] {
            pointer.map { UnsafeMutableRawPointer(mutating: $0).deallocate() }
        }
    }

    private static func copy<T>(_ array: [T]) -> UnsafeBufferPointer<T> {
        let memory = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
        _ = memory.initialize(from: array)
        return UnsafeBufferPointer(rebasing: memory[0..<array.count])
    }

    // MARK: Plans kept

    private static let made = Mutex<[ObjectIdentifier: JSONResultPlan]>([:])
    /// Plenty for every output shape of the services one gateway serves; past it, the
    /// table starts again rather than grow without bound.
    static let keptLimit = 20_000

    /// The plan for `shape` (a structure), made on first use. The plan holds its shape,
    /// so the identifier cannot be reused by another shape while the entry exists.
    static func plan(for shape: Shape) -> JSONResultPlan {
        let id = ObjectIdentifier(shape)
        if let plan = made.withLock({ $0[id] }) { return plan }
        let plan = JSONResultPlan(root: shape)
        return made.withLock { table in
            if let raced = table[id] { return raced }
            if table.count >= keptLimit { table.removeAll() }
            table[id] = plan
            return plan
        }
    }

    // MARK: Finding a key

    /// The model index of the body member whose JSON key is `key`, in structure `node`.
    @inline(__always)
    func member(_ node: Node, key: UnsafeBufferPointer<UInt8>, prefix: UInt64) -> Int? {
        var slot = ByteKeyIndex.hash(prefix, key.count) & Int(node.slotMask)
        while true {
            let entry = Int(slots[Int(node.slotStart) + slot])
            if entry == 0 { return nil }
            let row = keys[entry - 1]
            if row.prefix == prefix, Int(row.length) == key.count, key.count <= 8 || sameTail(row, key) {
                return Int(row.member)
            }
            slot = (slot + 1) & Int(node.slotMask)
        }
    }

    private func sameTail(_ row: KeyRow, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let stored = Int(row.start)
        for i in 8..<key.count where text[stored + i] != key[i] { return false }
        return true
    }

    // MARK: Making a plan

    private struct Builder {
        var nodes: [Node] = []
        var members: [MemberRow] = []
        var keys: [KeyRow] = []
        var slots: [Int32] = []
        var text: [UInt8] = []
        var shapes: [Shape] = []
        var nodeOf: [ObjectIdentifier: Int32] = [:]

        /// The node of `shape`, made (with everything it reaches) if new.
        mutating func node(_ shape: Shape) -> Int32 {
            if let known = nodeOf[ObjectIdentifier(shape)] { return known }
            let index = Int32(nodes.count)
            nodeOf[ObjectIdentifier(shape)] = index
            nodes.append(Node(kind: .skipped, first: 0, count: 0, slotStart: 0, slotMask: 0))
            nodes[Int(index)] = made(shape)
            return index
        }

        private mutating func made(_ shape: Shape) -> Node {
            switch shape.type {
            case .structure where !shape.isDocument:
                return structure(shape)
            case .list:
                guard let element = shape.listMember else { return Node(kind: .skipped, first: 0, count: 0, slotStart: 0, slotMask: 0) }
                return Node(kind: .list, first: node(element.shape), count: 0, slotStart: 0, slotMask: 0)
            case .map:
                guard let value = shape.mapValue else { return Node(kind: .skipped, first: 0, count: 0, slotStart: 0, slotMask: 0) }
                return Node(kind: .map, first: node(value.shape), count: 0, slotStart: 0, slotMask: 0)
            case .structure, .timestamp, .blob, .float, .double, .bigdecimal:
                shapes.append(shape)
                return Node(kind: .converted, first: Int32(shapes.count - 1), count: 0, slotStart: 0, slotMask: 0)
            default:
                return Node(kind: .plain, first: 0, count: 0, slotStart: 0, slotMask: 0)
            }
        }

        private mutating func structure(_ shape: Shape) -> Node {
            // The members' nodes first: their rows must be contiguous.
            let memberNodes = shape.members.map { node($0.shape) }
            let first = Int32(members.count)
            for (member, memberNode) in zip(shape.members, memberNodes) {
                members.append(MemberRow(node: memberNode, resultKeyStart: Int32(text.count), resultKeyLength: Int32(member.resultKey.count)))
                text.append(contentsOf: member.resultKey)
            }
            // The key table: the body members by wire name, as `bodyMemberIndex` has them.
            var size = 4
            while size < shape.bodyMemberIndex.count * 2 { size *= 2 }
            let slotStart = Int32(slots.count)
            slots.append(contentsOf: repeatElement(0, count: size))
            for (name, memberIndex) in shape.bodyMemberIndex.sorted(by: { $0.value < $1.value }) {
                let bytes = Array(name.utf8)
                let prefix = bytes.withUnsafeBufferPointer { ByteKeyIndex.prefix($0, readable: 0) }
                keys.append(KeyRow(prefix: prefix, start: Int32(text.count), length: Int32(bytes.count), member: Int32(memberIndex)))
                text.append(contentsOf: bytes)
                var slot = ByteKeyIndex.hash(prefix, bytes.count) & (size - 1)
                while slots[Int(slotStart) + slot] != 0 { slot = (slot + 1) & (size - 1) }
                slots[Int(slotStart) + slot] = Int32(keys.count)
            }
            return Node(kind: shape.isUnion ? .union : .structure, first: first, count: Int32(shape.members.count),
                        slotStart: slotStart, slotMask: Int32(size - 1))
        }
    }
}
