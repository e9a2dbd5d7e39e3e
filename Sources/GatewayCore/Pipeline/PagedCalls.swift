import AWSClient
import AWSJSON
import AWSProtocols
import Foundation

extension Gateway {
    /// A `$paginate` call: admitted once (identify, resolve, authorize), then each page is
    /// one request through the rest of the pipeline (rate limit, cache, forward) with an
    /// audit record of its own; the answer is the merged result, as boto3's
    /// `build_full_result()` gives it. A refusal before the first page is recorded once.
    func runPaged<Answer>(_ call: GatewayCall, context: CallContext, bytesIn: Int?,
                          answer: (Result<JSONObject, RPCError>) -> (Answer, bytesOut: Int)) async -> Answer {
        let started = Date()
        let firstTrace = CallTrace()
        var pagesRecorded = 0
        let outcome = await inFlightLimited(call, trace: firstTrace) {
            let admitted = try admit(call, context: context, trace: firstTrace)
            var pagination = try startPagination(admitted)
            var trace = firstTrace
            var pageStarted = started
            while let request = pagination.nextRequest {
                let pageCall = GatewayCall(method: call.method, params: request, isNotification: call.isNotification)
                do {
                    let page = try await carryOut(admitted, params: request, trace: trace)
                    try pagination.receive(page)
                    recordPage(trace, pageCall, context: context, code: nil, bytesOut: JSON.object(page).serialized().count, started: pageStarted)
                } catch {
                    let rpc = Gateway.rpcError(Gateway.pagingError(error), logger: logger, method: call.method)
                    recordPage(trace, pageCall, context: context, code: rpc.code, bytesOut: 0, started: pageStarted)
                    pagesRecorded += 1
                    throw rpc
                }
                pagesRecorded += 1
                trace = CallTrace(continuing: firstTrace)
                pageStarted = Date()
            }
            return pagination.result
        }
        let (written, bytesOut) = answer(outcome)
        if pagesRecorded == 0, audit != nil {
            let code: Int? = if case .failure(let error) = outcome { error.code } else { nil }
            let inSize = bytesIn ?? (JSON.object(call.params).serialized().count + call.method.utf8.count + 40)
            record(firstTrace, call: call, context: context, code: code, bytesIn: inSize, bytesOut: bytesOut, started: started)
        }
        return written
    }

    /// The operation's paginator set on the call's params, within `limits.max_pages`.
    private func startPagination(_ admitted: AdmittedCall) throws -> Pagination {
        guard var limits = admitted.options.paginate else { throw Gateway.pagingProblem("$paginate", "expected true or an object") }
        guard admitted.options.presign == nil else { throw Gateway.pagingProblem("$paginate", "cannot be combined with $presign") }
        guard let paginator = try engine.paginator(for: admitted.handle) else {
            throw Gateway.pagingProblem("$paginate", "\(admitted.handle.canonicalName) has no paginator: its answer is one page")
        }
        limits.maxPages = min(limits.maxPages ?? self.limits.maxPages, self.limits.maxPages)
        do {
            return try Pagination(paginator, params: admitted.params, limits: limits)
        } catch {
            throw Gateway.pagingProblem("$paginate.startingToken", error.description)
        }
    }

    private func recordPage(_ trace: CallTrace, _ call: GatewayCall, context: CallContext, code: Int?, bytesOut: Int, started: Date) {
        guard audit != nil else { return }
        let bytesIn = JSON.object(call.params).serialized().count + call.method.utf8.count + 40
        record(trace, call: call, context: context, code: code, bytesIn: bytesIn, bytesOut: bytesOut, started: started)
    }

    /// A -32602 naming the `$paginate` option (`path` within the params).
    static func pagingProblem(_ path: String, _ problem: String) -> ClientError {
        .invalidParams([ValidationProblem(path: "$." + path, problem: problem)])
    }

    /// AWS giving the same next token twice: the paging cannot go on.
    static func pagingError(_ error: Error) -> Error {
        guard let paging = error as? PaginationError else { return error }
        return RPCError(code: RPCError.awsUnreachable, message: paging.description,
                        data: .object(JSONObject([("attempts", .int(1)), ("cause", .string(paging.description))])))
    }
}

extension CallTrace {
    /// A trace for the next page of a call: who called and what was decided stay.
    convenience init(continuing first: CallTrace) {
        self.init()
        handle = first.handle
        identity = first.identity
        team = first.team
        allowed = first.allowed
    }
}
