import AWSJMESPath
import AWSJSON

/// One paginated call as boto3's `paginate(...).build_full_result()` makes it: which
/// request comes next, and the pages merged so far. A value the caller drives, so that
/// each page can go its own way (policy, limits, cache, audit) between `nextRequest` and
/// `receive`:
///
///     var pagination = try Pagination(paginator, params: params, maxItems: 100)
///     while let request = pagination.nextRequest { try pagination.receive(try await call(request)) }
///     return pagination.result
public struct Pagination: Sendable {
    public struct Limits: Sendable {
        /// Results (of the first result key) to give at most, over all pages.
        public var maxItems: Int?
        /// Pages to fetch at most (the gateway's own bound; boto3 has none).
        public var maxPages: Int?
        /// Where an earlier paginated call stopped (its `NextToken`).
        public var startingToken: String?

        public init(maxItems: Int? = nil, maxPages: Int? = nil, startingToken: String? = nil) {
            self.maxItems = maxItems
            self.maxPages = maxPages
            self.startingToken = startingToken
        }
    }

    let paginator: Paginator
    let limits: Limits
    /// The params of the next request; nil once the last page is in.
    public private(set) var nextRequest: JSONObject?
    /// Pages received.
    public private(set) var pages = 0
    /// The input tokens that asked for the page being fetched.
    private var nextToken: JSONObject
    private var previousToken: JSONObject?
    /// Results of the first result key given so far.
    private var totalItems = 0
    /// Results of the first page to skip (a starting token's truncation amount).
    private let startingSkip: Int
    private var merged = JSONObject()
    private var nonAggregate = JSONObject()
    /// Result keys whose merged list began as the first page's own list.
    private var firstPageLists: [JMESPath] = []
    private var resumeToken: String?

    public init(_ paginator: Paginator, params: JSONObject, limits: Limits = Limits()) throws(PaginationError) {
        self.paginator = paginator
        self.limits = limits
        var request = params
        var token = JSONObject(paginator.inputTokens.map { ($0, JSON.null) })
        var skip = 0
        if let starting = limits.startingToken {
            (token, skip) = try PaginationToken.decode(starting, inputTokens: paginator.inputTokens)
            Self.inject(token, into: &request)
        }
        nextToken = token
        startingSkip = skip
        nextRequest = request
    }

    /// The merged result: the result keys over every page, the first page's
    /// non-aggregate keys and, when it stopped early, `NextToken`.
    public var result: JSONObject {
        var complete = merged
        JSONPaths.mergeDicts(&complete, nonAggregate)
        // botocore extends the first page's lists in place, so a non-aggregate key that
        // holds one (ECR's `imageScanFindings` holds both of its result keys' lists) shows
        // it merged, not as the first page had it.
        for key in firstPageLists {
            if case .array = ((try? key.search(.object(nonAggregate))) ?? .null).resolved {
                JSONPaths.set(&complete, key.description, ((try? key.search(.object(merged))) ?? .null).resolved)
            }
        }
        if let resumeToken { complete["NextToken"] = .string(resumeToken) }
        return complete
    }

    /// Takes the answer to `nextRequest` and returns the page as boto3 yields it (cut to
    /// `maxItems`, or to where a starting token resumes); sets the next request, if any.
    @discardableResult
    public mutating func receive(_ answer: JSONObject) throws(PaginationError) -> JSONObject {
        guard var request = nextRequest, let primary = paginator.resultKeys.first else { return answer }
        var page = answer
        var skipped = 0
        if pages == 0 {
            if limits.startingToken != nil {
                skipped = startingSkip
                skipFirstResults(of: &page, primary: primary)
            }
            recordNonAggregate(page)
        }
        pages += 1
        let count = Self.length((try? primary.search(.object(page))) ?? .null)
        if let maxItems = limits.maxItems, totalItems + count > maxItems {
            truncate(&page, primary: primary, keep: count - (totalItems + count - maxItems), skipped: skipped)
            merge(page)
            nextRequest = nil
            return page
        }
        merge(page)
        totalItems += count
        let token = next(after: page)
        if token.members.allSatisfy({ $0.value == .null }) {
            nextRequest = nil
        } else if totalItems == limits.maxItems || pages == limits.maxPages {
            resumeToken = PaginationToken.encode(token)
            nextRequest = nil
        } else if let previousToken, previousToken == token {
            nextRequest = nil
            throw PaginationError.repeatedToken(PythonJSON.dumps(.object(token)))
        } else {
            Self.inject(token, into: &request)
            previousToken = token
            nextToken = token
            nextRequest = request
        }
        return page
    }

