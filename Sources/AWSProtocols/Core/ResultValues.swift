import AWSJSON
import AWSPrimitives

/// How a result writes what JSON has no type for, whatever the wire format it was read
/// from: timestamps (ISO 8601 UTC, or epoch seconds) and blobs (base64, or text), as the
/// codec options say.
struct ResultValues: Sendable {
    let options: CodecOptions

    /// `timestamp` written straight to a result's text.
    func writeTimestamp(_ t: Timestamp, to out: inout [UInt8]) {
        switch options.resultTimestamps {
        case .iso8601:
            out.append(UInt8(ascii: "\""))
            t.appendISO8601Result(to: &out)
            out.append(UInt8(ascii: "\""))
        case .epochSeconds:
            t.unixJSON.write(to: &out, style: .compact)
        }
    }

    func timestamp(_ t: Timestamp) -> JSON {
        switch options.resultTimestamps {
        case .iso8601: return .string(t.iso8601Result)
        case .epochSeconds: return t.unixJSON
        }
    }

    func blob(_ bytes: [UInt8]) -> JSON {
        switch options.resultBlobs {
        case .base64: return .string(Base64.encode(bytes))
        case .utf8Text: return .string(String(decoding: bytes, as: UTF8.self))
        }
    }
}
