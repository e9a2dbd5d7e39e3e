import AWSEndpoints
import AWSJSON
import AWSModels
import AWSPrimitives
import AWSProtocols
import AWSSigning
import Foundation
import Synchronization

/// Where a call goes: the endpoint rules given the call's region, override and params.
extension AWSEngine {
    /// The endpoint for a call: the configured override (`AWS_ENDPOINT_URL_<SERVICE>`,
    /// `AWS_ENDPOINT_URL`, or `endpointOverride`) goes through the rule set as the SDKs do.
    public func resolveEndpoint(_ handle: OperationHandle, params: JSONObject, region: String, endpointOverride: String? = nil,
                                forPresigning: Bool = false) throws(ClientError) -> ResolvedEndpoint {
        guard !region.isEmpty else {
            throw .noRegion
        }
        guard AWSEngine.isValidRegionName(region) else {
            throw .endpoint("invalid region name \(region)")
        }
        let override = endpointOverride ?? handle.configuredEndpoint
        // The rule-set input depends only on these, so they make the cache key.
        let global = forPresigning && handle.customization.presignsToGlobalEndpoint(
            params: params, region: region, pathStyle: AWSEngine.pathStyle(handle, params: params, endpointOverride: override))
        // Built in one buffer: joining with `+` made a string per piece.
        var key = ""
        key.reserveCapacity(handle.canonicalName.utf8.count + region.utf8.count + (override?.utf8.count ?? 0) + 16 * (handle.contextParamMembers.count + 1))
        key += handle.canonicalName
        key += "\u{0}"
        key += region
        key += "\u{0}"
        if let override { key += override }
        if global { key += "\u{0}global" }
        for member in handle.contextParamMembers {
            key += "\u{0}"
            if let value = params[member.name] { key += value.serializedString() }
        }
        if let cached = endpointCache.withLock({ $0[key] }) { return cached }

        var input: [String: JSON] = [:]
        for (parameter, builtIn) in handle.ruleSet.builtIns {
            switch builtIn {
            case "AWS::Region": input[parameter] = .string(region)
            case "AWS::UseFIPS", "AWS::UseDualStack": input[parameter] = .bool(false)
            case "SDK::Endpoint": if let override { input[parameter] = .string(override) }
            // botocore's defaults (args.py `compute_endpoint_resolver_builtin_defaults`).
            case "AWS::S3::UseGlobalEndpoint":
                input[parameter] = .bool(region == "us-east-1" && environment["AWS_S3_US_EAST_1_REGIONAL_ENDPOINT"] != "regional")
            case "AWS::S3::ForcePathStyle": input[parameter] = .bool(AWSEngine.pathStyle(handle, params: params, endpointOverride: override))
            case "AWS::S3::Accelerate", "AWS::S3::DisableMultiRegionAccessPoints", "AWS::S3Control::UseArnRegion", "AWS::STS::UseGlobalEndpoint":
                input[parameter] = .bool(false)
            case "AWS::S3::UseArnRegion": input[parameter] = .bool(true)
            default: break
            }
        }
        if global {
            // `customize_endpoint_resolver_builtins` for presigned URLs.
            for (parameter, builtIn) in handle.ruleSet.builtIns {
                if builtIn == "AWS::Region" { input[parameter] = .string("aws-global") }
                if builtIn == "AWS::S3::UseGlobalEndpoint" { input[parameter] = .bool(true) }
            }
        }
        for (name, value) in handle.operation.staticContextParams { input[name] = value }
        for member in handle.contextParamMembers {
            if let name = member.contextParam, let value = params[member.name] { input[name] = value }
        }
        let resolved: ResolvedEndpoint
        do {
            resolved = try handle.ruleSet.resolve(input)
        } catch {
            throw .endpoint(error.message)
        }
        endpointCache.withLock { cache in
            if cache.count >= AWSEngine.endpointCacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[key] = resolved
        }
        return resolved
    }

    /// botocore's check: letters, digits and inner hyphens, at most 63 long.
    /// The endpoint's auth schemes must include SigV4 (or none at all): S3 Express
    /// directory buckets (`sigv4-s3express`, session credentials from `CreateSession`) and
    /// SigV4a-only endpoints (multi-Region access points) are refused by name.
    static func checkAuthSchemes(_ endpoint: ResolvedEndpoint, _ handle: OperationHandle) throws(ClientError) {
        guard let schemes = endpoint.properties["authSchemes"]?.arrayValue, !schemes.isEmpty else { return }
        let names = schemes.compactMap { $0["name"]?.stringValue }
        if names.contains("sigv4") || names.contains("none") { return }
        let reason = names.contains("sigv4-s3express") ? "S3 Express session auth (directory buckets)" : names.joined(separator: ", ") + " signing"
        throw .unsupportedProtocol(service: handle.service.name, protocolName: handle.service.metadata.resolvedProtocol + " with " + reason)
    }

    /// Path-style bucket addressing, as botocore decides it: with a custom endpoint (MinIO,
    /// LocalStack), and where the service's customization forces it (S3's
    /// `GetBucketLocation`); never for a bucket ARN (`customize_endpoint_resolver_builtins`).
    static func pathStyle(_ handle: OperationHandle, params: JSONObject, endpointOverride: String?) -> Bool {
        if handle.customization.forcesPathStyle(handle.operation) { return true }
        if case .string(let bucket)? = params["Bucket"], bucket.hasPrefix("arn:"),
           bucket.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).count == 6 { return false }
        return endpointOverride != nil && !(endpointOverride ?? "").contains("s3-accelerate")
    }

    public static func isValidRegionName(_ region: String) -> Bool {
        let bytes = region.utf8
        guard !bytes.isEmpty, bytes.count <= 63, bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D }
    }

    /// `AWS_ENDPOINT_URL_<SERVICE_ID>` (serviceId upper-cased, spaces as underscores), then `AWS_ENDPOINT_URL`.
    func configuredEndpoint(_ service: ServiceModel) -> String? {
        let key = "AWS_ENDPOINT_URL_" + service.metadata.serviceId.uppercased().replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "-", with: "_")
        if let url = environment[key], !url.isEmpty { return url }
        if let url = environment["AWS_ENDPOINT_URL"], !url.isEmpty { return url }
        return nil
    }
}

/// scheme://authority/path of an endpoint URL.
struct URLParts {
    let scheme: String
    let authority: String
    let path: String

    init(scheme: String, authority: String, path: String) {
        self.scheme = scheme
        self.authority = authority
        self.path = path
    }

    init?(_ url: String) {
        // Bytes, not `range(of:)` or `String.Index` walks: this runs for every call.
        let bytes = Array(url.utf8)
        var separator = 0
        while separator + 2 < bytes.count, !(bytes[separator] == UInt8(ascii: ":") && bytes[separator + 1] == UInt8(ascii: "/")
                                                && bytes[separator + 2] == UInt8(ascii: "/")) {
            separator += 1
        }
        guard separator + 2 < bytes.count else { return nil }
        scheme = String(decoding: bytes[..<separator], as: UTF8.self)
        let start = separator + 3
        if let slash = bytes[start...].firstIndex(of: UInt8(ascii: "/")) {
            authority = String(decoding: bytes[start..<slash], as: UTF8.self)
            path = String(decoding: bytes[slash...], as: UTF8.self)
        } else {
            authority = String(decoding: bytes[start...], as: UTF8.self)
            path = ""
        }
        if authority.isEmpty { return nil }
    }
}
