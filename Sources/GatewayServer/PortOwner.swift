import Foundation

/// Which process listens on a TCP port, read from /proc as `ss -ltnp` reads it: the
/// listening socket's inode from /proc/net/tcp{,6}, then the process holding that socket.
/// Processes of other users are invisible to an unprivileged reader: nil then.
enum PortOwner {
    static func describe(port: Int) -> String? {
        guard let inode = listeningInode(port: port), let pid = pid(holding: inode) else { return nil }
        let name = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return name.map { "pid \(pid), \($0)" } ?? "pid \(pid)"
    }

    /// The inode of a socket listening on `port` (state 0A), IPv4 or IPv6.
    static func listeningInode(port: Int) -> String? {
        let hexPort = String(format: "%04X", port)
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // Read to the end: /proc files report no size, and String(contentsOfFile:) stops
            // after the first page of a long table.
            guard let handle = FileHandle(forReadingAtPath: table) else { continue }
            let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
            try? handle.close()
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
                guard fields.count > 9, fields[1].hasSuffix(":" + hexPort), fields[3] == "0A" else { continue }
                return String(fields[9])
            }
        }
        return nil
    }

    static func pid(holding inode: String) -> Int? {
        let target = "socket:[\(inode)]"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int(entry), let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { continue }
            for fd in fds where (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) == target {
                return pid
            }
        }
        return nil
    }
}
