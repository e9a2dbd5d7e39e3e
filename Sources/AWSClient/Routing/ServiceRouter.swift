import AWSModels
import Synchronization

/// Finds the service and operation of a request to the AWS door from its credential
/// scope's signing name (`dynamodb`, `s3`, `bedrock`): the services that sign with that
/// name, and among them the operation that fits the request best (Bedrock's runtime, agent
/// and control services all sign as `bedrock`).
public final class ServiceRouter: Sendable {
    let models: ModelStore
    private struct State {
        var bySigningName: [String: [String]]?
        var routers: [String: OperationRouter] = [:]
    }
    private let state = Mutex(State())

    public init(models: ModelStore) { self.models = models }

    /// Signing names that endpoint rules give instead of the model's.
    static let ruleSigningNames = ["s3express": ["s3", "s3control"], "s3-outposts": ["s3", "s3control"], "s3-object-lambda": ["s3"]]

    /// The services whose models sign with `signingName` (the index is read once, from
    /// each model's `metadata` alone), the one named like it first.
    public func services(signingName: String) -> [String] {
        // Built under the lock: callers that come first together wait for one build.
        state.withLock { state in
            if state.bySigningName == nil { state.bySigningName = buildIndex() }
            return state.bySigningName?[signingName] ?? []
        }
    }

    private func buildIndex() -> [String: [String]] {
        var index: [String: [String]] = [:]
        for name in models.serviceNames {
            guard let metadata = models.metadata(name) else { continue }
            index[metadata.signingName, default: []].append(name)
        }
        for (alias, names) in Self.ruleSigningNames { index[alias, default: []] += names.flatMap { index[$0] ?? [] } }
        for (name, services) in index {
            index[name] = services.filter { $0 == name } + services.filter { $0 != name }.sorted()
        }
        return index
    }

    /// The service and operation the request is. Where services fit equally (rds, docdb
    /// and neptune share one API), the one named like the signing name, else the first.
    public func route(_ request: IncomingRequest, signingName: String) -> Result<(service: String, operation: String), RouteFailure> {
        let candidates = services(signingName: signingName)
        guard !candidates.isEmpty else { return .failure(RouteFailure("no service signs as \(signingName)")) }
        var best: (service: String, operation: String, score: Int)?
        var firstFailure: RouteFailure?
        for name in candidates {
            guard let router = router(name) else { continue }
            switch router.scoredRoute(request) {
            case .success(let found):
                if best == nil || found.score > best!.score { best = (name, found.name, found.score) }
            case .failure(let failure):
                if firstFailure == nil { firstFailure = failure }
            }
        }
        guard let best else { return .failure(firstFailure ?? RouteFailure("no operation of \(candidates.joined(separator: ", ")) fits")) }
        return .success((best.service, best.operation))
    }

    private func router(_ service: String) -> OperationRouter? {
        if let known = state.withLock({ $0.routers[service] }) { return known }
        guard let model = try? models.service(service) else { return nil }
        let router = OperationRouter(service: model)
        state.withLock { $0.routers[service] = router }
        return router
    }
}
