import AWSJSON
import GatewayCore
import Testing

@Suite("Response cache")
struct ResponseCacheTests {
    func settings(maxBytes: Int = 1 << 20) -> CacheSettings {
        var s = CacheSettings()
        s.maxBytes = maxBytes
        s.ttl = [(OperationPattern("lambda-core:GetNetworkConnector")!, 2), (OperationPattern("*:*")!, 10)]
        return s
    }

    @Test("what is cacheable: read-only in the model or named like a read; include and exclude")
    func cacheable() {
        var s = settings()
        #expect(s.isCacheable(service: "x", operation: "Anything", readOnly: true))
        for name in ["GetLinks", "DescribeThings", "ListAll", "BatchGetItem", "HeadObject"] { #expect(s.isCacheable(service: "x", operation: name, readOnly: false)) }
        #expect(!s.isCacheable(service: "x", operation: "CreateConnection", readOnly: false))
        s.include = [OperationPattern("x:Search*")!]
        s.exclude = [OperationPattern("x:GetSecret*")!]
        #expect(s.isCacheable(service: "x", operation: "SearchThings", readOnly: false))
        #expect(!s.isCacheable(service: "x", operation: "GetSecretValue", readOnly: true))
        #expect(s.ttl(service: "lambda-core", operation: "GetNetworkConnector") == 2)
        #expect(s.ttl(service: "lambda-core", operation: "ListNetworkConnectors") == 10)
    }

    @Test("keys: param order and gateway options do not matter; credentials, region and params do")
    func keys() throws {
        let a = try JSON.parse(#"{"B":1,"A":{"y":2,"x":[1,{"q":1,"p":2}]},"$cache":"use"}"#).objectValue!
        let b = try JSON.parse(#"{"A":{"x":[1,{"p":2,"q":1}],"y":2},"B":1}"#).objectValue!
        let key = { (credentials: String, region: String, params: JSONObject) in
            ResponseCache.key(credentials: credentials, region: region, service: "s", operation: "GetX", params: params)
        }
        #expect(key("default", "us-east-1", a) == key("default", "us-east-1", b))
        #expect(key("default", "us-east-1", a) != key("netops", "us-east-1", a))
        #expect(key("default", "us-east-1", a) != key("default", "eu-west-1", a))
        #expect(key("default", "us-east-1", a) != key("default", "us-east-1", JSONObject([("B", 2)])))
    }

    @Test("entries expire after their TTL")
    func ttl() {
        let clock = ManualClock()
        let cache = ResponseCache(settings: settings(), clock: clock)
        cache.store("k", JSONObject([("v", 1)]), ttl: 2, scope: "s")
        #expect(cache.lookup("k") != nil)
        clock.advance(1.9)
        #expect(cache.lookup("k") != nil)
        clock.advance(0.2)
        #expect(cache.lookup("k") == nil)
        #expect(cache.count == 0)
    }

    @Test("bounded in bytes, least recently used first out")
    func lru() {
        let cache = ResponseCache(settings: settings(maxBytes: 1000), clock: ManualClock())
        let value = JSONObject([("v", .string(String(repeating: "x", count: 200)))])
        for i in 0..<3 { cache.store("k\(i)", value, ttl: 60, scope: "s") }
        #expect(cache.count == 3)
        _ = cache.lookup("k0")  // k1 is now the least recently used
        cache.store("k3", value, ttl: 60, scope: "s")
        #expect(cache.byteCount <= 1000)
        #expect(cache.lookup("k1") == nil)
        #expect(cache.lookup("k0") != nil && cache.lookup("k3") != nil)
        cache.store("huge", JSONObject([("v", .string(String(repeating: "x", count: 5000)))]), ttl: 60, scope: "s")
        #expect(cache.lookup("huge") == nil)
    }

    @Test("invalidation drops one scope only")
    func invalidation() {
        let cache = ResponseCache(settings: settings(), clock: ManualClock())
        cache.store("a", JSONObject(), ttl: 60, scope: ResponseCache.scope(credentials: "default", service: "lambda-core"))
        cache.store("b", JSONObject(), ttl: 60, scope: ResponseCache.scope(credentials: "netops", service: "lambda-core"))
        cache.store("c", JSONObject(), ttl: 60, scope: ResponseCache.scope(credentials: "default", service: "networkmanager"))
        cache.invalidate(scope: ResponseCache.scope(credentials: "default", service: "lambda-core"))
        #expect(cache.lookup("a") == nil)
        #expect(cache.lookup("b") != nil && cache.lookup("c") != nil)
    }
}
