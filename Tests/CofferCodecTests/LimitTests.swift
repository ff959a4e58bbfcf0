import CofferCodec
import Testing

/// Every bound of §2.1–2.6, just inside (accepted) and just outside (rejected).
@Suite struct LimitTests {
    static func file(_ entry: RawEntry) -> [UInt8] {
        var raw = RawFile()
        raw.entries = [entry]
        return raw.bytes
    }

    static func file(_ slot: RawSlot) -> [UInt8] {
        var raw = RawFile()
        raw.slots = [slot]
        return raw.bytes
    }

    // MARK: Names

    @Test(arguments: ["a", "API_TOKEN", "td.apikey", "db1.host", "_x", "9-lives", String(repeating: "n", count: 128)])
    func validEntryNamesAreAccepted(name: String) throws {
        #expect(Names.isValidEntryName(name))
        let file = try VaultDecoder.decode(Self.file(RawEntry("", "", name)))
        #expect(file.entries[0].name == name)
    }

    @Test(arguments: ["", ".env", "-x", "a/b", "a b", "a=b", "ü", "a\0"])
    func invalidEntryNamesAreRejected(name: String) {
        #expect(!Names.isValidEntryName(name))
        #expect(decodeError(Self.file(RawEntry("", "", name))) == .malformed(part: "entry", reason: "invalid name"))
    }

    /// Every byte value, alone and inside a name, against the charset as written in the spec.
    @Test func nameCharsetIsExactlyTheSpecsOnEveryByte() throws {
        let charset = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-".utf8)
        for byte in UInt8.min...UInt8.max {
            let inside: [UInt8] = [UInt8(ascii: "a"), byte, UInt8(ascii: "z")]
            var entry = RawEntry("", "", "")
            entry.name = inside
            let accepted = (try? VaultDecoder.decode(Self.file(entry))) != nil
            #expect(accepted == charset.contains(byte), "byte \(byte)")
        }
    }

