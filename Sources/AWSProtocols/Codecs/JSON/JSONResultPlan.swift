import AWSModels
import Synchronization

/// An output shape laid out for `JSONResultTranscoder`: every shape it reaches is one node
/// of a flat table and structure members are rows of another; keys are found in each
/// structure's own `bodyMemberKeys`, reached without a reference count. Reading an answer
/// then follows indexes into memory that does not change: no reference counting per value
/// and no dictionary (both were a third of reading a large answer). Made once per output
/// shape, kept; it holds the shapes whose tables it reads.
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
        /// structure/union: its body members by JSON key (the shape's own table, kept
        /// alive by `shapes`).
        let keys: Unmanaged<ByteKeyIndex>?
    }

    struct MemberRow {
        let node: Int32
        /// `"name":` as the result writes it, in `text`.
        let resultKeyStart: Int32
        let resultKeyLength: Int32
    }

    let root: Shape
    let rootNode: Int
    let nodes: UnsafeBufferPointer<Node>
    let members: UnsafeBufferPointer<MemberRow>
    let text: UnsafeBufferPointer<UInt8>
    /// The shapes of converted nodes (the codec converts by shape) and of structures
    /// (whose key tables the nodes point to).
    let shapes: [Shape]

    private init(root: Shape) {
        var builder = Builder()
        rootNode = Int(builder.node(root))
        self.root = root
        nodes = Self.copy(builder.nodes)
        members = Self.copy(builder.members)
        text = Self.copy(builder.text)
        shapes = builder.shapes
    }

    deinit {
        UnsafeMutableBufferPointer(mutating: nodes).deallocate()
        UnsafeMutableBufferPointer(mutating: members).deallocate()
        UnsafeMutableBufferPointer(mutating: text).deallocate()
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

    /// The model index of the body member whose JSON key is `key`, in structure `node`.
    /// `readable`: how many bytes may be read from the key's start.
    @inline(__always)
    func member(_ node: Node, key: UnsafeBufferPointer<UInt8>, readable: Int) -> Int? {
        node.keys?._withUnsafeGuaranteedRef { $0.lookup(key, readable: readable) }
    }

    // MARK: Making a plan

    private struct Builder {
        var nodes: [Node] = []
        var members: [MemberRow] = []
        var text: [UInt8] = []
        var shapes: [Shape] = []
        var nodeOf: [ObjectIdentifier: Int32] = [:]

        /// The node of `shape`, made (with everything it reaches) if new.
        mutating func node(_ shape: Shape) -> Int32 {
            if let known = nodeOf[ObjectIdentifier(shape)] { return known }
            let index = Int32(nodes.count)
            nodeOf[ObjectIdentifier(shape)] = index
            nodes.append(Node(kind: .skipped, first: 0, keys: nil))
            nodes[Int(index)] = made(shape)
            return index
        }

        private mutating func made(_ shape: Shape) -> Node {
            switch shape.type {
            case .structure where !shape.isDocument:
                return structure(shape)
            case .list:
                guard let element = shape.listMember else { return Node(kind: .skipped, first: 0, keys: nil) }
                return Node(kind: .list, first: node(element.shape), keys: nil)
            case .map:
                guard let value = shape.mapValue else { return Node(kind: .skipped, first: 0, keys: nil) }
                return Node(kind: .map, first: node(value.shape), keys: nil)
            case .structure, .timestamp, .blob, .float, .double, .bigdecimal:
                shapes.append(shape)
                return Node(kind: .converted, first: Int32(shapes.count - 1), keys: nil)
            default:
                return Node(kind: .plain, first: 0, keys: nil)
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
            shapes.append(shape)
            return Node(kind: shape.isUnion ? .union : .structure, first: first, keys: Unmanaged.passUnretained(shape.bodyMemberKeys))
        }
    }
}
