import AWSPrimitives
import NIOCore

/// A small HTTP/1.1 codec for both ends of a call: the gateway's listeners read requests
/// and write answers with it, the upstream client writes requests to AWS and reads its
/// answers. One buffer is written per message and a message is read straight from the
/// socket's bytes, instead of going through a chain of NIO's HTTP handlers (decoder,
/// encoder, header validators, pipelining) per part: that chain cost more per call than
/// building and signing the request. The parsing is strict (RFC 9112): CRLF line ends,
/// no obsolete line folding, no whitespace before a colon, one Content-Length,
/// Transfer-Encoding only `chunked` and never beside a Content-Length.

/// A message head as it arrived: the start line's parts and the header fields in order,
/// names as sent.
package struct HTTP1Head {
    /// A request's method and target.
    package var method = ""
    package var target = ""
    /// A response's status code.
    package var status = 0
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    package var minorVersion = 1
    package var headers: [(name: String, value: String)] = []

    /// The fields the codec and the listener act on, noted while the head is parsed so
    /// that none is looked up by name per request: index of the first (-1 when absent)
    /// and how many there were.
    package var contentLengthIndex = -1
    package var contentLengthFields = 0
    package var transferEncodingFields = 0
    package var hostIndex = -1
    package var hostFields = 0
    package var hasOrigin = false
    package var authorizationIndex = -1
    /// `Connection: close` / `keep-alive`, `Expect: 100-continue`.
    package var closeRequested = false
    package var keepAliveRequested = false
    package var expectsContinue = false
    /// `Accept` names server-sent events or NDJSON: the caller takes messages before the answer.
    package var acceptsEventStream = false
    package var acceptsNDJSON = false

    package func value(at index: Int) -> String? { index >= 0 ? headers[index].value : nil }

    /// Whether the connection stays open after this message (RFC 9112 §9.3).
    package var keepAlive: Bool { minorVersion >= 1 ? !closeRequested : keepAliveRequested }

    /// Adds a field, noting it if it is one of those acted on. Other fields are kept only
    /// when `keepAll` (an answer from AWS, whose parser reads any header); a request's are
    /// checked and dropped, so no strings are made for them.
    package mutating func append(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, keepAll: Bool) {
        let index = headers.count
        var known = true
        switch name.count {
        case 4 where HTTP1.nameIs(name, "host"):
            if hostIndex < 0 { hostIndex = index }
            hostFields += 1
        case 6 where HTTP1.nameIs(name, "origin"):
            hasOrigin = true
        case 6 where HTTP1.nameIs(name, "expect"):
            if HTTP1.tokens(value, contain: "100-continue") { expectsContinue = true }
        case 6 where HTTP1.nameIs(name, "accept"):
            if HTTP1.tokens(value, contain: "text/event-stream", ignoringParameters: true) { acceptsEventStream = true }
            if HTTP1.tokens(value, contain: "application/x-ndjson", ignoringParameters: true) { acceptsNDJSON = true }
        case 10 where HTTP1.nameIs(name, "connection"):
            if HTTP1.tokens(value, contain: "close") { closeRequested = true }
            if HTTP1.tokens(value, contain: "keep-alive") { keepAliveRequested = true }
        case 13 where HTTP1.nameIs(name, "authorization"):
            if authorizationIndex < 0 { authorizationIndex = index }
        case 14 where HTTP1.nameIs(name, "content-length"):
            if contentLengthIndex < 0 { contentLengthIndex = index }
            contentLengthFields += 1
        case 17 where HTTP1.nameIs(name, "transfer-encoding"):
            transferEncodingFields += 1
        default:
            known = false
        }
        if known || keepAll {
            // An answer from AWS has a dozen fields or so: room for them once, not by doubling.
            if headers.isEmpty { headers.reserveCapacity(keepAll ? 16 : 4) }
            headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
    }
}

/// A whole message: its head and its body (de-chunked).
package struct HTTP1Message {
    package var head: HTTP1Head
    package var body: ByteBuffer
    package var keepAlive: Bool
}

package enum HTTP1Error: Error, Equatable {
    /// Not HTTP/1.1 as RFC 9112 spells it: answered 400.
    case malformed(String)
    /// The head is over the limit: answered 431.
    case headTooLarge
    /// HTTP/2.0, HTTP/9.9: answered 505.
    case unsupportedVersion
    /// The body is over the limit: answered 413 (or a response refused).
    case bodyTooLarge(declared: Int?)
}

/// Reads messages from a connection's bytes, one at a time, as they complete.
package struct HTTP1Parser {
    package enum Kind { case request, response }

    package let kind: Kind
    package let maxHeadBytes: Int
    package let maxBodyBytes: Int
    /// The response being read answers a HEAD request, so it has no body.
    package var answersHead = false
    /// Asked at each head whether its body is streamed: its pieces are then taken with
    /// `takePieces` as they arrive, not gathered, and not bounded by `maxBodyBytes`.
    package var decideStreaming: ((HTTP1Head) -> Bool)?
    /// Whether the body being read is streamed.
    package private(set) var streamsBody = false
    private var pieces: [ByteBuffer] = []

    /// The head of the message whose body is still arriving.
    package private(set) var head: HTTP1Head?
    private var keepAlive = true
    private var framing = Framing.length(0)
    private var body: ByteBuffer?
    private var bodyBytes = 0
    /// How far the buffer was searched for the head's end, so a trickled head is not
    /// searched again from its start on every read.
    private var searched = 0
    private var trailerBytes = 0

    private enum Framing {
        case length(Int)
        case chunkSize
        case chunkData(Int)
        case chunkEnd
        case trailer
        case untilClose
    }

    package init(kind: Kind, maxHeadBytes: Int = 80 * 1024, maxBodyBytes: Int) {
        self.kind = kind
        self.maxHeadBytes = maxHeadBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Whether bytes of a message have been read and the message is not complete yet.
    package var inMessage: Bool { head != nil }

    /// The next complete message at the front of `buffer`, taken from it; nil when more
    /// bytes are needed (what was read so far is kept, here or in `buffer`).
    package mutating func next(_ buffer: inout ByteBuffer) throws(HTTP1Error) -> HTTP1Message? {
        while true {
            if head == nil {
                guard try readHead(&buffer) else { return nil }
                if head == nil { continue }  // an interim 1xx answer, skipped
            }
            guard try readBody(&buffer) else { return nil }
            return finish()
        }
    }

    /// The peer closed the connection: an answer delimited by the close is complete;
    /// any other message cut short is an error.
    package mutating func end() throws(HTTP1Error) -> HTTP1Message? {
        guard head != nil else { return nil }
        guard case .untilClose = framing else { throw .malformed("connection closed in the middle of a message") }
        return finish()
    }

    private mutating func finish() -> HTTP1Message {
        let message = HTTP1Message(head: head!, body: body ?? ByteBuffer(), keepAlive: keepAlive)
        head = nil
        streamsBody = false
        body = nil
        bodyBytes = 0
        trailerBytes = 0
        framing = .length(0)
        return message
    }

    // MARK: head

    /// Reads a head when its blank line has arrived; false when more bytes are needed.
    private mutating func readHead(_ buffer: inout ByteBuffer) throws(HTTP1Error) -> Bool {
        if kind == .request {
            // A client may send empty lines between requests (RFC 9112 §2.2).
            while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
                buffer.moveReaderIndex(forwardBy: 2)
                searched = 0
            }
        }
        let end: Int? = buffer.withUnsafeReadableBytes { bytes in
            var index = max(searched, 3)
            while index < bytes.count {
                if bytes[index] == 0x0A && bytes[index - 1] == 0x0D && bytes[index - 2] == 0x0A && bytes[index - 3] == 0x0D {
                    return index - 3
                }
                index += 1
            }
            return nil
        }
        guard let end else {
            searched = buffer.readableBytes
            if searched > maxHeadBytes { throw .headTooLarge }
            return false
        }
        searched = 0
        if end + 4 > maxHeadBytes { throw .headTooLarge }
        let parsed = try buffer.withUnsafeReadableBytes { bytes throws(HTTP1Error) in
            try parseHead(UnsafeRawBufferPointer(rebasing: bytes[..<end]))
        }
        buffer.moveReaderIndex(forwardBy: end + 4)
        if kind == .response && (100..<200).contains(parsed.status) {
            return true  // 100 Continue and the like: the answer follows
        }
        streamsBody = decideStreaming?(parsed) ?? false
        try frame(parsed)
        head = parsed
        return true
    }

    /// The pieces of a streamed body read so far, taken.
    package mutating func takePieces() -> [ByteBuffer] {
        defer { pieces.removeAll(keepingCapacity: true) }
        return pieces
    }

    private func parseHead(_ bytes: UnsafeRawBufferPointer) throws(HTTP1Error) -> HTTP1Head {
        var head = HTTP1Head()
        var lineStart = 0
        var first = true
        while lineStart <= bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && !(bytes[lineEnd] == 0x0D && lineEnd + 1 < bytes.count && bytes[lineEnd + 1] == 0x0A) {
                lineEnd += 1
            }
            let line = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            if first {
                try kind == .request ? parseRequestLine(line, into: &head) : parseStatusLine(line, into: &head)
                first = false
            } else {
                try parseField(line, into: &head)
            }
            lineStart = lineEnd + 2
        }
        return head
    }

    private func parseRequestLine(_ line: UnsafeRawBufferPointer, into head: inout HTTP1Head) throws(HTTP1Error) {
        guard let space = line.firstIndex(of: 0x20), space > 0, line[..<space].allSatisfy(HTTP1.isTokenByte) else {
            throw .malformed("invalid request line")
        }
        let rest = line[(space + 1)...]
        guard let targetEnd = rest.firstIndex(of: 0x20), targetEnd > rest.startIndex,
              rest[..<targetEnd].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .malformed("invalid request line")
        }
        head.minorVersion = try HTTP1.version(UnsafeRawBufferPointer(rebasing: line[(targetEnd + 1)...]))
        head.method = String(decoding: UnsafeRawBufferPointer(rebasing: line[..<space]), as: UTF8.self)
        head.target = String(decoding: UnsafeRawBufferPointer(rebasing: rest[..<targetEnd]), as: UTF8.self)
    }

    private func parseStatusLine(_ line: UnsafeRawBufferPointer, into head: inout HTTP1Head) throws(HTTP1Error) {
        guard line.count >= 12, line[8] == 0x20, (line.count == 12 || line[12] == 0x20) else { throw .malformed("invalid status line") }
        head.minorVersion = try HTTP1.version(UnsafeRawBufferPointer(rebasing: line[..<8]))
        var status = 0
        for byte in line[9..<12] {
            guard byte >= 0x30 && byte <= 0x39 else { throw .malformed("invalid status code") }
            status = status * 10 + Int(byte - 0x30)
        }
        head.status = status
    }

    private func parseField(_ line: UnsafeRawBufferPointer, into head: inout HTTP1Head) throws(HTTP1Error) {
        guard let colon = line.firstIndex(of: 0x3A) else {
            throw .malformed(line.first == 0x20 || line.first == 0x09 ? "obsolete line folding" : "header line without a colon")
        }
        guard colon > 0, line[..<colon].allSatisfy(HTTP1.isTokenByte) else { throw .malformed("invalid header name") }
        var start = colon + 1
        var end = line.count
        while start < end && (line[start] == 0x20 || line[start] == 0x09) { start += 1 }
        while end > start && (line[end - 1] == 0x20 || line[end - 1] == 0x09) { end -= 1 }
        for byte in line[start..<end] where byte < 0x20 && byte != 0x09 || byte == 0x7F {
            throw .malformed("invalid character in a header value")
        }
        head.append(name: UnsafeRawBufferPointer(rebasing: line[..<colon]), value: UnsafeRawBufferPointer(rebasing: line[start..<end]),
                    keepAll: kind == .response)
    }

    /// How the body after `head` is delimited (RFC 9112 §6.3).
    private mutating func frame(_ head: HTTP1Head) throws(HTTP1Error) {
        keepAlive = head.keepAlive
        let lengths = head.contentLengthFields
        if kind == .response && (answersHead || head.status == 204 || head.status == 304) {
            framing = .length(0)
            return
        }
        if head.transferEncodingFields > 0 {
            if lengths > 0 { throw .malformed("both Content-Length and Transfer-Encoding") }
            let codings = head.headers.filter { $0.name.equalsIgnoringASCIICase("transfer-encoding") }.map(\.value)
            let joined = codings.joined(separator: ",").split(separator: ",").map { String($0).trimmingSpaces.lowercased() }
            guard joined.last == "chunked" else {
                // A response without chunked last is delimited by the close; a request cannot be.
                guard kind == .response else { throw .malformed("unsupported Transfer-Encoding") }
                framing = .untilClose
                keepAlive = false
                return
            }
            guard joined.count == 1 else { throw .malformed("unsupported Transfer-Encoding") }
            framing = .chunkSize
            return
        }
        if lengths > 1 { throw .malformed("more than one Content-Length") }
        if let text = head.value(at: head.contentLengthIndex) {
            guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(text) else {
                throw .malformed("invalid Content-Length")
            }
            if length > maxBodyBytes && !streamsBody { throw .bodyTooLarge(declared: length) }
            framing = .length(length)
            return
        }
        if kind == .request {
            framing = .length(0)
        } else {
            framing = .untilClose
            keepAlive = false
        }
    }

    // MARK: body

    /// Reads what has arrived of the body; true once it is complete.
    private mutating func readBody(_ buffer: inout ByteBuffer) throws(HTTP1Error) -> Bool {
        while true {
            switch framing {
            case .length(let remaining):
                if remaining == 0 { return true }
                if body == nil && !streamsBody && buffer.readableBytes >= remaining {
                    body = buffer.readSlice(length: remaining)  // the whole body in this read: no copy
                    framing = .length(0)
                    return true
                }
                let taken = try take(&buffer, upTo: remaining)
                framing = .length(remaining - taken)
                if remaining - taken > 0 { return false }
            case .untilClose:
                _ = try take(&buffer, upTo: buffer.readableBytes)
                return false
            case .chunkSize:
                guard let line = try chunkLine(&buffer) else { return false }
                let size = try HTTP1.chunkSize(line)
                if bodyBytes + size > maxBodyBytes && !streamsBody { throw .bodyTooLarge(declared: nil) }
                framing = size == 0 ? .trailer : .chunkData(size)
            case .chunkData(let remaining):
                let taken = try take(&buffer, upTo: remaining)
                framing = remaining - taken == 0 ? .chunkEnd : .chunkData(remaining - taken)
                if remaining - taken > 0 { return false }
            case .chunkEnd:
                guard buffer.readableBytes >= 2 else { return false }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw .malformed("chunk not followed by CRLF") }
                framing = .chunkSize
            case .trailer:
                guard let line = try chunkLine(&buffer) else { return false }
                if line.readableBytes == 0 { return true }
                trailerBytes += line.readableBytes + 2
                if trailerBytes > maxHeadBytes { throw .headTooLarge }
            }
        }
    }

    /// Moves up to `limit` body bytes from `buffer` to the body; how many it moved.
    private mutating func take(_ buffer: inout ByteBuffer, upTo limit: Int) throws(HTTP1Error) -> Int {
        let count = min(limit, buffer.readableBytes)
        if count == 0 { return 0 }
        if streamsBody {
            pieces.append(buffer.readSlice(length: count)!)
            return count
        }
        if bodyBytes + count > maxBodyBytes { throw .bodyTooLarge(declared: nil) }
        var slice = buffer.readSlice(length: count)!
        if body == nil { body = ByteBufferAllocator().buffer(capacity: min(max(limit, count), 64 * 1024)) }
        body!.writeBuffer(&slice)
        bodyBytes += count
        return count
    }

    /// A chunk-size or trailer line without its CRLF, once whole.
    private func chunkLine(_ buffer: inout ByteBuffer) throws(HTTP1Error) -> ByteBuffer? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: 0x0A) else {
            if buffer.readableBytes > 4096 { throw .malformed("chunk line too long") }
            return nil
        }
        let length = newline - view.startIndex
        guard length >= 1, view[newline - 1] == 0x0D else { throw .malformed("chunk line not ended by CRLF") }
        let line = buffer.readSlice(length: length - 1)!
        buffer.moveReaderIndex(forwardBy: 2)
        return line
    }
}

