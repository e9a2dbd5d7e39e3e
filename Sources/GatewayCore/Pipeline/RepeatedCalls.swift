import AWSClient
import AWSJSON
import Foundation

extension Gateway {
    /// A call made of several requests to AWS, one after another (a paged call's pages, a
    /// wait's polls): admitted once (identify, resolve, authorize); `body` then sends each
    /// request through the rest of the pipeline (rate limit, cache, forward), each with
    /// an audit record of its own. A refusal before the first request is recorded once.
    func runRepeated<Answer>(_ call: GatewayCall, context: CallContext, bytesIn: Int?,
                             answer: (Result<JSONObject, RPCError>) -> (Answer, bytesOut: Int),
                             _ body: (RequestSequence) async throws -> JSONObject) async -> Answer {
        let started = Date()
        let firstTrace = CallTrace()
        var sequence: RequestSequence?
        let outcome = await inFlightLimited(call, trace: firstTrace) {
            let admitted = try admit(call, context: context, trace: firstTrace)
            let requests = RequestSequence(gateway: self, call: call, context: context, admitted: admitted, firstTrace: firstTrace)
            sequence = requests
            return try await body(requests)
        }
        let (written, bytesOut) = answer(outcome)
        let code: Int? = if case .failure(let error) = outcome { error.code } else { nil }
        if let sequence, sequence.sent > 0 {
            sequence.finish(code: code)
        } else if audit != nil {
            let inSize = bytesIn ?? (JSON.object(call.params).serialized().count + call.method.utf8.count + 40)
            record(firstTrace, call: call, context: context, code: code, bytesIn: inSize, bytesOut: bytesOut, started: started)
        }
        return written
    }
}

/// The requests of one call, sent one after another through the pipeline after the call
/// was admitted; each leaves an audit record with its own params and outcome, the last
/// one the call's outcome when the call failed after it (a waiter's failure state).
final class RequestSequence: @unchecked Sendable {
    let gateway: Gateway
    let call: GatewayCall
    let context: CallContext
    let admitted: AdmittedCall
    private let firstTrace: CallTrace
    /// Requests sent so far.
    private(set) var sent = 0
    /// The trace of the request sent last (its HTTP status, for a waiter).
    private(set) var lastTrace: CallTrace
    /// The last request's record, written when the next request goes or the call ends.
    private var pending: (trace: CallTrace, params: JSONObject, code: Int?, bytesOut: Int, started: Date)?

    init(gateway: Gateway, call: GatewayCall, context: CallContext, admitted: AdmittedCall, firstTrace: CallTrace) {
        self.gateway = gateway
        self.call = call
        self.context = context
        self.admitted = admitted
        self.firstTrace = firstTrace
        lastTrace = firstTrace
    }

    /// One request with `params` (and `options`, when they differ from the call's).
    func send(_ params: JSONObject, options: CallOptions? = nil) async throws -> JSONObject {
        flush(code: nil)
        let trace = sent == 0 ? firstTrace : CallTrace(continuing: firstTrace)
        lastTrace = trace
        sent += 1
        let started = Date()
        var admitted = self.admitted
        if let options { admitted.options = options }
        do {
            let result = try await gateway.carryOut(admitted, params: params, trace: trace)
            pending = (trace, params, nil, gateway.audit == nil ? 0 : JSON.object(result).serialized().count, started)
            return result
        } catch {
            let rpc = Gateway.rpcError(error, logger: gateway.logger, method: call.method)
            pending = (trace, params, rpc.code, 0, started)
            throw rpc
        }
    }

    /// The call is answered: the last record goes, with the call's error if it failed.
    func finish(code: Int?) { flush(code: code) }

    private func flush(code: Int?) {
        guard let record = pending else { return }
        pending = nil
        guard gateway.audit != nil else { return }
        let request = GatewayCall(method: call.method, params: record.params, isNotification: call.isNotification)
        let bytesIn = JSON.object(record.params).serialized().count + call.method.utf8.count + 40
        gateway.record(record.trace, call: request, context: context, code: code ?? record.code, bytesIn: bytesIn,
                       bytesOut: record.bytesOut, started: record.started)
    }
}

extension CallTrace {
    /// A trace for the next request of a call: who called and what was decided stay.
    convenience init(continuing first: CallTrace) {
        self.init()
        handle = first.handle
        identity = first.identity
        team = first.team
        allowed = first.allowed
    }
}
