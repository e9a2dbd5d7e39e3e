import AWSJSON
import AWSModels
import ArgumentParser
import Foundation

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Audit logs.", subcommands: [Cat.self])

    struct Cat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prints the records of compressed audit log files as JSON lines (a file cut short by a crash too).")

        @Argument(help: "Log files (*.jsonl.gz), or folders whose *.jsonl.gz files are read in time order.") var files: [String]
        @Option(help: "Only records at or after this time: RFC 3339 (2026-11-30T10:00:00Z) or a duration back from now (15m, 2h, 1d).")
        var since: String?
        @Option(help: "Only records of this team.") var team: String?
        @Option(help: "Only records of this method (service.Operation).") var method: String?

        func run() throws {
            var sinceTime: Timestamp?
            if let since {
                guard let parsed = Cat.parseSince(since, now: Date().timeIntervalSince1970) else {
                    printError("awsgw: --since \(since): expected an RFC 3339 time (2026-11-30T10:00:00Z) or a duration (15m, 2h, 1d)")
                    throw ExitCode(2)
                }
                sinceTime = parsed
            }
            var failed = false
            for file in Cat.expand(files) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    printError("awsgw: cannot read \(file)")
                    failed = true
                    continue
                }
                let text: [UInt8]
                let complete: Bool
                do {
                    (text, complete) = try Inflater.inflateReportingEnd(Array(data), allowTruncated: true)
                } catch {
                    printError("awsgw: \(file): \(error)")
                    failed = true
                    continue
                }
                for line in text.split(separator: UInt8(ascii: "\n")) {
                    // A last line cut mid-record is skipped.
                    guard let record = try? JSON.parse(Array(line)) else { continue }
                    if let team, record["team"]?.stringValue != team { continue }
                    if let method, record["method"]?.stringValue != method { continue }
                    if let sinceTime {
                        guard let time = record["time"]?.stringValue.flatMap(Timestamp.parse), time >= sinceTime else { continue }
                    }
                    printNow(record.serializedString())
                }
                // The file being written, or one left by a crash: its records are good, but
                // the last second's may be missing.
                if !complete {
                    printError("awsgw: warning: \(file) ends early (still being written, or cut short by a crash); the records above are all it holds")
                }
            }
            if failed { throw ExitCode(1) }
        }

        /// Files as given; a folder stands for its `*.jsonl.gz` files, oldest first (their
        /// names sort in time order).
        static func expand(_ paths: [String]) -> [String] {
            paths.flatMap { path -> [String] in
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                return names.filter { $0.hasSuffix(".jsonl.gz") }.sorted().map { (path as NSString).appendingPathComponent($0) }
            }
        }

        /// RFC 3339 / ISO 8601, or `N` + `s|m|h|d` back from now.
        static func parseSince(_ text: String, now: Double) -> Timestamp? {
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
            if let unit = text.last, let factor = units[unit], let n = Double(text.dropLast()), n >= 0, n.isFinite, n * factor < 1e10 {
                return Timestamp(epoch: now - n * factor)
            }
            guard text.contains("-") else { return nil }
            return Timestamp.parse(text)
        }
    }
}
