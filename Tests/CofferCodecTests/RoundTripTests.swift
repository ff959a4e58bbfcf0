import CofferCodec
import Testing

@Suite struct RoundTripTests {
    static func slot(id: UInt32, kind: Slot.Kind, scope: Scope) -> Slot {
        Slot(
            id: id, kind: kind, label: "laptop ✓", created: 1_700_000_000, scope: scope,
            publicKey: [UInt8](repeating: 0x22, count: 32),
            wrapped: [UInt8](repeating: 0x66, count: SlotLayout.wrappedByteCount(scope: scope)))
    }

    static func entry(_ project: String, _ domain: String, _ name: String, flags: UInt64 = 0, value: [UInt8]) -> Entry {
        Entry(
            name: name, scope: Scope(project: project, domain: domain), created: 1_700_000_000, updated: 1_700_000_500,
            flags: flags, description: "used by the \(name) job", sealedValue: value[...])
    }

    static let file = VaultFile(
        vaultID: Array(0..<16), generation: 42,
        keyChain: KeyChain(genesisKey: [UInt8](repeating: 1, count: 32), links: [
            KeyChain.Link(generation: 5, nextKey: [UInt8](repeating: 2, count: 32), signature: [UInt8](repeating: 3, count: 64)),
            KeyChain.Link(generation: 9, nextKey: [UInt8](repeating: 4, count: 32), signature: [UInt8](repeating: 5, count: 64)),
        ]),
        slots: [
            slot(id: 7, kind: .passphrase(salt: Array(16..<32), opsLimit: 3, memLimit: 256 << 20), scope: .global),
            slot(id: 0xFFFF_FFFF, kind: .recipient, scope: Scope(project: "web", domain: "prod")),
        ],
        entries: [
            entry("", "", "API_TOKEN", value: Array(repeating: 9, count: 40)),
            entry("", "prod", "db.host", flags: Entry.noRevealFlag, value: Array(repeating: 8, count: 41)),
            entry("web", "", "db.password", flags: 1 << 40, value: Array(0..<200)),
            entry("web", "prod", "db.password", value: Array(repeating: 7, count: 1000)),
        ],
        signature: [UInt8](repeating: 0xEE, count: 64))

    @Test func encodedFileDecodesToTheSameValue() throws {
        #expect(try VaultDecoder.decode(VaultEncoder.encode(Self.file)) == Self.file)
    }

    @Test func sshSlotKeepsItsEd25519Key() throws {
        var file = Self.file
        file.slots.insert(
            Self.slot(id: 0x10, kind: .sshEd25519(publicKey: [UInt8](repeating: 0x33, count: 32)), scope: .global), at: 1)
        let decoded = try VaultDecoder.decode(VaultEncoder.encode(file))
        #expect(decoded == file)
        #expect(decoded.slots[1].kind.code == 3)
    }

    @Test func pluginSlotKeepsItsRecipientAndStanzas() throws {
        var file = Self.file
        let kind = Slot.Kind.plugin(recipient: "age1yubikey1qwerty", stanzas: Array("-> piv-p256 abc\nZGVm\n".utf8))
        file.slots.insert(Self.slot(id: 0x10, kind: kind, scope: .global), at: 1)
        let decoded = try VaultDecoder.decode(VaultEncoder.encode(file))
        #expect(decoded == file)
        #expect(decoded.slots[1].kind.code == 4)
    }

    @Test func indexDecodesEntriesOneByOne() throws {
        let index = try VaultDecoder.index(VaultEncoder.encode(Self.file))
        var header = Self.file
        header.entries = []
        #expect(index.header == header)
        #expect(index.entryCount == Self.file.entries.count)
        #expect(index.decoded() == Self.file)
        for (position, entry) in Self.file.entries.enumerated() {
            #expect(index.entry(at: position) == entry)
            let found = index.position(of: entry.name, in: entry.scope)
            #expect(found.found && found.position == position)
        }
    }

    @Test(arguments: [
        ("AAA", Scope.global, 0), ("zzz", .global, 1), ("db.host", Scope(domain: "dev"), 1),
        ("db.host", Scope(project: "web"), 2), ("db.q", Scope(project: "web"), 3), ("x", Scope(project: "zz"), 4),
    ])
    func indexPlacesMissingNames(_ name: String, _ scope: Scope, _ position: Int) throws {
        let found = try VaultDecoder.index(VaultEncoder.encode(Self.file)).position(of: name, in: scope)
        #expect(!found.found && found.position == position)
    }

    @Test func fileIsTheSignedPartFollowedByTheSignature() {
        #expect(VaultEncoder.encode(Self.file) == VaultEncoder.encodeSignedPart(Self.file) + Self.file.signature)
    }

    @Test func decoderReadsTheDocumentedLayoutAndTheEncoderWritesItBack() throws {
        var raw = RawFile()
        raw.entries[1].flags = uvarint(Entry.noRevealFlag)
        raw.entries[2].description = ascii("production database")
        let file = try VaultDecoder.decode(raw.bytes)

        #expect(file.minor == 0 && file.vaultID == raw.vaultID && file.generation == 7)
        #expect(file.keyChain == KeyChain(genesisKey: raw.genesisKey))
        #expect(file.slots == [Slot(
            id: 0x0102_0304, kind: .passphrase(salt: raw.slots[0].salt, opsLimit: 2, memLimit: 64 << 20),
            label: "passphrase", created: 1_700_000_000, scope: .global, publicKey: raw.slots[0].publicKey,
            wrapped: [UInt8](repeating: 0x66, count: 115))])
        #expect(file.entries.map { "\($0.scope)/\($0.name)" }
            == ["global/API_TOKEN", "project=web/db.password", "project=web,domain=prod/db.password"])
        #expect(file.entries.map(\.isNoReveal) == [false, true, false])
        #expect(file.entries[2].description == "production database")
        #expect(file.entries.allSatisfy { $0.created == 1_700_000_000 && $0.updated == 1_700_000_100 && $0.sealedValue.count == 45 })
        #expect(file.signature == raw.signature)
        #expect(VaultEncoder.encode(file) == raw.bytes)
    }

    @Test func encodedEntryIsTheEntrysBytesInTheFile() {
        let raw = RawEntry("web", "prod", "db.password")
        let entry = Entry(
            name: "db.password", scope: Scope(project: "web", domain: "prod"), created: 1_700_000_000,
            updated: 1_700_000_100, flags: 0, description: "", sealedValue: raw.sealed[...])
        #expect(VaultEncoder.encodedEntry(entry) == raw.bytes)
    }

    @Test(arguments: [Scope.global, Scope(project: "web"), Scope(domain: "prod"), Scope(project: "web", domain: "prod")])
    func wrappedLengthFollowsTheDocument(scope: Scope) {
        var raw = RawSlot(id: 1)
        raw.project = ascii(scope.project)
        raw.domain = ascii(scope.domain)
        #expect(SlotLayout.wrappedByteCount(scope: scope) == raw.requiredWrappedCount)
    }
}
