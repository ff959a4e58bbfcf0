import CofferCodec
import Testing

/// Versions, extensions, slot kinds and flag bits (§2.1–2.3, §2.5): what a 1.0 reader skips and what it refuses.
@Suite struct CompatibilityTests {
    @Test(arguments: [UInt8(0), 2, 255])
    func majorOtherThanOneIsRejected(major: UInt8) {
        var raw = RawFile()
        raw.major = major
        raw.minor = 3
        #expect(decodeError(raw.bytes) == .unsupportedVersion(major: Int(major), minor: 3))
    }

    @Test func majorIsCheckedBeforeAnythingElse() {
        #expect(decodeError(RawFile().magic + [2, 0]) == .unsupportedVersion(major: 2, minor: 0))
    }

    @Test(arguments: [UInt8(1), 9, 255])
    func anyMinorIsRead(minor: UInt8) throws {
        var raw = RawFile()
        raw.minor = minor
        let file = try VaultDecoder.decode(raw.bytes)
        #expect(file.minor == minor)
        #expect(VaultEncoder.encode(file) == raw.bytes)
    }

    // MARK: Extensions

    /// Puts `list` in the header, the slot or the first entry.
    static func file(extensions list: [UInt8], in place: String) -> [UInt8] {
        var raw = RawFile()
        switch place {
        case "header": raw.extensions = list
        case "slot": raw.slots[0].extensions = list
        default: raw.entries[0].extensions = list
        }
        return raw.bytes
    }

    static let places = [("header", "header"), ("slot", "slot 01020304"), ("entry", "entry global/API_TOKEN")]

    @Test(arguments: places.map(\.0))
    func optionalExtensionsAreSkipped(place: String) throws {
        let list = extensions([(0, []), (4, ascii("hello")), (1 << 40, [UInt8](repeating: 9, count: 65_536))])
        let file = try VaultDecoder.decode(Self.file(extensions: list, in: place))
        #expect(VaultEncoder.encode(file) == RawFile().bytes, "a writer drops what it skipped")
    }

    // MARK: The passphrase slot authenticator (1.1, slot extension tag 2)

    @Test func authenticatorIsKeptAndWrittenBack() throws {
        let authenticator = [UInt8](repeating: 7, count: 32)
        let bytes = Self.file(extensions: extensions([(0, []), (2, authenticator)]), in: "slot")
        let file = try VaultDecoder.decode(bytes)
        #expect(file.slots[0].authenticator == authenticator)
        #expect(VaultEncoder.encode(file) == Self.file(extensions: extensions([(2, authenticator)]), in: "slot"))
    }

    @Test func authenticatorOfTheWrongLengthOrOnARecipientSlotIsRejected() {
        for count in [0, 31, 33] {
            #expect(decodeError(Self.file(extensions: extensions([(2, [UInt8](repeating: 7, count: count))]), in: "slot"))
                == .malformed(part: "slot 01020304", reason: "authenticator has the wrong length"))
        }
        var raw = RawFile()
        raw.slots[0].kind = 2
        raw.slots[0].extensions = extensions([(2, [UInt8](repeating: 7, count: 32))])
        #expect(decodeError(raw.bytes) == .malformed(part: "slot 01020304", reason: "an authenticator on a recipient slot"))
    }

    @Test(arguments: places)
    func criticalExtensionsAreRejected(place: String, part: String) {
        for (list, tag) in [(extensions([(1, [])]), 1), (extensions([(2, []), (7, ascii("x"))]), 7)] {
            #expect(decodeError(Self.file(extensions: list, in: place))
                == .malformed(part: part, reason: "unknown critical field \(tag)"))
        }
    }

    @Test(arguments: places)
    func extensionListLimits(place: String, part: String) {
        let reject = { (list: [UInt8], reason: String) in
            #expect(decodeError(Self.file(extensions: list, in: place)) == .malformed(part: part, reason: reason))
        }
        reject(extensions([(4, []), (2, [])]), "extension tags out of order")
        reject(extensions([(2, []), (2, [])]), "extension tags out of order")
        reject(extensions([(2, [UInt8](repeating: 0, count: 65_537))]), "extension length 65537 exceeds the limit of 65536")
        reject(extensions((0..<17).map { (UInt64($0 * 2), []) }), "extension count 17 exceeds the limit of 16")
    }

    // MARK: Slot kinds and flags

    @Test func recipientSlotsHaveNoKdfFields() throws {
        var raw = RawFile()
        raw.slots[0].kind = 2
        let file = try VaultDecoder.decode(raw.bytes)
        #expect(file.slots[0].kind == .recipient)
        #expect(file.slots[0].publicKey == raw.slots[0].publicKey)
        #expect(VaultEncoder.encode(file) == raw.bytes)
    }

    @Test(arguments: [UInt8(0), 5, 255])
    func unknownSlotKindsAreRejected(kind: UInt8) {
        var raw = RawFile()
        raw.slots[0].kind = kind
        #expect(decodeError(raw.bytes) == .malformed(part: "slot 01020304", reason: "unknown slot kind \(kind)"))
    }

    @Test(arguments: [1 << 1, 1 << 2, 1 << 31, 1 << 31 | 1 << 32] as [UInt64])
    func unknownCriticalFlagsAreRejected(flags: UInt64) {
        var raw = RawFile()
        raw.entries[0].flags = uvarint(flags)
        #expect(decodeError(raw.bytes) == .entry("unknown critical flag"))
    }

    @Test(arguments: [1 << 32, 1 << 63, .max & ~0xFFFF_FFFF, 1 << 40 | Entry.noRevealFlag] as [UInt64])
    func optionalFlagsAreAcceptedAndKept(flags: UInt64) throws {
        var raw = RawFile()
        raw.entries[0].flags = uvarint(flags)
        let file = try VaultDecoder.decode(raw.bytes)
        #expect(file.entries[0].flags == flags)
        #expect(file.entries[0].isNoReveal == (flags & 1 == 1))
    }
}
