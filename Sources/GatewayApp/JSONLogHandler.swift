import AWSJSON
import Foundation
import Logging

/// Operational log lines as JSON objects on standard error (`log_format: json`).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let (level, message, explicit) = (event.level, event.message, event.metadata)
        let now = Date().timeIntervalSince1970
        let time = Timestamp(seconds: Int64(now.rounded(.down)), microseconds: Int((now - now.rounded(.down)) * 1000) * 1000)
        var object = JSONObject([("time", .string(time.iso8601Result)), ("level", .string(level.rawValue)), ("logger", .string(label)),
                                 ("message", .string(message.description))])
        for (key, value) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }) {
            object.append(key, .string("\(value)"))
        }
        var bytes = JSON.object(object).serialized()
        bytes.append(UInt8(ascii: "\n"))
        FileHandle.standardError.write(Data(bytes))
    }
}
