import CZlib

/// Decompresses gzip or zlib data with the system zlib.
public enum Inflater {
    public struct Failure: Error, CustomStringConvertible {
        public let code: Int32
        public let message: String
        public var description: String { "zlib error \(code): \(message)" }
    }

    /// Inflates a whole gzip (or zlib) stream; concatenated gzip members are joined.
    /// With `allowTruncated`, a stream cut short (a file still being written, or left by a
    /// crash) gives what could be decompressed instead of an error.
    public static func inflate(_ input: [UInt8], allowTruncated: Bool = false) throws(Failure) -> [UInt8] {
        let (output, complete) = try inflateReportingEnd(input, allowTruncated: allowTruncated)
        if !complete && !allowTruncated { throw Failure(code: Z_BUF_ERROR, message: "truncated compressed data") }
        return output
    }

    /// The same, also saying whether the stream ended properly (false: cut short).
    public static func inflateReportingEnd(_ input: [UInt8], allowTruncated: Bool) throws(Failure) -> (output: [UInt8], complete: Bool) {
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 6)
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers automatically.
        var status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw Failure(code: status, message: "inflateInit failed") }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var consumed = 0
        while consumed < input.count {
            status = input.withUnsafeBufferPointer { inputBuffer -> Int32 in
                stream.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress! + consumed)
                let offered = min(input.count - consumed, Int(UInt32.max))
                stream.avail_in = UInt32(offered)
                var result: Int32 = Z_OK
                repeat {
                    result = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                        stream.next_out = out.baseAddress
                        stream.avail_out = UInt32(out.count)
                        let r = CZlib.inflate(&stream, Z_NO_FLUSH)
                        output.append(contentsOf: out[0..<(out.count - Int(stream.avail_out))])
                        return r
                    }
                    // Output may still be pending inside zlib when the buffer filled up.
                } while result == Z_OK && (stream.avail_in > 0 || stream.avail_out == 0)
                consumed += offered - Int(stream.avail_in)
                return result
            }
            if status == Z_STREAM_END {
                // Another gzip member may follow.
                if consumed < input.count {
                    inflateReset(&stream)
                    continue
                }
                break
            }
            guard status == Z_OK || status == Z_BUF_ERROR else {
                if allowTruncated && !output.isEmpty { return (output, false) }
                let message = stream.msg.map { String(cString: $0) } ?? "corrupt data"
                throw Failure(code: status, message: message)
            }
            if status == Z_BUF_ERROR && stream.avail_in == 0 { break }
        }
        return (output, status == Z_STREAM_END)
    }
}
