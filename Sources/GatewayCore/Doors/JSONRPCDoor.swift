import AWSJSON

/// What to send back for one request body: a JSON-RPC answer, or nothing when every
/// call was a notification.
public struct GatewayAnswer: Sendable {
    public var body: [UInt8]?
    /// Set when a single call was refused because the gateway is overloaded (-32003):
    /// HTTP answers it with 503 and `Retry-After`.
    public var retryAfterMs: Int?
}

/// The JSON-RPC door: a request body (one call or a batch; HTTP and NDJSON framings hand
/// it over whole) becomes calls for the pipeline, and their outcomes its answer.
public struct JSONRPCDoor: Sendable {
    public let gateway: Gateway

    public init(gateway: Gateway) { self.gateway = gateway }

    /// Answers one request body. Batches run their calls concurrently and answer in
    /// request order.
    public func handle(_ body: [UInt8], context: CallContext) async -> GatewayAnswer {
        switch RPCEnvelope.parse(body, limits: gateway.limits) {
        case .rejected(let error):
            let answer = RPCEnvelope.response(id: .null, error: error)
            gateway.recordUnreadable(error, context: context, bytesIn: body.count, bytesOut: answer.count)
            return GatewayAnswer(body: answer)
        case .single(let entry):
            let (bytes, code) = await answer(entry, context: context, bytesIn: body.count)
            return GatewayAnswer(body: bytes, retryAfterMs: code == RPCError.overloaded ? Gateway.overloadRetryAfterMs : nil)
        case .batch(let entries):
            let responses = await withTaskGroup(of: (Int, [UInt8]?).self) { group in
                for (index, entry) in entries.enumerated() {
                    group.addTask { (index, await self.answer(entry, context: context, bytesIn: nil).bytes) }
                }
                var collected = [[UInt8]?](repeating: nil, count: entries.count)
                for await (index, response) in group { collected[index] = response }
                return collected.compactMap { $0 }
            }
            guard !responses.isEmpty else { return GatewayAnswer(body: nil) }
            // The members are already serialized: join them into one array.
            var out: [UInt8] = [UInt8(ascii: "[")]
            for (i, response) in responses.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: response)
            }
            out.append(UInt8(ascii: "]"))
            return GatewayAnswer(body: out)
        }
    }

    /// Carries out one entry and answers it (unless it is a notification), serialized
    /// once; `code` is its error code, nil on success.
    func answer(_ entry: RPCEntry, context: CallContext, bytesIn: Int?) async -> (bytes: [UInt8]?, code: Int?) {
        switch entry {
        case .invalid(let id, let error):
            let response = id.map { RPCEnvelope.response(id: $0, error: error) }
            gateway.recordUnreadable(error, context: context, bytesIn: bytesIn ?? 0, bytesOut: response?.count ?? 0)
            return (response, error.code)
        case .call(let call):
            var gatewayCall = GatewayCall(method: call.method, params: call.params, isNotification: call.isNotification)
            if let messages = context.notifications, let id = call.id {
                // Events and pages go to the caller as they come, tagged with the call's id.
                gatewayCall.caller = CallerLink(messages: messages, id: id)
            }
            return await gateway.run(gatewayCall, context: context, bytesIn: bytesIn) { outcome in
                let response: [UInt8]?
                let code: Int?
                switch outcome {
                case .success(let result):
                    code = nil
                    response = call.id.map { RPCEnvelope.response(id: $0, result: .object(result)) }
                case .failure(let error):
                    code = error.code
                    response = call.id.map { RPCEnvelope.response(id: $0, error: error) }
                }
                return ((response, code), response?.count ?? 0)
            }
        }
    }
}
