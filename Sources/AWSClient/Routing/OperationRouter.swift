import AWSModels
import AWSPrimitives

/// A request as it arrived at the AWS door, for its operation to be found.
public struct IncomingRequest: Sendable {
    public var method: String
    /// The path as sent (still percent-encoded), without the query.
    public var path: String
    /// The query as sent, without `?`.
    public var query: String
    public var headers: [(name: String, value: String)]
    /// The body when it is whole and small (query and ec2 calls may carry `Action` there).
    public var body: [UInt8]?
    /// S3's bucket when the Host named it (`bucket.localhost:4566`): the path then starts
    /// after it.
    public var bucketFromHost: String?

    public init(method: String, path: String, query: String, headers: [(name: String, value: String)], body: [UInt8]? = nil,
                bucketFromHost: String? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.bucketFromHost = bucketFromHost
    }

    func header(_ name: String) -> String? { headers.first { $0.name.equalsIgnoringASCIICase(name) }?.value }
}

/// Why no operation was found.
public struct RouteFailure: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Finds which operation of a service a request is, as AWS's front ends do: json's
/// `X-Amz-Target`, query and ec2's `Action`, rpc-v2-cbor's path, and for the REST
/// protocols the method and the URI template that fits best (literal segments and query
/// keys before labels; S3's `?acl`, `?uploads` and the like tell operations apart).
public struct OperationRouter: Sendable {
    public let service: ServiceModel
    private let templates: [RouteTemplate]

    public init(service: ServiceModel) {
        self.service = service
        templates = ["rest-json", "rest-xml"].contains(service.metadata.resolvedProtocol)
            ? service.operationNames.compactMap { name in service.operation(named: name).map { RouteTemplate($0) } }
            : []
    }

    /// How sure a route by header, `Action` or path is: above any REST template's score.
    static let exactScore = 1_000_000

    /// The operation's name.
    public func route(_ request: IncomingRequest) -> Result<String, RouteFailure> {
        scoredRoute(request).map(\.name)
    }

    /// The operation's name, and how well the request fits it (to choose among services
    /// that share a signing name).
    func scoredRoute(_ request: IncomingRequest) -> Result<(name: String, score: Int), RouteFailure> {
        switch exactRoute(request) {
        case .some(.success(let name)): return .success((name, Self.exactScore))
        case .some(.failure(let failure)): return .failure(failure)
        case .none: return restRoute(request)
        }
    }

    /// json, rpc-v2-cbor, query and ec2: the operation the request names; nil for REST.
    private func exactRoute(_ request: IncomingRequest) -> Result<String, RouteFailure>? {
        switch service.metadata.resolvedProtocol {
        case "json":
            guard let target = request.header("x-amz-target") else { return .failure(RouteFailure("no X-Amz-Target header")) }
            // The prefix may hold dots itself (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101).
            guard let dot = target.lastIndex(of: "."), String(target[..<dot]) == (service.metadata.targetPrefix ?? ""),
                  service.operation(named: String(target[target.index(after: dot)...])) != nil else {
                return .failure(RouteFailure("X-Amz-Target \(target) names no operation of \(service.metadata.serviceId)"))
            }
            return .success(String(target[target.index(after: dot)...]))
        case "smithy-rpc-v2-cbor":
            let segments = request.path.split(separator: "/").map(String.init)
            guard segments.count >= 4, segments[segments.count - 4] == "service", segments[segments.count - 2] == "operation",
                  service.operation(named: segments[segments.count - 1]) != nil else {
                return .failure(RouteFailure("\(request.path) is not /service/NAME/operation/OPERATION of \(service.metadata.serviceId)"))
            }
            return .success(segments[segments.count - 1])
        case "query", "ec2":
            // Action and Version in the query, or in a form body.
            var parameters = PercentEncoding.parameters(request.query)
            if parameters["Action"] == nil, let body = request.body { parameters = PercentEncoding.parameters(String(decoding: body, as: UTF8.self)) }
            let action = parameters["Action"]
            guard let action, service.operation(named: action) != nil else {
                return .failure(RouteFailure(action.map { "Action \($0) is no operation of \(service.metadata.serviceId)" } ?? "no Action parameter"))
            }
            // Services that sign alike (elb and elbv2) differ by their API version.
            if let version = parameters["Version"], version != service.metadata.apiVersion {
                return .failure(RouteFailure("Version \(version) is not \(service.metadata.serviceId)'s (\(service.metadata.apiVersion))"))
            }
            return .success(action)
        default:
            return nil
        }
    }

