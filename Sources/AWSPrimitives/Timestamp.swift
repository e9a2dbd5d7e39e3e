/// A UTC instant with microsecond precision, as botocore's datetimes have.
///
/// Formatting and parsing are written out by hand (no DateFormatter): they sit on the
/// request path and must be exact and fast.
public struct Timestamp: Sendable, Hashable, Comparable {
    public var seconds: Int64
    public var microseconds: Int  // 0..<1_000_000

    public init(seconds: Int64, microseconds: Int = 0) {
        self.seconds = seconds
        self.microseconds = microseconds
    }

    /// The instants Python's `datetime` can hold (years 1 to 9999), so the only ones
    /// botocore can send or return. Anything outside is refused, never converted.
    public static let validSeconds: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    /// From epoch seconds, rounded to the microsecond as Python's `fromtimestamp` does;
    /// nil when not finite or outside `validSeconds`.
    public init?(epoch: Double) {
        guard epoch.isFinite, epoch >= Double(Timestamp.validSeconds.lowerBound),
              epoch < Double(Timestamp.validSeconds.upperBound) + 1
        else { return nil }
        var whole = epoch.rounded(.down)
        var micros = ((epoch - whole) * 1_000_000).rounded()
        if micros >= 1_000_000 {
            whole += 1
            micros -= 1_000_000
        }
        seconds = Int64(whole)
        microseconds = Int(micros)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        (a.seconds, a.microseconds) < (b.seconds, b.microseconds)
    }

    public var epochSeconds: Double {
        microseconds == 0 ? Double(seconds) : Double(seconds * 1_000_000 + Int64(microseconds)) / 1_000_000
    }

    // MARK: Civil calendar (proleptic Gregorian), after Howard Hinnant's algorithms.

    public struct Civil: Sendable {
        public var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int
    }