    @Test func entryNameOver128BytesIsRejected() {
        let name = String(repeating: "n", count: 129)
        #expect(!Names.isValidEntryName(name))
        #expect(decodeError(Self.file(RawEntry("", "", name)))
            == .malformed(part: "entry", reason: "name length 129 exceeds the limit of 128"))
    }

    @Test func scopeNamesUpTo64BytesAreAccepted() throws {
        let long = String(repeating: "p", count: 64)
        let file = try VaultDecoder.decode(Self.file(RawEntry(long, long, "x")))
        #expect(file.entries[0].scope == Scope(project: long, domain: long))
        #expect(Names.isValidScopeName(long) && Names.isValidScopeName(""))
    }

    @Test(arguments: [".web", "-web", "web/prod", "web prod", String(repeating: "p", count: 65)])
    func invalidScopeNamesAreRejected(name: String) {
        #expect(!Names.isValidScopeName(name))
        let reason = name.utf8.count > 64 ? "length \(name.utf8.count) exceeds the limit of 64" : nil
        #expect(decodeError(Self.file(RawEntry(name, "", "x")))
            == .malformed(part: "entry", reason: reason.map { "project " + $0 } ?? "invalid project"))
        #expect(decodeError(Self.file(RawEntry("", name, "x")))
            == .malformed(part: "entry", reason: reason.map { "domain " + $0 } ?? "invalid domain"))
        var slot = RawSlot(id: 0x0102_0304)
        slot.project = ascii(name)
        #expect(decodeError(Self.file(slot)) == .slot(reason.map { "project " + $0 } ?? "invalid project"))
    }

    // MARK: Text

    @Test(arguments: [ascii("\n"), ascii("tab\there"), ascii("\u{1F}"), ascii("del\u{7F}"), [0xC3], [0xFF, 0xFE], [0xED, 0xA0, 0x80]])
    func descriptionsWithControlCharactersOrBadUTF8AreRejected(text: [UInt8]) {
        var entry = RawEntry("", "", "API_TOKEN")
        entry.description = text
        #expect(decodeError(Self.file(entry)) == .entry("invalid description"))
        var slot = RawSlot(id: 0x0102_0304)
        slot.label = text
        #expect(decodeError(Self.file(slot)) == .slot("invalid label"))
    }

    @Test func descriptionLengthLimit() throws {
        var entry = RawEntry("", "", "API_TOKEN")
        entry.description = ascii(String(repeating: "é", count: 512))
        #expect(try VaultDecoder.decode(Self.file(entry)).entries[0].description.utf8.count == 1024)
        entry.description += ascii("x")
        #expect(decodeError(Self.file(entry)) == .entry("description length 1025 exceeds the limit of 1024"))
    }

    @Test func labelLengthLimit() throws {
        var slot = RawSlot(id: 0x0102_0304)
        slot.label = ascii("🔑 " + String(repeating: "l", count: 123))
        #expect(try VaultDecoder.decode(Self.file(slot)).slots[0].label.utf8.count == 128)
        slot.label += ascii("l")
        #expect(decodeError(Self.file(slot)) == .slot("label length 129 exceeds the limit of 128"))
    }

    // MARK: Values

    @Test func sealedValueSizeLimits() throws {
        var entry = RawEntry("", "", "API_TOKEN")
        for count in [40, 1_048_576 + 40] {
            entry.sealed = [UInt8](repeating: 1, count: count)
            #expect(try VaultDecoder.decode(Self.file(entry)).entries[0].sealedValue.count == count)
        }
        entry.sealed = [UInt8](repeating: 1, count: 39)
        #expect(decodeError(Self.file(entry)) == .entry("sealed value too short"))
        entry.sealed = [UInt8](repeating: 1, count: 1_048_576 + 41)
        #expect(decodeError(Self.file(entry)) == .entry("value length 1048617 exceeds the limit of 1048616"))
    }

    @Test func updatedBeforeCreatedIsRejected() {
        var entry = RawEntry("", "", "API_TOKEN")
        entry.created = uvarint(200)
        entry.updated = uvarint(199)
        #expect(decodeError(Self.file(entry)) == .entry("updated before created"))
    }

    // MARK: Counts

    @Test func slotCountLimits() throws {
        var raw = RawFile()
        raw.slots = (1...64).map { RawSlot(id: UInt32($0)) }
        #expect(try VaultDecoder.decode(raw.bytes).slots.count == 64)
        raw.slots.append(RawSlot(id: 65))
        #expect(decodeError(raw.bytes) == .malformed(part: "slots", reason: "slot count 65 exceeds the limit of 64"))
        raw.slots = []
        #expect(decodeError(raw.bytes) == .malformed(part: "slots", reason: "a vault needs at least one slot"))
    }

    @Test func emptyVaultIsAccepted() throws {
        var raw = RawFile()
        raw.entries = []
        #expect(try VaultDecoder.decode(raw.bytes).entries.isEmpty)
    }

    /// The smallest possible entry is 50 bytes, the size the decoder assumes per counted entry.
    @Test func smallestEntryIsFiftyBytes() throws {
        var entry = RawEntry("", "", "a")
        entry.created = uvarint(0)
        entry.updated = uvarint(0)
        entry.sealed = [UInt8](repeating: 1, count: 40)
        #expect(entry.bytes.count == 50)
        #expect(try VaultDecoder.decode(Self.file(entry)).entries.count == 1)
    }

    @Test func entryCountLargerThanTheFileIsRejectedBeforeAllocating() {
        var raw = RawFile()
        let entryBytes = raw.entries.flatMap(\.bytes).count
        for count in [entryBytes / 50 + 1, 1_000_000] {
            raw.entryCount = uvarint(UInt64(count))
            #expect(decodeError(raw.bytes) == .malformed(part: "entries", reason: "entry count exceeds the file's size"))
        }
    }

    @Test(arguments: [UInt64(1_000_001), .max])
    func entryCountAboveTheLimitIsRejected(count: UInt64) {
        var raw = RawFile()
        raw.entryCount = uvarint(count)
        #expect(decodeError(raw.bytes) == .malformed(part: "entries", reason: "entry count \(count) exceeds the limit of 1000000"))
    }

    @Test func linkCountLimits() {
        var raw = RawFile()
        raw.chain = uvarint(1024)
        #expect(decodeError(raw.bytes)?.part == "key chain")
        raw.chain = uvarint(1025)
        #expect(decodeError(raw.bytes) == .malformed(part: "key chain", reason: "link count 1025 exceeds the limit of 1024"))
    }

    /// A link at `generation` to a key of bytes `key` (signature bytes are not checked here).
    static func link(_ generation: UInt64, key: UInt8) -> [UInt8] {
        uvarint(generation) + [UInt8](repeating: key, count: 32) + [UInt8](repeating: 9, count: 64)
    }

    @Test func linksMustHaveAscendingGenerations() throws {
        var raw = RawFile()
        raw.chain = uvarint(2) + Self.link(3, key: 2) + Self.link(4, key: 3)
        #expect(try VaultDecoder.decode(raw.bytes).keyChain.links.map(\.generation) == [3, 4])
        raw.chain = uvarint(2) + Self.link(4, key: 2) + Self.link(4, key: 3)
        #expect(decodeError(raw.bytes) == .malformed(part: "key chain", reason: "links out of order"))
        raw.chain = uvarint(1) + Self.link(0, key: 2)
        #expect(decodeError(raw.bytes) == .malformed(part: "key chain", reason: "a link at generation 0"))
    }

    /// A link must change the key: one to the genesis key, or to the key the previous link named, is refused.
    @Test func linksToTheKeyTheyFollowAreRejected() {
        var raw = RawFile()
        raw.chain = uvarint(1) + Self.link(3, key: raw.genesisKey[0])
        #expect(decodeError(raw.bytes) == .malformed(part: "key chain", reason: "a link to the key it follows"))
        raw.chain = uvarint(2) + Self.link(3, key: 2) + Self.link(4, key: 2)
        #expect(decodeError(raw.bytes) == .malformed(part: "key chain", reason: "a link to the key it follows"))
    }

    @Test func generationZeroIsRejected() {
        var raw = RawFile()
        raw.generation = 0
        #expect(decodeError(raw.bytes) == .malformed(part: "header", reason: "generation 0 (the first save writes 1)"))
    }

    @Test func wrappedKeyMustHaveItsScopesLength() {
        var slot = RawSlot(id: 0x0102_0304)
        for count in [0, 114, 116] {
            slot.wrapped = [UInt8](repeating: 1, count: count)
            #expect(decodeError(Self.file(slot)) == .slot("wrapped key has the wrong length"))
        }
        slot.wrapped = [UInt8](repeating: 1, count: 1025)
        #expect(decodeError(Self.file(slot)) == .slot("wrapped key length 1025 exceeds the limit of 1024"))
        slot.project = ascii("web")
        slot.wrapped = [UInt8](repeating: 1, count: 115)
        #expect(decodeError(Self.file(slot)) == .slot("wrapped key has the wrong length"))
    }

    // MARK: Argon2id parameters (§2.1)

    @Test(arguments: [(UInt64(1), UInt64(8192)), (16, 4 << 30), (3, 256 << 20)])
    func kdfParametersWithinTheCapsAreAccepted(ops: UInt64, mem: UInt64) throws {
        var slot = RawSlot(id: 0x0102_0304)
        slot.opsLimit = uvarint(ops)
        slot.memLimit = uvarint(mem)
        #expect(try VaultDecoder.decode(Self.file(slot)).slots[0].kind == .passphrase(salt: slot.salt, opsLimit: ops, memLimit: mem))
    }

    @Test(arguments: [UInt64(0), 17, 1 << 32])
    func opsLimitOutsideTheCapsIsRejected(ops: UInt64) {
        var slot = RawSlot(id: 0x0102_0304)
        slot.opsLimit = uvarint(ops)
        #expect(decodeError(Self.file(slot)) == .slot("Argon2id opslimit \(ops) is outside 1...16"))
    }

    @Test(arguments: [UInt64(0), 7168, 8192 + 512, (4 << 30) + 1024, 1 << 40, .max])
    func memLimitOutsideTheCapsIsRejected(mem: UInt64) {
        var slot = RawSlot(id: 0x0102_0304)
        slot.memLimit = uvarint(mem)
        #expect(decodeError(Self.file(slot))
            == .slot("Argon2id memlimit \(mem) is outside 8192...4294967296 or not a multiple of 1024"))
    }
}
