@_exported import AWSPrimitives

extension Timestamp {
    /// botocore's `unixtimestamp`: an integer, or a float with the microseconds.
    public var unixJSON: JSON {
        microseconds == 0 ? .int(seconds) : .double(epochSeconds)
    }

    /// Accepts what botocore accepts for input timestamps: epoch numbers (also as strings),
    /// ISO 8601 (date only, or date-time with `Z` or an offset, any fraction), RFC 822.
    /// Nil for anything else, and for instants outside `validSeconds`.
    public static func parse(_ value: JSON) -> Timestamp? {
        switch value.resolved {
        case .int(let i): return validSeconds.contains(i) ? Timestamp(seconds: i) : nil
        case .double(let d): return Timestamp(epoch: d)
        case .string(let s): return parse(s)
        default: return nil
        }
    }
}