    public var civil: Civil {
        let days = Int(floorDiv(seconds, 86400))
        let secondOfDay = Int(seconds - Int64(days) * 86400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        // 1970-01-01 was a Thursday (weekday 4 with Sunday = 0).
        let weekday = ((days % 7) + 11) % 7
        return Civil(
            year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60,
            second: secondOfDay % 60, weekday: weekday)
    }

    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0, microseconds: Int = 0) {
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        self.seconds = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second)
        self.microseconds = microseconds
    }

    // MARK: Formatting

    /// `20150830T123600Z`, the SigV4 date-time.
    public var amzDate: String {
        let c = civil
        return DigitWriter.text { out in
            out.pad(c.year, 4); out.pad(c.month, 2); out.pad(c.day, 2); out.byte("T")
            out.pad(c.hour, 2); out.pad(c.minute, 2); out.pad(c.second, 2); out.byte("Z")
        }
    }

    /// `20150830`, the SigV4 credential-scope date.
    public var amzDay: String {
        let c = civil
        return DigitWriter.text { out in out.pad(c.year, 4); out.pad(c.month, 2); out.pad(c.day, 2) }
    }

    /// botocore's request serialization: `2015-01-25T08:00:00Z`, or with six fraction digits
    /// when there are microseconds.
    public var iso8601: String {
        DigitWriter.text { out in
            writeDateAndTime(&out)
            if microseconds > 0 { out.byte("."); out.pad(microseconds, 6) }
            out.byte("Z")
        }
    }

    /// The gateway's answer form: fractional seconds kept when present, as milliseconds
    /// when that is exact, else microseconds.
    public var iso8601Result: String {
        DigitWriter.text(writeISO8601Result)
    }

    /// The text of `iso8601Result` appended to `bytes`, without making a string.
    public func appendISO8601Result(to bytes: inout [UInt8]) {
        DigitWriter.append(to: &bytes, writeISO8601Result)
    }

    private func writeISO8601Result(_ out: inout DigitWriter) {
        writeDateAndTime(&out)
        if microseconds > 0 {
            out.byte(".")
            if microseconds % 1000 == 0 { out.pad(microseconds / 1000, 3) } else { out.pad(microseconds, 6) }
        }
        out.byte("Z")
    }

    private func writeDateAndTime(_ out: inout DigitWriter) {
        let c = civil
        out.pad(c.year, 4); out.byte("-"); out.pad(c.month, 2); out.byte("-"); out.pad(c.day, 2); out.byte("T")
        out.pad(c.hour, 2); out.byte(":"); out.pad(c.minute, 2); out.byte(":"); out.pad(c.second, 2)
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 822 as Python's `formatdate(usegmt=True)`: `Sun, 06 Nov 1994 08:49:37 GMT`.
    public var rfc822: String {
        let c = civil
        return DigitWriter.text { out in
            out.append(Timestamp.weekdays[c.weekday]); out.append(", "); out.pad(c.day, 2); out.byte(" ")
            out.append(Timestamp.months[c.month - 1]); out.byte(" "); out.pad(c.year, 4); out.byte(" ")
            out.pad(c.hour, 2); out.byte(":"); out.pad(c.minute, 2); out.byte(":"); out.pad(c.second, 2); out.append(" GMT")
        }
    }

    /// The same, as text (query strings and headers).
    public var unixString: String {
        microseconds == 0 ? String(seconds) : pythonFloatRepr(epochSeconds)
    }

    // MARK: Parsing

    /// Accepts what botocore accepts for input timestamps given as text: epoch numbers,
    /// ISO 8601 (date only, or date-time with `Z` or an offset, any fraction), RFC 822.
    /// Nil for anything else, and for instants outside `validSeconds`.
    public static func parse(_ text: String) -> Timestamp? {
        let s = text.trimmingSpaces
        if let d = Double(s), s.first != "+", !s.contains("e"), !s.contains("E"), !s.contains("n"), !s.contains("N") {
            return Timestamp(epoch: d)
        }
        guard let t = parseISO8601(s) ?? parseRFC822(s), validSeconds.contains(t.seconds) else { return nil }
        return t
    }

    static func parseISO8601(_ s: String) -> Timestamp? {
        var p = Scanner(Array(s.utf8))
        guard let year = p.digits(4), p.take(UInt8(ascii: "-")), let month = p.digits(2), p.take(UInt8(ascii: "-")),
            let day = p.digits(2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour = 0, minute = 0, second = 0, micros = 0
        if p.take(UInt8(ascii: "T")) || p.take(UInt8(ascii: "t")) || p.take(UInt8(ascii: " ")) {
            guard let h = p.digits(2), p.take(UInt8(ascii: ":")), let m = p.digits(2) else { return nil }
            hour = h
            minute = m
            if p.take(UInt8(ascii: ":")) {
                guard let sec = p.digits(2) else { return nil }
                second = sec
                if p.take(UInt8(ascii: ".")) || p.take(UInt8(ascii: ",")) {
                    var digits = 0
                    var value = 0
                    while let d = p.digit() {
                        if digits < 6 {
                            value = value * 10 + d
                            digits += 1
                        }
                    }
                    guard digits > 0 else { return nil }
                    for _ in digits..<6 { value *= 10 }
                    micros = value
                }
            }
            guard hour < 24, minute < 60, second < 61 else { return nil }
        }
        var offset = 0
        if p.take(UInt8(ascii: "Z")) || p.take(UInt8(ascii: "z")) {
        } else if let sign = p.peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            p.index += 1
            guard let oh = p.digits(2) else { return nil }
            _ = p.take(UInt8(ascii: ":"))
            let om = p.digits(2) ?? 0
            offset = (oh * 3600 + om * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        }
        guard p.atEnd else { return nil }
        var t = Timestamp(year: year, month: month, day: day, hour: hour, minute: minute, second: second, microseconds: micros)
        t.seconds -= Int64(offset)
        return t
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` (the weekday optional).
    static func parseRFC822(_ s: String) -> Timestamp? {
        var parts = s.split(separator: " ").map(String.init)
        if let first = parts.first, first.hasSuffix(",") { parts.removeFirst() }
        guard parts.count >= 4, let day = Int(parts[0]), (1...31).contains(day),
            let monthIndex = months.firstIndex(where: { $0.lowercased() == parts[1].lowercased() }),
            let year = Int(parts[2]), (1...9999).contains(year)
        else { return nil }
        let time = parts[3].split(separator: ":").compactMap { Int($0) }
        guard time.count >= 2, (0..<24).contains(time[0]), (0..<60).contains(time[1]),
              time.count < 3 || (0..<61).contains(time[2])
        else { return nil }
        if parts.count > 4, !["GMT", "UTC", "Z", "+0000"].contains(parts[4].uppercased()) { return nil }
        return Timestamp(
            year: year, month: monthIndex + 1, day: day, hour: time[0], minute: time[1], second: time.count > 2 ? time[2] : 0)
    }
}

private struct Scanner {
    let bytes: [UInt8]
    var index = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var atEnd: Bool { index == bytes.count }
    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }
    mutating func take(_ byte: UInt8) -> Bool {
        if peek() == byte {
            index += 1
            return true
        }
        return false
    }
    mutating func digit() -> Int? {
        guard let b = peek(), b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
        index += 1
        return Int(b - UInt8(ascii: "0"))
    }
    mutating func digits(_ count: Int) -> Int? {
        var value = 0
        for _ in 0..<count {
            guard let d = digit() else { return nil }
            value = value * 10 + d
        }
        return value
    }
}

@inline(__always)
private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// ASCII text built from zero-padded numbers and separators: timestamps are formatted for
/// every signed request, audit record and timestamp in an answer, so into a buffer on the
/// stack, copied out once (not `String` concatenation, nor an array append per byte).
struct DigitWriter {
    /// Room for any timestamp text (the longest, RFC 822 or ISO 8601 with microseconds
    /// and a 19-digit year, is under 64 bytes).
    private static let capacity = 64
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private var count = 0

    private init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    /// What `body` writes, as a string.
    static func text(_ body: (inout DigitWriter) -> Void) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var out = DigitWriter(buffer)
            body(&out)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<out.count]), as: UTF8.self)
        }
    }

    /// What `body` writes, appended to `bytes`.
    static func append(to bytes: inout [UInt8], _ body: (inout DigitWriter) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var out = DigitWriter(buffer)
            body(&out)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<out.count]))
        }
    }

    /// `value` in decimal, zero-padded to `width` digits; a negative value as Swift
    /// writes it, unpadded (timestamps never have one).
    mutating func pad(_ value: Int, _ width: Int) {
        guard value >= 0 else { return append(String(value)) }
        var digits = 1
        var rest = value
        while rest >= 10 { rest /= 10; digits += 1 }
        let total = Swift.max(digits, width)
        var remaining = value
        for index in stride(from: count + total - 1, through: count, by: -1) {
            buffer[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
        }
        count += total
    }

    mutating func byte(_ character: Unicode.Scalar) {
        buffer[count] = UInt8(ascii: character)
        count += 1
    }

    mutating func append(_ piece: String) {
        for byte in piece.utf8 {
            buffer[count] = byte
            count += 1
        }
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    public var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" && $0 != "\n" && $0 != "\r" }) else { return "" }
        let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" && $0 != "\n" && $0 != "\r" })!
        return String(scalars[start...end])
    }
}
