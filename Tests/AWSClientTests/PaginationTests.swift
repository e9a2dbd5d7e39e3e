import AWSClient
import AWSJSON
import AWSModels
import Foundation
import Testing
import TestSupport

/// botocore 1.44.5's `paginate()` and `build_full_result()` over generated pages, for
/// every paginator of the models (`scripts/pagination_reference.py`).
let paginationReference = PythonReference.run("pagination_reference.py")
let paginationReferenceAvailable: Bool = (try? paginationReference.get()) != nil

@Suite("Pagination against botocore's paginate.py",
       .enabled(if: paginationReferenceAvailable || PythonReference.required,
                "python3 cannot run scripts/pagination_reference.py (needs jmespath and scripts/setup.sh's botocore): the comparison with botocore is skipped"))
struct PaginationReferenceTests {
    @Test("every paginator, every page, all pages / MaxItems cut mid-page / resumed from that cut: the same requests and the same merged result")
    func everyPaginator() throws {
        let reference = try paginationReference.get()
        #expect(reference["botocore"]?.stringValue == "1.44.5")
        let store = try ModelStore(root: Fixtures.modelsDir)
        let engine = AWSEngine(models: store, environment: [:])
        let paginators = reference["paginators"]?.arrayValue ?? []
        #expect(paginators.count > 3_400)
        var scenarios = 0, stoppedEarly = 0, resumed = 0
        for entry in paginators {
            let method = "\(entry["service"]?.stringValue ?? "").\(entry["operation"]?.stringValue ?? "")"
            let handle: OperationHandle
            do { handle = try engine.operation(method) } catch {
                // A service awsgw does not serve (its protocol) has no handle; its paginator is never used.
                continue
            }
            guard let paginator = try engine.paginator(for: handle) else {
                Issue.record("\(method): no paginator")
                continue
            }
            for (scenarioIndex, scenario) in (entry["scenarios"]?.arrayValue ?? []).enumerated() {
                let error = scenario["error"]?.stringValue
                // botocore crashed (TypeError) where a page's types do not merge: nothing to compare.
                if error == "TypeError" { continue }
                scenarios += 1
                if scenario["startingToken"] != nil { resumed += 1 }
                let limits = Pagination.Limits(maxItems: scenario["maxItems"]?.intValue.map { Int($0) },
                                               startingToken: scenario["startingToken"]?.stringValue)
                var pagination = try Pagination(paginator, params: entry["params"]?.objectValue ?? JSONObject(), limits: limits)
                let pages = scenario["pages"]?.arrayValue ?? []
                let requests = scenario["requests"]?.arrayValue ?? []
                var sent = 0
                var failure: PaginationError?
                while let request = pagination.nextRequest, sent < pages.count {
                    let expected = requests.indices.contains(sent) ? requests[sent].objectValue : nil
                    let same = request.keys == expected?.keys && .object(request) == expected.map(JSON.object)
                    #expect(same, "\(method), scenario \(scenarioIndex): request \(sent) differs from botocore's")
                    do {
                        try pagination.receive(pages[sent].objectValue ?? JSONObject())
                    } catch {
                        failure = error
                        break
                    }
                    sent += 1
                }
                #expect(sent + (failure == nil ? 0 : 1) == requests.count, "\(method): \(requests.count) requests, awsgw made \(sent)")
                if error == "PaginationError" {
                    #expect(failure != nil, "\(method): botocore stopped on a repeated token")
                    continue
                }
                let result = pagination.result
                if result["NextToken"] != nil { stoppedEarly += 1 }
                let same = JSON.object(result) == scenario["result"]
                #expect(same, "\(method), scenario \(scenarioIndex): the merged result differs from botocore's")
            }
        }
        #expect(scenarios > 9_000)
        #expect(stoppedEarly > 2_000)
        #expect(resumed > 2_000)
    }
}

@Suite("Pagination")
struct PaginationTests {
    static let listing = try! Paginator(config: JSONObject([
        ("input_token", "Marker"), ("output_token", "NextMarker || Contents[-1].Key"), ("more_results", "IsTruncated"),
        ("limit_key", "MaxKeys"), ("result_key", .array(["Contents", "CommonPrefixes"])),
    ]))

    static func page(_ keys: [String], truncated: Bool) -> JSONObject {
        JSONObject([("IsTruncated", .bool(truncated)), ("Contents", .array(keys.map { .object(JSONObject([("Key", .string($0))])) }))])
    }

    @Test("maxPages stops after N pages with a token that resumes at the next page")
    func maxPages() throws {
        var pagination = try Pagination(Self.listing, params: JSONObject([("Bucket", "b")]), limits: .init(maxPages: 2))
        try pagination.receive(Self.page(["a", "b"], truncated: true))
        #expect(pagination.nextRequest == JSONObject([("Bucket", "b"), ("Marker", "b")]))
        try pagination.receive(Self.page(["c"], truncated: true))
        #expect(pagination.nextRequest == nil)
        let token = try #require(pagination.result["NextToken"]?.stringValue)
        #expect(String(decoding: Data(base64Encoded: token)!, as: UTF8.self) == #"{"Marker": "c"}"#)
        #expect(pagination.result["Contents"]?.arrayValue?.count == 3)

        let resumed = try Pagination(Self.listing, params: JSONObject([("Bucket", "b")]), limits: .init(startingToken: token))
        #expect(resumed.nextRequest == JSONObject([("Bucket", "b"), ("Marker", "c")]))
    }

    @Test("tokens as botocore writes them: Python's json.dumps in base64, with the truncation amount")
    func tokens() throws {
        var pagination = try Pagination(Self.listing, params: JSONObject(), limits: .init(maxItems: 1))
        try pagination.receive(Self.page(["é", "b"], truncated: true))
        let token = try #require(pagination.result["NextToken"]?.stringValue)
        #expect(String(decoding: Data(base64Encoded: token)!, as: UTF8.self) == #"{"Marker": null, "boto_truncate_amount": 1}"#)
        let decoded = try PaginationToken.decode(token, inputTokens: ["Marker"])
        #expect(decoded.tokens == JSONObject([("Marker", .null)]) && decoded.skip == 1)
        // botocore's older form, and a service's own token given as it is.
        #expect(try PaginationToken.decode("abc___2", inputTokens: ["Marker"]).tokens == JSONObject([("Marker", "abc")]))
        #expect(try PaginationToken.decode("abc___2", inputTokens: ["Marker"]).skip == 2)
        #expect(try PaginationToken.decode("opaque-token", inputTokens: ["Marker"]).tokens == JSONObject([("Marker", "opaque-token")]))
        #expect(throws: PaginationError.badStartingToken("a___b___c")) { try PaginationToken.decode("a___b___c", inputTokens: ["Marker"]) }
    }

    @Test("the same next token twice ends the paging with an error, as botocore's does")
    func repeatedToken() throws {
        var pagination = try Pagination(Self.listing, params: JSONObject(), limits: .init())
        try pagination.receive(Self.page(["a"], truncated: true))
        try pagination.receive(Self.page(["b"], truncated: true))
        #expect(throws: PaginationError.self) { try pagination.receive(Self.page(["b"], truncated: true)) }
        #expect(pagination.nextRequest == nil)
    }
}
