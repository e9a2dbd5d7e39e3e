import AWSJSON
import Foundation

/// `logs:` in the config file.
public struct AuditLogSettings: Sendable, Equatable {
    public enum ParamsMode: String, Sendable { case none, keys, full }

    /// The folder; empty means the per-user state folder (`defaultDirectory`).
    public var dir = ""
    public var rotateBytes = 64 << 20
    public var rotateAgeSeconds = 3600.0
    /// Files kept, the one being written included.
    public var keep = 20
    public var params = ParamsMode.keys
    /// Records waiting to be written; when full, new records are dropped and counted.
    public var queueLimit = 65_536
    /// The longest a written record waits before it is flushed to the file.
    public var flushIntervalSeconds = 1.0

    public init() {}

    /// `$XDG_STATE_HOME/awsgw/logs`, else `~/.local/state/awsgw/logs`: the audit log's
    /// home when the configuration names none.
    public static func defaultDirectory(environment: [String: String]) -> String {
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") { return state + "/awsgw/logs" }
        let home = UserHome.path(environment: environment)
        return home + "/.local/state/awsgw/logs"
    }
}

/// The audit log: one JSON line per call in `awsgw-<UTC time>.jsonl.gz` files, written by
/// its own thread from a bounded queue so that calls never wait for the disk.
///
/// When the queue is full, records are dropped (never the call) and counted in
/// `awsgw_audit_dropped_total`: under overload the gateway keeps serving and says how
/// much it could not record.
public final class AuditLog: @unchecked Sendable {
    public let settings: AuditLogSettings
    private let condition = NSCondition()
    /// Records waiting for the writer: their lines, each ending in its newline, in one
    /// buffer that the writer swaps for its emptied one (no array per record to hand over,
    /// and zlib reads the lines where they are).
    private var queued: [UInt8] = []
    private var queuedCount = 0
    private var stopping = false
    private var stopped = false
    private var thread: Thread?
    private var writer: GzipFileWriter?
    private var fileOpened = Date()
    private var lastFlush = Date()
    private(set) public var dropped = 0
    static let wakeThreshold = 2048
    static let keptBufferBytes = 4 << 20
    private let onDrop: @Sendable () -> Void

    public init(settings: AuditLogSettings, onDrop: @escaping @Sendable () -> Void = {}) throws {
        self.settings = settings
        self.onDrop = onDrop
        try FileManager.default.createDirectory(atPath: settings.dir, withIntermediateDirectories: true)
        // The first file is made when the first record is written, so that a gateway that
        // fails to start leaves no empty file. Check now that the folder takes files.
        guard FileManager.default.isWritableFile(atPath: settings.dir) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: settings.dir])
        }
        let thread = Thread { [weak self] in self?.run() }
        thread.name = "awsgw-audit"
        self.thread = thread
        thread.start()
    }

    /// Queues one record's JSON line (without its newline; JSON has none inside a line);
    /// never blocks.
    public func record(line: [UInt8]) {
        condition.lock()
        if stopping || queuedCount >= settings.queueLimit {
            dropped += 1
            condition.unlock()
            onDrop()
            return
        }
        queued.append(contentsOf: line)
        queued.append(UInt8(ascii: "\n"))
        queuedCount += 1
        // The writer wakes by itself every flush interval; waking it per record would cost
        // a system call per call. Only a filling queue wakes it early.
        if queuedCount == AuditLog.wakeThreshold { condition.signal() }
        condition.unlock()
    }

    /// Writes what is queued and finishes the current file properly (gzip trailer).
    public func close() {
        condition.lock()
        stopping = true
        condition.signal()
        while !stopped { condition.wait() }
        condition.unlock()
    }

    /// The files of this log, oldest first.
    public var files: [String] { AuditLog.logFiles(in: settings.dir) }

    public static func logFiles(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasPrefix("awsgw-") && $0.hasSuffix(".jsonl.gz") }
            .sorted()
            .map { dir + "/" + $0 }
    }

    private func run() {
        // Written but not yet flushed: flushed once per interval, not per record, since
        // every flush ends a compression block and costs ratio.
        var unflushed = false
        var batch: [UInt8] = []
        while true {
            condition.lock()
            if queuedCount < AuditLog.wakeThreshold && !stopping {
                // Wake when the next flush is due, or when the queue fills.
                let wake = (unflushed ? lastFlush : Date()).addingTimeInterval(settings.flushIntervalSeconds)
                _ = condition.wait(until: wake)
            }
            // The emptied buffer goes back: both keep their capacity from batch to batch.
            swap(&batch, &queued)
            queuedCount = 0
            let finishing = stopping
            condition.unlock()

            if !batch.isEmpty {
                writeLines(batch)
                unflushed = true
                // Its room is kept for the next batch, unless a backlog grew it (a full
                // queue is tens of MB): memory a burst took is given back.
                if batch.capacity > AuditLog.keptBufferBytes { batch = [] } else { batch.removeAll(keepingCapacity: true) }
            }
            if unflushed && Date().timeIntervalSince(lastFlush) >= settings.flushIntervalSeconds * 0.99 {
                try? writer?.flush()
                lastFlush = Date()
                unflushed = false
            }
            if finishing {
                try? writer?.finish()
                writer = nil
                condition.lock()
                stopped = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }

    /// Writes a batch line by line, so that a file is rotated between two records. The
    /// clock is read once per batch: a batch is at most a flush interval's records.
    private func writeLines(_ lines: [UInt8]) {
        let now = Date()
        lines.withUnsafeBufferPointer { all in
            guard let base = all.baseAddress else { return }
            var start = 0
            // Every line ends with its newline (JSON has none inside a line).
            while start < all.count, let newline = memchr(base + start, Int32(UInt8(ascii: "\n")), all.count - start) {
                let end = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                if let writer, writer.bytesOut >= settings.rotateBytes || now.timeIntervalSince(fileOpened) >= settings.rotateAgeSeconds {
                    try? writer.finish()
                    self.writer = nil
                }
                if writer == nil { try? openNewFile() }
                try? writer?.write(UnsafeBufferPointer(rebasing: all[start...end]))
                start = end + 1
            }
        }
    }

    private var lastStamp = 0.0

    private func openNewFile() throws {
        // Names sort in time order: fixed-width microsecond stamps, each later than the last.
        var time = max(Date().timeIntervalSince1970, lastStamp + 0.000001)
        var path = settings.dir + "/awsgw-\(AuditLog.fileStamp(time)).jsonl.gz"
        while FileManager.default.fileExists(atPath: path) {
            time += 0.000001
            path = settings.dir + "/awsgw-\(AuditLog.fileStamp(time)).jsonl.gz"
        }
        lastStamp = time
        writer = try GzipFileWriter(path: path)
        fileOpened = Date()
        // Keep only the newest `keep` files, this one included.
        let all = AuditLog.logFiles(in: settings.dir)
        if all.count > settings.keep {
            for old in all.prefix(all.count - settings.keep) { try? FileManager.default.removeItem(atPath: old) }
        }
    }

    /// `20261123T074800.123456Z`: fixed width, so names sort in time order.
    static func fileStamp(_ seconds: Double) -> String {
        let micros = Int64((seconds * 1_000_000).rounded())
        let t = Timestamp(seconds: micros / 1_000_000, microseconds: Int(micros % 1_000_000))
        let fraction = String(t.microseconds)
        return String(t.amzDate.dropLast()) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }
}
