import AWSJSON
import AWSModels
import Foundation

package func tempDir(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("awsgw-\(name)-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Every record in a log folder, read with the same lenient reader as `awsgw logs cat`.
package func readRecords(_ dir: String) throws -> [JSON] {
    var records: [JSON] = []
    for file in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() where file.hasSuffix(".jsonl.gz") {
        let text = try Inflater.inflate(Array(FileManager.default.contents(atPath: dir + "/" + file)!), allowTruncated: true)
        for line in text.split(separator: UInt8(ascii: "\n")) { if let record = try? JSON.parse(Array(line)) { records.append(record) } }
    }
    return records
}

package func gzipTest(_ path: String) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-t", path]
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}
