import AWSJSON
import AWSModels
import ArgumentParser
import Foundation

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Audit logs.", subcommands: [Cat.self])

    struct Cat: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prints the records of compressed audit log files as JSON lines (a file cut short by a crash too).")

        @Argument(help: "Log files (*.jsonl.gz).") var files: [String]
        @Option(help: "Only records at or after this time (ISO 8601).") var since: String?
        @Option(help: "Only records of this team.") var team: String?
        @Option(help: "Only records of this method (service.Operation).") var method: String?

        func run() throws {
            var sinceTime: Timestamp?
            if let since {
                guard let parsed = Timestamp.parse(since) else {
                    printError("awsgw: --since \(since): not a time")
                    throw ExitCode(2)
                }
                sinceTime = parsed
            }
            var failed = false
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    printError("awsgw: cannot read \(file)")
                    failed = true
                    continue
                }
                let text: [UInt8]
                do {
                    text = try Inflater.inflate(Array(data), allowTruncated: true)
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
            }
            if failed { throw ExitCode(1) }
        }
    }
}