    /// The template that fits best; on a tie, the one the model lists first.
    private func restRoute(_ request: IncomingRequest) -> Result<(name: String, score: Int), RouteFailure> {
        // Segments decoded one by one (an encoded slash stays inside its segment); a
        // trailing slash leaves an empty last segment, which an empty label may be.
        var segments = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { PercentEncoding.decode(String($0)) }
        if let bucket = request.bucketFromHost { segments.insert(bucket, at: 0) }
        let query = PercentEncoding.parameters(request.query)
        var best: (name: String, score: Int)?
        let headerNames = Set(request.headers.map { $0.name.lowercased() })
        // botocore sends CloudSearch Domain's Search (GET in the model) as a POST.
        let getAsPost = request.method == "POST" && service.metadata.endpointPrefix == "cloudsearchdomain"
        for template in templates where template.method == request.method || (getAsPost && template.method == "GET") {
            guard let score = template.score(segments, query: query, headerNames: headerNames) else { continue }
            if best == nil || score > best!.score { best = (template.name, score) }
        }
        guard let best else { return .failure(RouteFailure("\(request.method) \(request.path) matches no operation of \(service.metadata.serviceId)")) }
        return .success(best)
    }
}

/// One REST operation's `requestUri`: its path segments (literal, `{Label}`, `{Greedy+}`)
/// and the query keys it always sends (`?uploads`, `?list-type=2`).
struct RouteTemplate: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String), label, greedy
    }

    let name: String
    let method: String
    let segments: [Segment]
    /// Query keys written in the template, with their value when it has one.
    let queryLiterals: [(key: String, value: String?)]
    /// Query keys and header names (lower-case) of required input members: operations that
    /// share a template (S3's PutObject, CopyObject, UploadPart) differ by them.
    let requiredQuery: [String]
    let requiredHeaders: [String]

    init(_ operation: Operation) {
        name = operation.name
        method = operation.httpMethod
        let uri = operation.requestURI
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let segments = parts[0].split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { text -> Segment in
            if text.hasPrefix("{") && text.hasSuffix("+}") { return .greedy }
            if text.hasPrefix("{") && text.hasSuffix("}") { return .label }
            return .literal(String(text))
        }
        // `/` is one empty literal segment, and `/backup-vaults/` ends with one: kept, so
        // that they match a trailing slash exactly.
        self.segments = segments
        queryLiterals = parts.count > 1
            ? parts[1].split(separator: "&").map { pair in
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(kv[0]), kv.count > 1 ? String(kv[1]) : nil)
            }
            : []
        let input = operation.input
        let required = Set(input?.required ?? [])
        let members = (input?.members ?? []).filter { required.contains($0.name) }
        requiredQuery = members.filter { $0.location == .querystring }.map(\.wireName)
        requiredHeaders = members.filter { $0.location == .header }.map { $0.wireName.lowercased() }
    }

    /// How well the request fits (nil: not at all). The path decides first: literal
    /// segments weigh most, then labels (an empty one less), a greedy label least. Then
    /// what the template and the input's required members say goes in the query and
    /// headers: each one present adds, each one missing takes away (an SDK leaves out an
    /// empty list, and some template literals, so a missing one is not a mismatch).
    func score(_ path: [String], query: [String: String], headerNames: Set<String>) -> Int? {
        guard var score = pathScore(path) else { return nil }
        for literal in queryLiterals {
            let present = query[literal.key] != nil && (literal.value == nil || query[literal.key] == literal.value)
            score += present ? 100 : -60
        }
        for key in requiredQuery { score += query[key] != nil ? 20 : -50 }
        for name in requiredHeaders { score += headerNames.contains(name) ? 20 : -50 }
        return score
    }

    private func pathScore(_ path: [String]) -> Int? {
        var score = 0
        var index = 0
        for (position, segment) in segments.enumerated() {
            switch segment {
            case .literal(let text):
                // A template's trailing slash also fits a path without it.
                if text.isEmpty && position == segments.count - 1 && index == path.count { continue }
                guard index < path.count, path[index] == text else { return nil }
                score += 1000
                index += 1
            case .label:
                guard index < path.count else { return nil }
                score += path[index].isEmpty ? -5 : 10
                index += 1
            case .greedy:
                // As many segments as leave one for each segment after it (S3's keys and
                // S3 Control's `{Mrap+}` hold slashes), at least one, not all empty.
                let taken = path.count - index - (segments.count - position - 1)
                guard taken >= 1, path[index..<(index + taken)].contains(where: { !$0.isEmpty }) else { return nil }
                score += 1
                index += taken
            }
        }
        if index == path.count { return score }
        // A trailing slash left over: this template, but below one that uses it.
        return index == path.count - 1 && path[index].isEmpty ? score - 10 : nil
    }
}
