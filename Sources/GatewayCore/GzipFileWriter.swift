import CZlib
import Foundation

/// Appends to one gzip file through zlib's deflate. `flush()` makes everything written so
/// far readable (Z_SYNC_FLUSH), so a crash loses only what came after; `finish()` writes
/// the gzip trailer, after which `gzip -t` accepts the file.
final class GzipFileWriter {
    let path: String
    private var stream = z_stream()
    private let handle: FileHandle
    private var output = [UInt8](repeating: 0, count: 64 * 1024)
    /// Bytes in and out so far (for rotation and the compression ratio).
    private(set) var bytesIn = 0
    private(set) var bytesOut = 0
    private var finished = false

    /// Level 3 by default, the strongest of zlib's fast levels: it costs each audit record
    /// less CPU than the default 6 and compresses real records almost as well (the
    /// figures are in BENCHMARKS.md).
    init(path: String, level: Int32 = 3) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640]),
              let handle = FileHandle(forWritingAtPath: path)
        else { throw AuditLogError("cannot create \(path)") }
        self.handle = handle
        // 15 window bits + 16: a gzip header and trailer around the deflate stream.
        let status = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw AuditLogError("zlib deflateInit failed (\(status))") }
    }

    deinit {
        if !finished { try? finish() }
    }

    func write(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        bytesIn += bytes.count
        try deflate(bytes, flush: Z_NO_FLUSH)
    }

    func flush() throws { try deflate(UnsafeBufferPointer(start: nil, count: 0), flush: Z_SYNC_FLUSH) }

    func finish() throws {
        guard !finished else { return }
        finished = true
        try deflate(UnsafeBufferPointer(start: nil, count: 0), flush: Z_FINISH)
        deflateEnd(&stream)
        try handle.close()
    }

    /// Deflates `input` (read, never written: zlib's `next_in` is only not `const` in C).
    private func deflate(_ input: UnsafeBufferPointer<UInt8>, flush: Int32) throws {
        stream.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0) }
        stream.avail_in = UInt32(input.count)
        repeat {
            let produced: Int = output.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                _ = CZlib.deflate(&stream, flush)
                return out.count - Int(stream.avail_out)
            }
            if produced > 0 {
                try handle.write(contentsOf: output[0..<produced])
                bytesOut += produced
            }
        } while stream.avail_out == 0 || stream.avail_in > 0
    }
}

public struct AuditLogError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
