import AWSModels
import CZlib

/// Request compression (the `requestcompression` trait) as botocore 1.44.5's
/// `maybe_compress_request` does it: a body of at least 10,240 bytes
/// (`AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES`) is gzip-compressed, unless
/// `AWS_DISABLE_REQUEST_COMPRESSION` says not to, and `Content-Encoding` says so. The gzip
/// member is Python's `gzip.compress`: level 9, the request's time as its mtime, OS 255.
enum RequestCompression {
    static let defaultMinimumSize = 10_240

    static func apply(_ body: inout [UInt8], headers: inout [(name: String, value: String)], operation: AWSModels.Operation,
                      environment: [String: String], mtime: Int64) {
        guard operation.requestCompression.contains("gzip") else { return }
        if let disabled = environment["AWS_DISABLE_REQUEST_COMPRESSION"], ["true", "1"].contains(disabled.lowercased()) { return }
        let minimum = environment["AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES"].flatMap(Int.init) ?? defaultMinimumSize
        guard body.count >= minimum, let compressed = gzip(body, mtime: mtime) else { return }
        body = compressed
        if let index = headers.firstIndex(where: { $0.name == "Content-Encoding" }) {
            headers[index].value += ",gzip"
        } else {
            headers.append(("Content-Encoding", "gzip"))
        }
    }

    /// Python's `gzip.compress(data, compresslevel=9, mtime=mtime)`.
    static func gzip(_ data: [UInt8], mtime: Int64) -> [UInt8]? {
        var stream = z_stream()
        guard deflateInit2_(&stream, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            return nil
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(data.count)))
        var deflated = [UInt8](repeating: 0, count: bound)
        var input = data
        let status = input.withUnsafeMutableBufferPointer { inBuffer in
            deflated.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        deflated.removeSubrange(Int(stream.total_out)...)
        let time = UInt32(truncatingIfNeeded: mtime)
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, UInt8(time & 0xFF), UInt8((time >> 8) & 0xFF), UInt8((time >> 16) & 0xFF), UInt8(time >> 24), 2, 255]
        out.append(contentsOf: deflated)
        let crc = UInt32(truncatingIfNeeded: data.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) })
        let size = UInt32(truncatingIfNeeded: data.count)
        for value in [crc, size] { out.append(contentsOf: [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]) }
        return out
    }
}
