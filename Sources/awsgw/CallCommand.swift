import AWSClient
import AWSCredentials
import AWSJSON
import AWSModels
import AWSSigning
import ArgumentParser
import AsyncHTTPClient
import Foundation
import GatewayCore
import GatewayServer
import NIOCore
import NIOSSL

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Calls an AWS operation through the gateway, or builds and signs it in-process with --dry-run.")

    @Argument(help: "<service>.<Operation>, e.g. networkmanager.AssociateConnectPeer") var method: String
    @Argument(help: "Params as JSON, @file, or - for standard input.") var params: String?
    @Option(help: "The gateway to call: unix:PATH, tcp:HOST:PORT or tls:HOST:PORT (default: AWSGW_CONNECT or the default socket).")
    var connect: String?
    @Option(help: "A CA certificate (PEM) to trust for tls: gateways, e.g. certs/server.pem (default: AWSGW_CA).") var ca: String?
    @Option(help: "A client certificate (PEM) for gateways that require one (mTLS; default: AWSGW_CLIENT_CERT).") var cert: String?
    @Option(help: "The client certificate's key (PEM; default: AWSGW_CLIENT_KEY).") var key: String?
    @Option(help: "A bearer token to present to the gateway (default: AWSGW_TOKEN).") var token: String?
    @Option(help: "The AWS region (wins over the environment).") var region: String?
    @Option(help: "The botocore data folder (default: AWSGW_MODELS or ./models).") var models: String?
    @Flag(help: "Follow the operation's paginator through every page and print the merged result ($paginate).") var paginate = false
    @Option(help: "Poll with the service's waiter NAME until it succeeds ($wait), e.g. --wait TableExists.") var wait: String?
    @Flag(help: "Build and sign the request here and print it; send nothing.") var dryRun = false
    @Flag(help: "With --dry-run, print the session token instead of masking it (the request can then be replayed).")
    var showSecrets = false

    func run() async throws {
        let paramsObject: JSONObject
        do {
            paramsObject = try readParams()
        } catch let error as ValidationError {
            printError("awsgw: \(error.message)")
            throw ExitCode(2)
        }
        guard dryRun else {
            try await callGateway(paramsObject)
            return
        }
        if paginate || wait != nil {
            printError("awsgw: --paginate and --wait call the gateway once a page or poll; --dry-run builds one request")
            throw ExitCode(2)
        }
        let environment = ProcessInfo.processInfo.environment
        let engine = InProcess.engine(models: models, environment: environment)
        let method = self.method
        let prepared = Result { () throws(ClientError) -> (OperationHandle, JSONObject) in
            let handle = try engine.operation(method)
            return (handle, try engine.prepareParams(paramsObject, for: handle))
        }
        guard case .success(let (handle, params)) = prepared else {
            if case .failure(let error) = prepared { InProcess.fail(error) }
            return
        }
        var credentials: Credentials?
        do {
            credentials = try await ChainCredentialProvider.sdkDefault(environment: environment).credentials()
        } catch {
            // Still useful: show what would be sent, and say it is not signed.
            printError("awsgw: no credentials (\(error.reason)); the request below is unsigned")
        }
        let chosenRegion = InProcess.region(flag: region, params: paramsObject, environment: environment)
        let now = Date().timeIntervalSince1970
        let built = Result { () throws(ClientError) -> PreparedRequest in
            try engine.buildRequest(handle, params: params, region: chosenRegion, credentials: credentials, at: Timestamp(seconds: Int64(now)))
        }
        switch built {
        case .success(let request): print(DryRunOutput.render(request, showSecrets: showSecrets).serializedString(.compact))
        case .failure(let error): InProcess.fail(error)
        }
    }

    /// Sends the call to a running gateway over HTTP and prints its answer.
    private func callGateway(_ params: JSONObject) async throws {
        let environment = ProcessInfo.processInfo.environment
        let target = connect ?? environment["AWSGW_CONNECT"].flatMap { $0.isEmpty ? nil : $0 } ?? "unix:" + DefaultListener.path(environment: environment)
        guard let address = ListenAddress(target) else {
            printError("awsgw: --connect \(target): expected unix:PATH, tcp:HOST:PORT or tls:HOST:PORT")
            throw ExitCode(2)
        }
        func setting(_ flag: String?, _ variable: String) -> String? { flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 } }
        let connection = GatewayConnection(address: address, ca: setting(ca, "AWSGW_CA"), clientCertificate: setting(cert, "AWSGW_CLIENT_CERT"),
                                           clientKey: setting(key, "AWSGW_CLIENT_KEY"))
        guard (connection.clientCertificate == nil) == (connection.clientKey == nil) else {
            printError("awsgw: --cert and --key go together")
            throw ExitCode(2)
        }
        var callParams = params
        if let region { callParams["$region"] = .string(region) }
        if paginate, callParams["$paginate"] == nil { callParams["$paginate"] = true }
        if let wait, callParams["$wait"] == nil { callParams["$wait"] = .string(wait) }
        if let token = setting(token, "AWSGW_TOKEN") { callParams["$token"] = .string(token) }
        let request = JSON.object(JSONObject([("jsonrpc", "2.0"), ("id", 1), ("method", .string(method)), ("params", .object(callParams))]))

        let client: HTTPClient
        do {
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: try connection.configuration())
        } catch {
            printError("awsgw: \(error)")
            Foundation.exit(1)
        }
        var outgoing = HTTPClientRequest(url: connection.url)
        outgoing.method = .POST
        outgoing.headers.add(name: "Content-Type", value: "application/json")
        // Events (an event-stream answer) come as NDJSON lines before the answer.
        outgoing.headers.add(name: "Accept", value: "application/x-ndjson, application/json")
        outgoing.body = .bytes(ByteBuffer(bytes: request.serialized()))
        let answer: JSON
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, timeout: .seconds(300))
        } catch {
            try? await client.shutdown()
            printError("awsgw: no gateway answered at \(target): \(await connection.diagnose(error))")
            Foundation.exit(1)
        }
        do {
            var lines = AnswerLines()
            for try await piece in response.body {
                for message in try lines.append(piece) { printEvent(message) }
            }
            try? await client.shutdown()
            guard let parsed = try? lines.last(), parsed["error"] != nil || response.status == .ok else {
                printError("awsgw: the gateway at \(target) answered HTTP \(response.status.code): \(lines.text.prefix(200))")
                Foundation.exit(1)
            }
            // Refusals (503 overload, 421, 413) carry a JSON-RPC error too.
            answer = parsed
        } catch {
            try? await client.shutdown()
            printError("awsgw: the gateway at \(target) did not finish its answer (\(await connection.diagnose(error)))")
            Foundation.exit(1)
        }
        if let result = answer["result"] {
            printNow(result.serializedString(.compact))
        } else if let error = answer["error"] {
            printError(error.serializedString(.compact))
            Foundation.exit(1)
        } else {
            fail(RPCError(code: RPCError.internalError, message: "the gateway's answer has neither result nor error"))
        }
    }

    /// An event as it comes: one line of its own (`{"<EventName>":{...}}`); pages are in
    /// the merged result printed at the end.
    private func printEvent(_ message: JSON) {
        guard message["method"] == "$event", let event = message["params"]?["event"] else { return }
        printNow(event.serializedString(.compact))
    }

    private func readParams() throws -> JSONObject { try readParamsArgument(params) }

    private func fail(_ error: RPCError) -> Never { InProcess.fail(error) }
}