package enum HTTP1 {
    /// RFC 9110 tchar.
    package static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// A header name as it arrived is `lower` (given in lower case), without case.
    package static func nameIs(_ name: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard name.count == lower.utf8CodeUnitCount else { return false }
        let expected = lower.utf8Start
        for index in 0..<name.count where ASCIICase.lowercased(name[index]) != expected[index] { return false }
        return true
    }

    /// Whether a comma-separated value (Connection, Expect) lists `token`, without case.
    /// `ignoringParameters`: a media type's `;q=0.9` and the like are not part of it.
    package static func tokens(_ value: UnsafeRawBufferPointer, contain token: StaticString, ignoringParameters: Bool = false) -> Bool {
        // Item by item in place (`split` made an array of them for every field).
        var start = value.startIndex
        while start <= value.endIndex {
            let end = value[start...].firstIndex(of: UInt8(ascii: ",")) ?? value.endIndex
            var part = value[start..<end]
            if ignoringParameters, let semicolon = part.firstIndex(of: UInt8(ascii: ";")) { part = part[..<semicolon] }
            while let first = part.first, first == 0x20 || first == 0x09 { part = part.dropFirst() }
            while let last = part.last, last == 0x20 || last == 0x09 { part = part.dropLast() }
            if nameIs(UnsafeRawBufferPointer(rebasing: part), token) { return true }
            start = end + 1
        }
        return false
    }

    /// `HTTP/1.0` → 0, `HTTP/1.1` → 1; another version is refused.
    package static func version(_ bytes: UnsafeRawBufferPointer) throws(HTTP1Error) -> Int {
        guard bytes.count == 8, bytes.starts(with: "HTTP/".utf8), bytes[6] == UInt8(ascii: "."),
              (0x30...0x39).contains(bytes[5]), (0x30...0x39).contains(bytes[7]) else {
            throw .malformed("invalid HTTP version")
        }
        guard bytes[5] == UInt8(ascii: "1"), bytes[7] <= UInt8(ascii: "1") else { throw .unsupportedVersion }
        return Int(bytes[7] - 0x30)
    }

    /// A chunk-size line: hex digits, then any chunk extension (ignored).
    package static func chunkSize(_ line: ByteBuffer) throws(HTTP1Error) -> Int {
        var size = 0
        var digits = 0
        for byte in line.readableBytesView {
            let value: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - 0x30)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - 0x61 + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - 0x41 + 10)
            case UInt8(ascii: ";"), 0x20, 0x09:
                guard digits > 0 else { throw .malformed("invalid chunk size") }
                return size
            default:
                throw .malformed("invalid chunk size")
            }
            digits += 1
            if digits > 15 { throw .malformed("chunk size too large") }
            size = size * 16 + value
        }
        guard digits > 0 else { throw .malformed("invalid chunk size") }
        return size
    }

    /// Whether a method or header name is a token, and a byte may stand in a header
    /// value as it is: nothing written may split or end the head (no CR, LF or NUL).
    package static func isWritableName(_ name: String) -> Bool { !name.isEmpty && name.utf8.allSatisfy(isTokenByte) }
    package static func isValueByte(_ byte: UInt8) -> Bool { byte >= 0x20 && byte != 0x7F || byte == 0x09 }
}

extension ByteBuffer {
    /// `Name: value\r\n`.
    package mutating func writeHTTPHeader(_ name: String, _ value: String) {
        writeString(name)
        writeStaticString(": ")
        writeString(value)
        writeStaticString("\r\n")
    }
}