    /// The next request's input tokens from a page: none when `more_results` says it was
    /// the last; an empty string counts as no token.
    private func next(after page: JSONObject) -> JSONObject {
        if let more = paginator.moreResults, !Self.pythonTruthy((try? more.search(.object(page))) ?? .null) { return JSONObject() }
        var token = JSONObject()
        for (output, input) in zip(paginator.outputTokens, paginator.inputTokens) {
            let value = ((try? output.search(.object(page))) ?? .null).resolved
            token.append(input, Self.pythonTruthy(value) ? value : .null)
        }
        return token
    }

    /// A token's values set in the request; a null one (or the text `None`) removed.
    private static func inject(_ token: JSONObject, into request: inout JSONObject) {
        for member in token {
            if member.value != .null, member.value != .string("None") {
                request[member.key] = member.value
            } else {
                request[member.key] = nil
            }
        }
    }

    /// Resuming mid-page: the first result key loses the results already given, the
    /// other result keys are emptied (numbers are kept, as botocore keeps DynamoDB's Count).
    private func skipFirstResults(of page: inout JSONObject, primary: JMESPath) {
        let all = ((try? primary.search(.object(page))) ?? .null).resolved
        JSONPaths.set(&page, primary.description, Self.drop(startingSkip, from: all))
        for key in paginator.resultKeys.dropFirst() {
            let sample = ((try? key.search(.object(page))) ?? .null).resolved
            let empty: JSON = switch sample {
            case .array: .array([])
            case .string: .string("")
            case .int, .double, .bool: sample
            default: .null
            }
            JSONPaths.set(&page, key.description, empty)
        }
    }

    /// `maxItems` reached inside a page: keep its first `keep` results and stop with a
    /// token that fetches this page again and skips what was given.
    private mutating func truncate(_ page: inout JSONObject, primary: JMESPath, keep: Int, skipped: Int) {
        let original = ((try? primary.search(.object(page))) ?? .null).resolved
        JSONPaths.set(&page, primary.description, Self.take(keep, from: original))
        var token = nextToken
        token[PaginationToken.truncateKey] = .int(Int64(keep + skipped))
        resumeToken = PaginationToken.encode(token)
    }

    private mutating func recordNonAggregate(_ page: JSONObject) {
        var values = JSONObject()
        for key in paginator.nonAggregateKeys {
            JSONPaths.set(&values, key.description, ((try? key.search(.object(page))) ?? .null).resolved)
        }
        nonAggregate = values
    }

    /// Adds a page's result keys to the merged result: lists extended, numbers added,
    /// strings joined, anything else kept from the first page that had it.
    private mutating func merge(_ page: JSONObject) {
        for key in paginator.resultKeys {
            let value = ((try? key.search(.object(page))) ?? .null).resolved
            if case .null = value { continue }
            let existing = ((try? key.search(.object(merged))) ?? .null).resolved
            switch (existing, value) {
            case (.null, _):
                JSONPaths.set(&merged, key.description, value)
                if pages == 1, case .array = value { firstPageLists.append(key) }
            case let (.array(a), .array(b)): JSONPaths.set(&merged, key.description, .array(a + b))
            case let (.int(a), .int(b)): JSONPaths.set(&merged, key.description, .int(a &+ b))
            case let (.string(a), .string(b)): JSONPaths.set(&merged, key.description, .string(a + b))
            case (.int, .double), (.double, .int), (.double, .double):
                JSONPaths.set(&merged, key.description, .double((existing.doubleValue ?? 0) + (value.doubleValue ?? 0)))
            default: continue
            }
        }
    }

    /// Python's truth: false for null, false, 0, and an empty string, list or object.
    static func pythonTruthy(_ value: JSON) -> Bool {
        switch value.resolved {
        case .null: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .double(let d): d != 0
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        case .fragment: true
        }
    }

    /// Python's `len`: of a list, a string (in characters) or an object; 0 for anything else.
    static func length(_ value: JSON) -> Int {
        switch value.resolved {
        case .array(let a): a.count
        case .string(let s): s.unicodeScalars.count
        case .object(let o): o.count
        default: 0
        }
    }

    /// `value[n:]` of a list or a string; null for anything else.
    private static func drop(_ n: Int, from value: JSON) -> JSON {
        switch value {
        case .array(let a): .array(Array(a[min(max(n, 0), a.count)...]))
        case .string(let s): .string(String(String.UnicodeScalarView(s.unicodeScalars.dropFirst(max(n, 0)))))
        default: .null
        }
    }

    /// `value[:n]` of a list or a string (Python's slice: a negative `n` counts from the end).
    private static func take(_ n: Int, from value: JSON) -> JSON {
        func end(_ count: Int) -> Int { n < 0 ? max(count + n, 0) : min(n, count) }
        switch value {
        case .array(let a): return .array(Array(a[..<end(a.count)]))
        case .string(let s): return .string(String(String.UnicodeScalarView(s.unicodeScalars.prefix(end(s.unicodeScalars.count)))))
        default: return .array([])
        }
    }
}
