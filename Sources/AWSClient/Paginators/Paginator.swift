import AWSJMESPath
import AWSJSON

/// How an operation's answers page, from botocore's `paginators-1.json` (with its
/// `sdk-extras`): which output members carry the next page's token and which input
/// members take it, which members hold the results to merge.
public struct Paginator: Sendable {
    /// Input members the next request sets from the output tokens, in order.
    public let inputTokens: [String]
    /// Where each input token's value is found in an answer.
    public let outputTokens: [JMESPath]
    /// When present and false in an answer, that answer is the last page.
    public let moreResults: JMESPath?
    /// The members whose values are concatenated (lists) or added up (numbers, strings)
    /// over the pages; the first is the one `maxItems` counts.
    public let resultKeys: [JMESPath]
    /// Members taken from the first page as they are.
    public let nonAggregateKeys: [JMESPath]
    /// The input member that sets a page's size.
    public let limitKey: String?

    /// Reads one operation's entry of `pagination`.
    public init(config: JSONObject) throws(JMESPathError) {
        func strings(_ key: String) -> [String] {
            switch config[key] {
            case .string(let s)?: [s]
            case .array(let values)?: values.compactMap(\.stringValue)
            default: []
            }
        }
        inputTokens = strings("input_token")
        outputTokens = try strings("output_token").map { (text) throws(JMESPathError) in try JMESPath(text) }
        moreResults = try config["more_results"]?.stringValue.map { (text) throws(JMESPathError) in try JMESPath(text) }
        resultKeys = try strings("result_key").map { (text) throws(JMESPathError) in try JMESPath(text) }
        nonAggregateKeys = try strings("non_aggregate_keys").map { (text) throws(JMESPathError) in try JMESPath(text) }
        limitKey = config["limit_key"]?.stringValue
    }
}

extension AWSEngine {
    /// The operation's paginator, compiled once; nil when botocore defines none for it.
    public func paginator(for handle: OperationHandle) throws(ClientError) -> Paginator? {
        if let cached = paginatorCache.withLock({ $0[handle.canonicalName] }) { return cached }
        let table: JSONObject
        do {
            table = try models.paginators(handle.service.name)
        } catch {
            throw .model(error)
        }
        var paginator: Paginator?
        if let config = table[handle.operation.name]?.objectValue {
            do {
                paginator = try Paginator(config: config)
            } catch {
                throw .serialization("the paginator of \(handle.canonicalName) does not compile: \(error)")
            }
        }
        paginatorCache.withLock { $0[handle.canonicalName] = paginator }
        return paginator
    }
}
