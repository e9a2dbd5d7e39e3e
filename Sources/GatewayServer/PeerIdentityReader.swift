import GatewayCore
import GatewayTransport
import NIOCore
import NIOSSL
import X509

#if canImport(Glibc)
import Glibc
#endif

/// The kinds of listener, which decide what can be known of a caller.
enum ListenerKind: Sendable {
    case unix, tcp, tls
}

/// Reads who is at the other end of a connection.
enum PeerIdentityReader {
    static func read(_ channel: Channel, kind: ListenerKind) -> PeerIdentity {
        switch kind {
        case .unix: return unixPeer(channel)
        case .tls: return PeerIdentity(commonName: certificateCommonName(channel))
        case .tcp: return PeerIdentity()
        }
    }

    /// Linux's `struct ucred` (glibc hides it behind _GNU_SOURCE): what SO_PEERCRED returns.
    struct PeerCredentials: Sendable {
        var pid: Int32
        var uid: UInt32
        var gid: UInt32
    }
    /// SO_PEERCRED on Linux.
    static let peerCredentialsOption: Int32 = 17

    /// SO_PEERCRED: the uid and gid of the process that connected (set by the kernel).
    static func unixPeer(_ channel: Channel) -> PeerIdentity {
        guard let provider = channel as? SocketOptionProvider else { return PeerIdentity() }
        // On the channel's own event loop the option is read at once.
        let future: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(peerCredentialsOption))
        var identity = PeerIdentity()
        future.whenSuccess { credentials in identity = PeerIdentity(uid: credentials.uid, gid: credentials.gid) }
        return identity
    }

    /// The subject CN of the client certificate that the TLS handshake verified.
    static func certificateCommonName(_ channel: Channel) -> String? {
        guard let certificate = try? channel.pipeline.syncOperations.nioSSL_peerCertificate(),
              let der = try? certificate.toDERBytes(),
              let parsed = try? Certificate(derEncoded: der)
        else { return nil }
        for rdn in parsed.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return String(describing: attribute.value)
            }
        }
        return nil
    }
}
