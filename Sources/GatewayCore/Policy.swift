import AWSClient
import AWSJSON
import AWSPrimitives
import Crypto
import Foundation
import Synchronization

/// What is known of a caller's connection: Unix peer credentials, or the subject CN of a
/// verified client certificate.
public struct PeerIdentity: Sendable, Equatable {
    public var uid: UInt32?
    public var gid: UInt32?
    public var commonName: String?

    public init(uid: UInt32? = nil, gid: UInt32? = nil, commonName: String? = nil) {
        self.uid = uid
        self.gid = gid
        self.commonName = commonName
    }
}

/// Who may be a member of a team (`members:` in the config).
public enum MemberPattern: Sendable, Equatable {
    case any
    case uid(UInt32)
    case gid(UInt32)
    case commonName(String)
    /// The SHA-256 of a bearer token (the token itself is never configured or shown).
    case tokenSHA256([UInt8])

    public init?(_ text: String) {
        if text == "any" {
            self = .any
        } else if text == "self" {
            // The user the gateway runs as: an example config admits whoever runs it.
            self = .uid(UInt32(getuid()))
        } else if text.hasPrefix("uid:"), let uid = UInt32(text.dropFirst(4)) {
            self = .uid(uid)
        } else if text.hasPrefix("gid:"), let gid = UInt32(text.dropFirst(4)) {
            self = .gid(gid)
        } else if text.hasPrefix("cn:"), text.count > 3 {
            self = .commonName(String(text.dropFirst(3)))
        } else if text.hasPrefix("token-sha256:"), let digest = Hex.decode(String(text.dropFirst(13))), digest.count == 32 {
            self = .tokenSHA256(digest)
        } else {
            return nil
        }
    }

}

/// A `service:Operation` pattern with `*` wildcards, compiled once.
public struct OperationPattern: Sendable, Equatable {
    /// As written in the config, for error messages.
    public let text: String
    let service: [Substring]
    let operation: [Substring]

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.text = text
        service = parts[0].split(separator: "*", omittingEmptySubsequences: false)
        operation = parts[1].split(separator: "*", omittingEmptySubsequences: false)
    }

    public func matches(service name: String, operation op: String) -> Bool {
        OperationPattern.glob(service, name) && OperationPattern.glob(operation, op)
    }

    /// Whether the pattern matches some operation of `name` (its service part alone).
    public func matches(service name: String) -> Bool {
        OperationPattern.glob(service, name)
    }

    /// `pieces` are the text between `*`s: the first must start the name, the last end it,
    /// the others appear in order.
    static func glob(_ pieces: [Substring], _ name: String) -> Bool {
        if pieces.count == 1 { return pieces[0] == name }
        if pieces.count == 2 && pieces[0].isEmpty && pieces[1].isEmpty { return true }  // `*`: any name
        var rest = Substring(name)
        guard rest.hasPrefix(pieces[0]) else { return false }
        rest = rest.dropFirst(pieces[0].count)
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let range = rest.range(of: piece) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(pieces.last!)
    }
}

/// One team: who is in it, which credentials and region its calls use, what it may call.
public struct Team: Sendable, Equatable {
    public var name: String
    public var members: [MemberPattern]
    public var credentials: String
    public var region: String?
    public var allow: [OperationPattern]
    public var deny: [OperationPattern]
    /// Key pairs the gateway issued to the team, for callers of the AWS door to sign with.
    public var accessKeys: [GatewayKey]

    public init(name: String, members: [MemberPattern], credentials: String = "default", region: String? = nil,
                allow: [OperationPattern], deny: [OperationPattern] = [], accessKeys: [GatewayKey] = []) {
        self.name = name
        self.members = members
        self.credentials = credentials
        self.region = region
        self.allow = allow
        self.deny = deny
        self.accessKeys = accessKeys
    }
}

/// A key pair the gateway issued (`teams.<name>.access_keys`): its id, and where its
/// secret is kept (never in the file).
public struct GatewayKey: Sendable, Equatable {
    public let id: String
    public var secret: SecretReference

    public init(id: String, secret: SecretReference) {
        self.id = id
        self.secret = secret
    }

    /// AWS's form of an access key id: 16 to 128 upper-case letters and digits.
    public static func isValidID(_ id: String) -> Bool {
        (16...128).contains(id.utf8.count) && id.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }
    }
}

/// Where a secret is: an environment variable of the gateway, or a file (its first line).
public enum SecretReference: Sendable, Equatable {
    case environment(String)
    case file(String)

    /// The secret, or why there is none (never the secret itself in the reason).
    public func read(environment: [String: String]) -> Result<String, SecretProblem> {
        switch self {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else { return .failure(SecretProblem("environment variable \(name) is not set")) }
            return .success(value)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else { return .failure(SecretProblem("cannot read \(path)")) }
            let value = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            guard !value.isEmpty else { return .failure(SecretProblem("\(path) is empty")) }
            return .success(value)
        }
    }
}

