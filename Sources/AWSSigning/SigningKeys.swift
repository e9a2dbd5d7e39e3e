import AWSPrimitives
import Crypto
import Foundation

/// SHA-256 of bytes through the hasher's buffer-pointer entry: `SHA256.hash(data:)` takes
/// any `DataProtocol` and walks it through generic code, which cost more than the hash.
func sha256Digest(_ bytes: some ContiguousBytes) -> SHA256.Digest {
    var hasher = SHA256()
    bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    return hasher.finalize()
}

/// HMAC-SHA256 (RFC 2104) with its key taken in once: the inner and outer hash states,
/// each already fed its padded key, are copied for every message, which is then hashed
/// through the buffer-pointer entry (swift-crypto's `HMAC.update` goes through generic
/// `DataProtocol` code per call).
public struct PreparedHMACSHA256: @unchecked Sendable {
    private let inner: SHA256
    private let outer: SHA256

    public init(key: SymmetricKey) {
        var block = key.withUnsafeBytes { Array($0) }
        if block.count > 64 { block = Array(sha256Digest(block)) }
        block += repeatElement(0, count: 64 - block.count)
        var inner = SHA256(), outer = SHA256()
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
        block.map { $0 ^ 0x5C }.withUnsafeBytes { outer.update(bufferPointer: $0) }
        self.inner = inner
        self.outer = outer
    }

    public func authenticationCode(for message: [UInt8]) -> SHA256.Digest {
        var inner = self.inner
        message.withUnsafeBytes { inner.update(bufferPointer: $0) }
        var outer = self.outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }
}

/// Derived signing keys by (secret, day, region, service): four HMACs saved per request.
/// Entries hold the secret they were derived from, as the credentials do already.
public final class SigningKeyCache: @unchecked Sendable {
    /// What a signer needs of an entry.
    public struct Material: Sendable {
        /// HMAC keyed with the derived key, nothing hashed yet: copied for each signature.
        public let mac: PreparedHMACSHA256
        /// `<day>/<region>/<service>/aws4_request`.
        public let scope: String

        init(key: SymmetricKey, day: String, region: String, service: String) {
            mac = PreparedHMACSHA256(key: key)
            scope = SigV4Signer.credentialScope(day: day, region: region, service: service)
        }
    }
    private struct Entry {
        let secret: String
        let day: String
        let region: String
        let service: String
        let key: SymmetricKey
        let material: Material
    }
    private var entries: [Entry] = []
    private let lock = NSLock()
    private let capacity: Int

    public init(capacity: Int = 64) { self.capacity = capacity }

    public func key(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        entry(secret: secret, day: day, region: region, service: service).key
    }

    public func material(secret: String, day: String, region: String, service: String) -> Material {
        entry(secret: secret, day: day, region: region, service: service).material
    }

    private func entry(secret: String, day: String, region: String, service: String) -> Entry {
        lock.lock()
        let hit = entries.last(where: { $0.day == day && $0.region == region && $0.service == service && $0.secret == secret })
        lock.unlock()
        if let hit { return hit }
        let key = SigV4Signer.deriveKey(secret: secret, day: day, region: region, service: service)
        let made = Entry(secret: secret, day: day, region: region, service: service, key: key,
                         material: Material(key: key, day: day, region: region, service: service))
        lock.lock()
        if entries.count >= capacity { entries.removeFirst() }
        entries.append(made)
        lock.unlock()
        return made
    }
}
