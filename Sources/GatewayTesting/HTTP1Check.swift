import GatewayTransport
import NIOCore

/// For the fuzzer: reads bytes as requests and as answers, whole and split in two, and
/// traps if the readings differ: a message must not depend on how its bytes arrived.
public enum HTTP1Check {
    public static func readBothWays(_ bytes: [UInt8], split: Int) {
        for kind in [HTTP1Parser.Kind.request, .response] {
            let whole = messages(bytes, kind: kind, split: nil)
            let parts = messages(bytes, kind: kind, split: min(max(split, 0), bytes.count))
            if whole != parts { fatalError("HTTP/1.1 read differently when split at \(split): \(whole) vs \(parts)") }
        }
    }

    /// Each message read (head and body), then how the reading ended.
    static func messages(_ bytes: [UInt8], kind: HTTP1Parser.Kind, split: Int?) -> [String] {
        var parser = HTTP1Parser(kind: kind, maxHeadBytes: 1024, maxBodyBytes: 2048)
        var read: [String] = []
        var pending = ByteBuffer()
        do {
            for piece in split.map({ [bytes[..<$0], bytes[$0...]] }) ?? [bytes[...]] {
                pending.writeBytes(piece)
                while let message = try parser.next(&pending) { read.append(describe(message)) }
            }
            if let last = try parser.end() { read.append(describe(last)) }
            read.append("end")
        } catch {
            read.append("error: \(error)")
        }
        return read
    }

    static func describe(_ message: HTTP1Message) -> String {
        "\(message.head.method) \(message.head.target) \(message.head.status) 1.\(message.head.minorVersion) \(message.head.headers) "
            + "keepAlive=\(message.keepAlive) body=\(Array(message.body.readableBytesView))"
    }
}
