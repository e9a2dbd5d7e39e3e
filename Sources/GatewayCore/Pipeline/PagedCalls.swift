import AWSClient
import AWSJSON
import AWSProtocols

extension Gateway {
    /// `$paginate`: the operation's paginator followed page by page, each page one request
    /// of the sequence; the answer is the merged result, as boto3's `build_full_result()`.
    func paginate(_ requests: RequestSequence) async throws -> JSONObject {
        var pagination = try startPagination(requests.admitted)
        while let request = pagination.nextRequest {
            let page = try await requests.send(request)
            do {
                try pagination.receive(page)
            } catch {
                // AWS gave the same next token twice: following it would never end.
                throw RPCError(code: RPCError.awsUnreachable, message: error.description,
                               data: .object(JSONObject([("attempts", .int(1)), ("cause", .string(error.description))])))
            }
            // The page as the service answered it, to a caller that takes pages as they come.
            requests.call.caller?.send(page: page)
        }
        return pagination.result
    }

    /// The operation's paginator set on the call's params, within `limits.max_pages`.
    private func startPagination(_ admitted: AdmittedCall) throws -> Pagination {
        guard var limits = admitted.options.paginate else { throw Gateway.optionProblem("$paginate", "expected true or an object") }
        guard admitted.options.presign == nil else { throw Gateway.optionProblem("$paginate", "cannot be combined with $presign") }
        guard let paginator = try engine.paginator(for: admitted.handle) else {
            throw Gateway.optionProblem("$paginate", "\(admitted.handle.canonicalName) has no paginator: its answer is one page")
        }
        limits.maxPages = min(limits.maxPages ?? self.limits.maxPages, self.limits.maxPages)
        do {
            return try Pagination(paginator, params: admitted.params, limits: limits)
        } catch {
            throw Gateway.optionProblem("$paginate.startingToken", error.description)
        }
    }

    /// A -32602 naming a `$` option (`path` within the params).
    static func optionProblem(_ path: String, _ problem: String) -> ClientError {
        .invalidParams([ValidationProblem(path: "$." + path, problem: problem)])
    }
}
