import AWSJSON
import AWSProtocols
import AWSSigning
import Foundation
import Synchronization

extension S3RegionRedirect {
    /// One call's redirect: the region it is asked in (a bucket's known region at once,
    /// `redirect_from_cache`), and whether it was redirected already (once is the most).
    struct State {
        private let call: ClientCall
        private let bucket: String?
        private let cache: BucketRegionCache
        private(set) var region: String
        private var redirected = false

        init(_ call: ClientCall, cache: BucketRegionCache) {
            let bucket = call.handle.customization.followsRegionRedirects ? call.params["Bucket"]?.stringValue : nil
            self.call = call
            self.bucket = bucket
            self.cache = cache
            region = bucket.flatMap { cache.region(of: $0) } ?? call.region
        }

        /// Whether the answer names another region for the bucket, now the call's region
        /// (learned from the answer, or from `HeadBucket` when it names none).
        mutating func follow(_ error: AWSErrorResponse, _ response: ResponseData, caller: AWSCaller, observer: some SendObserver,
                             credentials: Credentials?, timeout: Double) async -> Bool {
            guard !redirected, let decision = S3RegionRedirect.region(error, response, call),
                  let bucketRegion = await regionOf(decision, caller: caller, observer: observer, credentials: credentials, timeout: timeout),
                  bucketRegion != region
            else { return false }
            region = bucketRegion
            redirected = true
            if let bucket { cache.remember(bucket, in: bucketRegion) }
            return true
        }

        /// The region a redirect names, or the one `HeadBucket` reports (botocore's
        /// `get_bucket_region`: the `x-amz-bucket-region` of its answer, success or error).
        private func regionOf(_ decision: Decision, caller: AWSCaller, observer: some SendObserver, credentials: Credentials?,
                              timeout: Double) async -> String? {
            if case .region(let named) = decision { return named }
            let engine = caller.engine
            guard let bucket = call.params["Bucket"]?.stringValue, let handle = try? engine.operation("s3.HeadBucket"),
                  let params = try? engine.prepareParams(JSONObject([("Bucket", .string(bucket))]), for: handle),
                  let request = try? engine.buildRequest(handle, params: params, region: region, credentials: credentials,
                                                         at: Timestamp(seconds: Int64(Date().timeIntervalSince1970)))
            else { return nil }
            observer.probing()
            guard let answer = try? await caller.transport.send(request, timeoutSeconds: timeout),
                  let found = answer.header("x-amz-bucket-region"), AWSEngine.isValidRegionName(found) else { return nil }
            return found
        }
    }
}

/// botocore's `S3RegionRedirectorv2.redirect_from_error`: an answer that says the bucket
/// lives elsewhere (a 301/302/307, `PermanentRedirect`, `AuthorizationHeaderMalformed`
/// naming a region, a bare 301/400 to `HeadObject` or to `HeadBucket` with the region
/// header, `IllegalLocationConstraintException` outside `CreateBucket`), with the region
/// from `x-amz-bucket-region` or the error's `<Region>`.
enum S3RegionRedirect {
    enum Decision: Equatable {
        /// Ask again in this region.
        case region(String)
        /// The answer says the region is wrong but names none: `HEAD` the bucket to learn it.
        case probe
    }

    static func region(_ error: AWSErrorResponse, _ response: ResponseData, _ call: ClientCall) -> Decision? {
        guard call.handle.customization.followsRegionRedirects, call.params["Bucket"] != nil else { return nil }
        let operation = call.handle.operation.name
        let headerRegion = response.header("x-amz-bucket-region")
        let bodyRegion = elementText("Region", in: response.body)
        let applies = [301, 302, 307].contains(response.status)
            || ((error.code == "301" || error.code == "400") && operation == "HeadObject")
            || ((error.code == "301" || error.code == "400") && operation == "HeadBucket" && headerRegion != nil)
            || (error.code == "AuthorizationHeaderMalformed" && bodyRegion != nil)
            || error.code == "PermanentRedirect"
            || (error.code == "IllegalLocationConstraintException" && operation != "CreateBucket")
        guard applies else { return nil }
        guard let region = headerRegion ?? bodyRegion, !region.isEmpty else { return .probe }
        return .region(region)
    }

    /// The text of the first `<name>` element of an XML error body.
    static func elementText(_ name: String, in body: [UInt8]) -> String? {
        guard !body.isEmpty, let root = try? XMLDocument.parse(body) else { return nil }
        return (root.name == "Error" ? root : root.children.first { $0.name == "Error" })?.children.first { $0.name == name }?.text
    }
}

/// Bucket → region, learned from S3's redirects and shared by every call (bounded: when
/// full it starts over, as a redirect costs one round trip to learn again).
final class BucketRegionCache: Sendable {
    static let limit = 10_000
    private let regions = Mutex<[String: String]>([:])

    func region(of bucket: String) -> String? { regions.withLock { $0[bucket] } }

    func remember(_ bucket: String, in region: String) {
        regions.withLock { regions in
            if regions.count >= BucketRegionCache.limit { regions.removeAll(keepingCapacity: true) }
            regions[bucket] = region
        }
    }
}