/// `{"method":..., "url":..., "headers":{...}, "body":"..."}` (`bodyBase64` when the body is not UTF-8).
enum DryRunOutput {
    /// The session token is masked unless asked for: terminals, scrollback and CI logs
    /// keep what is printed.
    static func render(_ request: PreparedRequest, showSecrets: Bool = false) -> JSON {
        var headers = JSONObject()
        for header in request.headers {
            if !showSecrets && header.name.lowercased() == "x-amz-security-token" {
                headers.append(header.name, .string("(masked: \(header.value.utf8.count) characters; --show-secrets prints it)"))
            } else {
                headers.append(header.name, .string(header.value))
            }
        }
        var object = JSONObject([("method", .string(request.method)), ("url", .string(request.url)), ("headers", .object(headers))])
        if let text = String(validating: request.body, as: UTF8.self) {
            object.append("body", .string(text))
        } else {
            object.append("bodyBase64", .string(Data(request.body).base64EncodedString()))
        }
        return .object(object)
    }
}

/// The gateway's answer read as it arrives: NDJSON lines (events and pages before the
/// answer, each a message with a `method`), or one JSON body (a refusal).
struct AnswerLines {
    private var pending: [UInt8] = []
    private var answerLine: [UInt8]?
    /// At most this much of an answer is held (a merged `$paginate` result can be large).
    static let maxBytes = 256 << 20

    /// The messages before the answer that `piece` completed, at once.
    mutating func append(_ piece: ByteBuffer) throws -> [JSON] {
        pending += piece.readableBytesView
        guard pending.count <= Self.maxBytes else { throw AnswerTooLarge() }
        var messages: [JSON] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if line.isEmpty { continue }
            if let message = try? JSON.parse(line), message["method"] != nil {
                messages.append(message)
            } else {
                answerLine = line
            }
        }
        return messages
    }

    /// The answer: its line, or the whole body when it was not lines.
    func last() throws -> JSON { try JSON.parse(pending.isEmpty ? answerLine ?? [] : pending) }

    /// What came, as text, for a message about an answer that is not JSON-RPC.
    var text: String { String(decoding: pending.isEmpty ? answerLine ?? [] : pending, as: UTF8.self) }

    struct AnswerTooLarge: Error {}
}
