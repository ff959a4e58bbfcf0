import CofferCodec
import Testing

/// One encoding per content (§2.2, §5), and nothing before or after it.
@Suite struct CanonicalFormTests {
    static func file(_ entries: [RawEntry]) -> [UInt8] {
        var raw = RawFile()
        raw.entries = entries
        return raw.bytes
    }

    @Test func entriesSortByProjectThenDomainThenNameAsBytes() throws {
        let sorted = [
            RawEntry("", "", "B"), RawEntry("", "", "a"), RawEntry("", "", "a.b"), RawEntry("", "zz", "a"),
            RawEntry("a", "", "z"), RawEntry("a", "a", "a"), RawEntry("ab", "", "a"),
        ]
        let file = try VaultDecoder.decode(Self.file(sorted))
        #expect(file.entries.map(\.name) == ["B", "a", "a.b", "a", "z", "a", "a"])
        for (a, b) in zip(file.entries, file.entries.dropFirst()) {
            #expect(Entry.precedes(a, b) && !Entry.precedes(b, a))
        }
    }

    @Test(arguments: [
        ([RawEntry("", "", "b"), RawEntry("", "", "a")], "global/a"),
        ([RawEntry("", "", "a.b"), RawEntry("", "", "a")], "global/a"),
        ([RawEntry("", "", "a"), RawEntry("", "", "A")], "global/A"),
        ([RawEntry("a", "", "a"), RawEntry("", "zz", "a")], "domain=zz/a"),
        ([RawEntry("web", "prod", "x"), RawEntry("web", "", "x")], "project=web/x"),
        ([RawEntry("", "", "a"), RawEntry("", "", "a")], "global/a"),
        ([RawEntry("web", "prod", "x"), RawEntry("web", "prod", "x")], "project=web,domain=prod/x"),
    ])
    func entriesOutOfOrderOrDuplicatedAreRejected(entries: [RawEntry], second: String) {
        #expect(decodeError(Self.file(entries)) == .entry("entries out of order or duplicated", in: second))
    }

    @Test func duplicateEntriesDifferingOnlyInValueAreRejected() {
        var copy = RawEntry("", "", "a")
        copy.sealed = [UInt8](repeating: 0x78, count: 45)
        #expect(decodeError(Self.file([RawEntry("", "", "a"), copy])) == .entry("entries out of order or duplicated", in: "global/a"))
    }

    @Test(arguments: [[2, 1], [5, 5], [1, 3, 2]] as [[UInt32]])
    func slotsOutOfOrderOrDuplicatedAreRejected(ids: [UInt32]) {
        var raw = RawFile()
        raw.slots = ids.map { RawSlot(id: $0) }
        let second = ids.indices.dropFirst().first { ids[$0] <= ids[$0 - 1] }!
        #expect(decodeError(raw.bytes)
            == .malformed(part: "slot \(Slot.idText(ids[second]))", reason: "slots out of order or duplicated"))
    }

    @Test(arguments: [[0x00], [0x00, 0x00, 0x00], [UInt8](repeating: 0x55, count: 64)] as [[UInt8]])
    func trailingBytesAreRejected(extra: [UInt8]) {
        #expect(decodeError(RawFile().bytes + extra) == .malformed(part: "file", reason: "unexpected bytes before the signature"))
    }

    @Test func everyTruncationIsRejectedWithoutTrapping() {
        let bytes = RawFile().bytes
        for length in 0..<bytes.count {
            let error = decodeError(Array(bytes.prefix(length)))
            #expect(error != nil, "a file cut to \(length) bytes decoded")
            #expect((error == .notAVault) == (length < 8), "length \(length): \(String(describing: error))")
        }
    }

    @Test func filesWithoutTheMagicAreNotVaults() {
        let valid = RawFile().bytes
        var wrongLastMagicByte = valid
        wrongLastMagicByte[7] = 0x0D
        for bytes in [[], Array(valid.prefix(7)), wrongLastMagicByte, ascii("\u{89}COFFER\n"), ascii("#!/bin/sh\n"), [UInt8](repeating: 0, count: 200)] {
            #expect(decodeError(bytes) == .notAVault)
        }
    }

    @Test func magicIsTheDocumentedBytes() {
        #expect(VaultFile.magic == RawFile().magic)
        #expect(Array(VaultEncoder.encode(RoundTripTests.file).prefix(10)) == RawFile().magic + [1, 1])
    }
}
