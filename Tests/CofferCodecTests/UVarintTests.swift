import CofferCodec
import Testing

/// uvarints (§1) are read through an entry's `created` field, which takes any 64-bit value,
/// and through counts, which the decoder checks first.
@Suite struct UVarintTests {
    static func file(created: [UInt8]) -> [UInt8] {
        var raw = RawFile()
        raw.entries[0].created = created
        raw.entries[0].updated = uvarint(.max)
        return raw.bytes
    }

    @Test(arguments: [UInt64(0), 1, 127, 128, 300, 16_383, 16_384, 1 << 35, .max - 1, .max])
    func valuesRoundTrip(value: UInt64) throws {
        let file = try VaultDecoder.decode(Self.file(created: uvarint(value)))
        #expect(file.entries[0].created == value)
        #expect(VaultEncoder.encode(file) == Self.file(created: uvarint(value)))
    }

    @Test func largestValueTakesTenBytes() {
        #expect(uvarint(.max) == [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test(arguments: [[0x80, 0x00], [0x81, 0x00], [0xFF, 0x80, 0x00], [0x80, 0x80, 0x80, 0x00]] as [[UInt8]])
    func nonMinimalEncodingsAreRejected(encoding: [UInt8]) {
        #expect(decodeError(Self.file(created: encoding)) == .entry("integer is not minimally encoded"))
    }

    @Test(arguments: [
        [UInt8](repeating: 0xFF, count: 9) + [0x02],
        [UInt8](repeating: 0xFF, count: 9) + [0x7F],
        [UInt8](repeating: 0xFF, count: 10) + [0x01],
        [UInt8](repeating: 0x80, count: 10) + [0x01],
        [UInt8](repeating: 0xFF, count: 20),
    ])
    func valuesBeyond64BitsAreRejected(encoding: [UInt8]) {
        #expect(decodeError(Self.file(created: encoding)) == .entry("integer overflows 64 bits"))
    }

    @Test func nonMinimalCountIsRejected() {
        var raw = RawFile()
        raw.slotCount = [0x81, 0x00]
        #expect(decodeError(raw.bytes) == .malformed(part: "slots", reason: "integer is not minimally encoded"))
    }

    @Test func nonMinimalLengthIsRejected() {
        var raw = RawFile()
        raw.entries = [RawEntry("", "", "API_TOKEN")]
        let bytes = raw.bytes
        // The entry's first byte is its name length: 9, written instead as 0x89 0x00.
        let start = bytes.count - 64 - raw.entries[0].bytes.count
        #expect(bytes[start] == 9)
        let padded = Array(bytes[..<start]) + [0x89, 0x00] + bytes[(start + 1)...]
        #expect(decodeError(padded) == .malformed(part: "entry", reason: "integer is not minimally encoded"))
    }
}
