import CofferCodec
import Testing

/// A draft writes the bytes the encoder writes for the same content, copying untouched entries.
@Suite struct VaultDraftTests {
    static let file = RoundTripTests.file

    static func draft() throws -> VaultDraft {
        VaultDraft(try VaultDecoder.index(VaultEncoder.encode(file)))
    }

    /// The draft's signed part, joined, next to the encoder's for `expected`.
    static func expectSameBytes(_ draft: VaultDraft, as expected: VaultFile) {
        #expect(Array(draft.signedPart().joined()) == VaultEncoder.encodeSignedPart(expected))
        #expect(draft.decoded() == expected)
        #expect(draft.entryCount == expected.entries.count)
        var names: [String] = []
        draft.forEachName { names.append(String(decoding: $0, as: UTF8.self)) }
        #expect(names == expected.entries.map(\.name))
    }

    @Test func anUnchangedDraftIsTheFile() throws {
        Self.expectSameBytes(try Self.draft(), as: Self.file)
    }

    @Test func replacedInsertedAndRemovedEntriesStandInCanonicalOrder() throws {
        var draft = try Self.draft()
        var expected = Self.file
        var replaced = expected.entries[2]
        replaced.sealedValue = Array(repeating: 0x42, count: 60)[...]
        replaced.updated += 1
        draft.put(replaced)
        expected.entries[2] = replaced
        let first = RoundTripTests.entry("", "", "AAA", value: Array(repeating: 1, count: 40))
        let middle = RoundTripTests.entry("", "prod", "db.zz", value: Array(repeating: 2, count: 40))
        let last = RoundTripTests.entry("zz", "", "x", value: Array(repeating: 3, count: 40))
        for entry in [last, first, middle] { draft.put(entry) }
        draft.remove("db.host", in: Scope(domain: "prod"))
        draft.remove("not-there", in: .global)
        expected.entries.remove(at: 1)
        expected.entries.insert(first, at: 0)
        expected.entries.insert(middle, at: 2)
        expected.entries.append(last)
        Self.expectSameBytes(draft, as: expected)
        #expect(draft.entry("db.host", in: Scope(domain: "prod")) == nil)
        #expect(draft.entry("db.password", in: Scope(project: "web")) == replaced)
        #expect(draft.entry("API_TOKEN", in: .global) == Self.file.entries[0])

        // Put back after removal, and changed twice: the last change counts.
        draft.put(Self.file.entries[1])
        draft.put(first)
        expected.entries.insert(Self.file.entries[1], at: 2)
        Self.expectSameBytes(draft, as: expected)
    }

    @Test func everyEntryRemovedLeavesTheHeader() throws {
        var draft = try Self.draft()
        for entry in Self.file.entries { draft.remove(entry.name, in: entry.scope) }
        var expected = Self.file
        expected.entries = []
        Self.expectSameBytes(draft, as: expected)
    }

    @Test func theHeaderAsChangedIsWritten() throws {
        var draft = try Self.draft()
        draft.header.generation += 1
        draft.header.slots.removeLast()
        var expected = Self.file
        expected.generation += 1
        expected.slots.removeLast()
        Self.expectSameBytes(draft, as: expected)
    }

    @Test func untouchedEntriesAreSlicesOfTheFileAsRead() throws {
        var draft = try Self.draft()
        var changed = Self.file.entries[1]
        changed.updated += 1
        draft.put(changed)
        let pieces = draft.signedPart()
        // Header, entry 0 as read, entry 1 encoded, entries 2-3 as read.
        #expect(pieces.count == 4)
        #expect(Array(pieces[1]) == VaultEncoder.encodedEntry(Self.file.entries[0]))
        #expect(Array(pieces[2]) == VaultEncoder.encodedEntry(changed))
        #expect(Array(pieces[3]) == Self.file.entries[2...].flatMap(VaultEncoder.encodedEntry))
    }

    // A writer drops the extensions it skipped (Specs/vault-format.md §5): an entry that carries
    // some is encoded again, not copied.
    @Test func entriesWithExtensionsAreEncodedAgain() throws {
        var raw = RawFile()
        raw.entries[0].extensions = extensions([(4, ascii("hello"))])
        var draft = VaultDraft(try VaultDecoder.index(raw.bytes))
        var file = try VaultDecoder.decode(raw.bytes)
        var changed = file.entries[2]
        changed.updated += 1
        draft.put(changed)
        file.entries[2] = changed
        Self.expectSameBytes(draft, as: file)
        #expect(!Array(draft.signedPart().joined()).contains(Array(ascii("hello"))))
    }
}

extension Array where Element: Equatable {
    func contains(_ run: [Element]) -> Bool {
        guard run.count <= count else { return false }
        return (0...(count - run.count)).contains { self[$0..<($0 + run.count)].elementsEqual(run) }
    }
}
