import AWSJSON
@testable import AWSProtocols
import Testing

@Suite("CBOR decoder and writer")
struct CBORTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test("RFC 8949 appendix A examples decode to their values", arguments: [
        ("00", CBORValue.unsigned(0)), ("17", .unsigned(23)), ("1818", .unsigned(24)), ("1903e8", .unsigned(1000)),
        ("1b000000e8d4a51000", .unsigned(1_000_000_000_000)), ("1bffffffffffffffff", .unsigned(UInt64.max)),
        ("20", .negative(0)), ("3863", .negative(99)), ("f90000", .float(0)), ("f93c00", .float(1)), ("f97bff", .float(65504)),
        ("fa47c35000", .float(100_000)), ("fb3ff199999999999a", .float(1.1)), ("f97c00", .float(.infinity)), ("f9fc00", .float(-.infinity)),
        ("f4", .bool(false)), ("f5", .bool(true)), ("f6", .null), ("f7", .undefined),
        ("c11a514b67b0", .tag(1, .unsigned(1_363_896_240))), ("4401020304", .bytes([1, 2, 3, 4])), ("6449455446", .text("IETF")),
        ("62c3bc", .text("ü")), ("83010203", .array([.unsigned(1), .unsigned(2), .unsigned(3)])),
        ("a201020304", .map([(.unsigned(1), .unsigned(2)), (.unsigned(3), .unsigned(4))])),
        ("5f42010243030405ff", .bytes([1, 2, 3, 4, 5])), ("7f657374726561646d696e67ff", .text("streaming")),
        ("9f018202039f0405ffff", .array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])])),
        ("bf61610161629f0203ffff", .map([(.text("a"), .unsigned(1)), (.text("b"), .array([.unsigned(2), .unsigned(3)]))])),
    ])
    func appendixA(_ c: (String, CBORValue)) throws {
        #expect(try CBORDecoder.decode(Self.bytes(c.0)) == c.1)
    }

    @Test("malformed items are errors with an offset, never a crash", arguments: [
        "", "18", "1c", "5f01ff", "7f4100ff", "62c3", "9f01", "bf01ff", "ff", "a1", "0000", "5b00000000ffffffff", "9b7fffffffffffffff",
        "62ff41", String(repeating: "81", count: 300) + "00",
    ])
    func malformed(_ hex: String) {
        #expect(throws: CBORError.self) { _ = try CBORDecoder.decode(Self.bytes(hex)) }
    }

    @Test("random and truncated inputs never crash the decoder")
    func randomInputs() {
        var generator = SystemRandomNumberGenerator()
        let valid = Self.bytes("bf61610161629f0203ffff")
        for length in 0..<valid.count { _ = try? CBORDecoder.decode(Array(valid.prefix(length))) }
        for _ in 0..<50_000 {
            let count = Int.random(in: 0...24, using: &generator)
            _ = try? CBORDecoder.decode((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
    }

    @Test("the writer uses the shortest heads and the float widths botocore writes")
    func writer() {
        var writer = CBORWriter()
        writer.integer(23); writer.integer(24); writer.integer(70_000); writer.integer(-1); writer.integer(-1000)
        writer.text("é"); writer.blob([1]); writer.bool(true)
        writer.double(1.5, single: true); writer.double(1.5, single: false); writer.double(.nan, single: false)
        #expect(writer.bytes == Self.bytes("171818" + "1a00011170" + "20" + "3903e7" + "62c3a9" + "4101" + "f5" + "fa3fc00000" + "fb3ff8000000000000" + "f97e00"))
    }
}