public struct SecretProblem: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The gateway keys of every team, their secrets read: who a key id belongs to.
public struct GatewayKeys: Sendable {
    private let byID: [String: (team: String, secret: String)]
    /// Keys whose secret could not be read, and why: they sign nothing.
    public let problems: [String]

    public init(teams: [Team], environment: [String: String]) {
        var byID: [String: (team: String, secret: String)] = [:]
        var problems: [String] = []
        for team in teams {
            for key in team.accessKeys {
                switch key.secret.read(environment: environment) {
                case .success(let secret): byID[key.id] = (team.name, secret)
                case .failure(let problem): problems.append("teams.\(team.name).access_keys \(key.id): \(problem)")
                }
            }
        }
        self.byID = byID
        self.problems = problems
    }

    public func secret(for id: String) -> String? { byID[id]?.secret }
    public func team(for id: String) -> String? { byID[id]?.team }
    public var isEmpty: Bool { byID.isEmpty }
}

/// Teams in the order the file lists them; the first whose members match a caller is its team.
public struct Policy: Sendable {
    public let teams: [Team]
    /// Bearer tokens' digests, so that a caller's token is hashed once, not on every call.
    private let digests = TokenDigests()

    public init(teams: [Team]) { self.teams = teams }

    /// With no teams configured: only the user the gateway runs as, allowed everything.
    public static func ownUserOnly(uid: UInt32 = getuid()) -> Policy {
        Policy(teams: [Team(name: "default", members: [.uid(uid)], allow: [OperationPattern("*:*")!])])
    }

    /// The caller's team, or nil; also how to name the caller in errors (never a token).
    public func team(for peer: PeerIdentity, token: String?) -> (Team?, String) {
        let tokenDigest = token.map(digests.known)
        for team in teams {
            for member in team.members {
                switch member {
                case .any: return (team, describe(peer, tokenDigest))
                case .uid(let uid) where peer.uid == uid: return (team, "uid:\(uid)")
                case .gid(let gid) where peer.gid == gid: return (team, "gid:\(gid)")
                case .commonName(let cn) where peer.commonName == cn: return (team, "cn:\(cn)")
                case .tokenSHA256(let digest):
                    if let tokenDigest, Policy.constantTimeEqual(tokenDigest.digest, digest) { return (team, describe(peer, tokenDigest)) }
                default: continue
                }
            }
        }
        return (nil, describe(peer, tokenDigest))
    }

    /// Whether no rule of the team names `service`: then `decide` refuses every operation
    /// of it with `noAllowRule`, and the operation need not be known.
    public func namesNoRule(_ team: Team, service: String) -> Bool {
        !team.allow.contains(where: { $0.matches(service: service) }) && !team.deny.contains(where: { $0.matches(service: service) })
    }
    static let noAllowRule = "(no allow rule matches)"

    /// Deny wins; nothing is allowed unless an allow rule matches. Returns the rule that decided.
    public func decide(_ team: Team, service: String, operation: String) -> (allowed: Bool, rule: String) {
        if let rule = team.deny.first(where: { $0.matches(service: service, operation: operation) }) { return (false, rule.text) }
        if let rule = team.allow.first(where: { $0.matches(service: service, operation: operation) }) { return (true, rule.text) }
        return (false, Policy.noAllowRule)
    }

    /// A caller as records name it before any token is known.
    public static func describe(_ peer: PeerIdentity) -> String { Policy(teams: []).describe(peer, nil) }

    /// A caller as errors and records name it: a token only by a short prefix of its hash.
    func describe(_ peer: PeerIdentity, _ token: TokenDigests.Known?) -> String {
        if let cn = peer.commonName { return "cn:\(cn)" }
        if let uid = peer.uid { return "uid:\(uid)" }
        if let token { return token.caller }
        return "anonymous"
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// SHA-256 digests of the bearer tokens callers present, kept (at most `limit`, then
/// started afresh) so that a caller's token is hashed once. They stay in memory as the
/// tokens themselves do while a call is served; a new policy (a reload) starts empty.
final class TokenDigests: Sendable {
    static let limit = 1024

    /// A token's digest, and the caller as errors and records name it: the token only by
    /// a short prefix of its hash (made once, not per call).
    struct Known: Sendable {
        let digest: [UInt8]
        let caller: String
    }
    private let table = Mutex<[String: Known]>([:])

    func known(_ token: String) -> Known {
        if let known = table.withLock({ $0[token] }) { return known }
        let digest = Array(SHA256.hash(data: Array(token.utf8)))
        let known = Known(digest: digest, caller: "token-sha256:" + Hex.encode(Array(digest.prefix(6))) + "…")
        table.withLock { table in
            if table.count >= Self.limit { table.removeAll() }
            table[token] = known
        }
        return known
    }
}
