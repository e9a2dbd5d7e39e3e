import AWSClient
import AWSJSON
import Foundation

extension Gateway {
    /// `$wait`: the service's waiter polls the called operation, each poll one request of
    /// the sequence, sleeping its delay between polls (no thread held) within
    /// `$timeoutMs`. The answer is the last poll's result once a success acceptor
    /// matches (`{}` when it matched an error), or -32013.
    func waitOut(_ requests: RequestSequence) async throws -> JSONObject {
        let admitted = requests.admitted
        let waiter = try waiterFor(admitted)
        guard let request = admitted.options.wait else { throw Gateway.optionProblem("$wait", "expected a waiter's name") }
        var waiting = Waiting(waiter, delaySeconds: request.delaySeconds, maxAttempts: request.maxAttempts)
        let deadline = admitted.options.timeoutMs.map { Date().addingTimeInterval(Double($0) / 1000) }
        // A poll must see AWS's state now: it is never answered from the cache.
        var pollOptions = admitted.options
        if pollOptions.cache == .use { pollOptions.cache = .refresh }
        while true {
            if let deadline { pollOptions.timeoutMs = max(1, Int(deadline.timeIntervalSinceNow * 1000)) }
            let answer: WaiterAnswer
            var last: JSONObject = JSONObject()
            do {
                last = try await requests.send(admitted.params, options: pollOptions)
                answer = .result(last, status: requests.lastTrace.httpStatus ?? 200)
            } catch let error as RPCError where error.code == RPCError.awsError {
                answer = .error(code: error.data?["type"]?.stringValue ?? "", message: error.data?["message"]?.stringValue ?? error.message,
                                status: Int(error.data?["httpStatus"]?.intValue ?? 400))
            }
            let outcome: Waiting.Outcome
            do {
                outcome = try waiting.observe(answer)
            } catch {
                throw Self.waiterEnded(waiting, state: "failure", reason: "an acceptor's expression failed on the answer: \(error)", answer: answer)
            }
            switch outcome {
            case .success:
                if case .error = answer { return JSONObject() }
                return last
            case .failure(let reason): throw Self.waiterEnded(waiting, state: "failure", reason: reason, answer: answer)
            case .timeout(let reason): throw Self.waiterEnded(waiting, state: "timeout", reason: reason, answer: answer)
            case .retry:
                if let deadline, Date().addingTimeInterval(Double(waiting.delaySeconds)) >= deadline {
                    throw Self.waiterEnded(waiting, state: "timeout", reason: "$timeoutMs would pass before the next poll", answer: answer)
                }
                await sleep(Double(waiting.delaySeconds))
            }
        }
    }

    /// The service's waiter the call names, which must poll the called operation: the
    /// policy decided on that operation, and only that operation is polled.
    private func waiterFor(_ admitted: AdmittedCall) throws -> Waiter {
        guard admitted.options.paginate == nil, admitted.options.presign == nil else {
            throw Gateway.optionProblem("$wait", "cannot be combined with $paginate or $presign")
        }
        let service = admitted.handle.service.name
        guard let name = admitted.options.wait?.name, let waiter = try engine.waiter(name, service: service) else {
            let known = engine.waiterNames(service: service)
            throw Gateway.optionProblem("$wait", "\(service) has no waiter \(admitted.options.wait?.name ?? "")"
                                        + (known.isEmpty ? " (it has none)" : "; its waiters: " + known.joined(separator: ", ")))
        }
        guard waiter.operation == admitted.handle.operation.name else {
            throw Gateway.optionProblem("$wait", "\(name) polls \(service).\(waiter.operation): call that method with it")
        }
        return waiter
    }

    /// -32013: the waiter ended in its failure state, or ran out of attempts or time.
    static func waiterEnded(_ waiting: Waiting, state: String, reason: String, answer: WaiterAnswer) -> RPCError {
        var data = JSONObject([("waiter", .string(waiting.waiter.name)), ("state", .string(state)),
                               ("attempts", .int(Int64(waiting.attempts)))])
        if case .error(let code, let message, _) = answer {
            data.append("lastError", .object(JSONObject([("type", .string(code)), ("message", .string(message))])))
        }
        return RPCError(code: RPCError.waiterEnded, message: "waiter \(waiting.waiter.name): \(reason)", data: .object(data))
    }
}
