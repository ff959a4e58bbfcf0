/// Decodes vault files (Specs/vault-format.md §2): bounds-checked, canonical encodings only.
public enum VaultDecoder {
    /// Parses every field; the signature is returned, not checked (that needs CofferCrypto).
    public static func decode(_ bytes: [UInt8]) throws(CodecError) -> VaultFile {
        var entries: [Entry] = []
        var file = try read(bytes) { count in
            entries.reserveCapacity(count)
        } entry: { reader, _, fields in
            entries.append(makeEntry(fields, reader, file: bytes))
        }
        file.entries = entries
        return file
    }

    /// Checks every field as `decode` does, but keeps the entries as positions in `bytes`, to be
    /// decoded when asked for.
    public static func index(_ bytes: [UInt8]) throws(CodecError) -> VaultIndex {
        var offsets: [Int] = []
        var hasEntryExtensions = false
        let header = try read(bytes) { count in
            offsets.reserveCapacity(count)
        } entry: { _, offset, fields in
            offsets.append(offset)
            hasEntryExtensions = hasEntryExtensions || fields.hasExtensions
        }
        return VaultIndex(header: header, bytes: bytes, entryOffsets: offsets, hasEntryExtensions: hasEntryExtensions)
    }

    /// An entry from fields `scanEntry` checked in `file`; its sealed value is a slice of `file`.
    static func makeEntry(_ fields: EntryFields, _ reader: ByteReader, file: [UInt8]) -> Entry {
        Entry(
            name: reader.string(fields.name),
            scope: Scope(project: reader.string(fields.project), domain: reader.string(fields.domain)),
            created: fields.created, updated: fields.updated, flags: fields.flags,
            description: reader.string(fields.description), sealedValue: file[fields.sealed])
    }

    /// Checks the whole file and returns it without entries; `entry` sees each entry's checked
    /// fields and offset, in order, after `count` has been told how many there are.
    private static func read(
        _ bytes: [UInt8], count: (Int) -> Void, entry: (ByteReader, Int, EntryFields) -> Void
    ) throws(CodecError) -> VaultFile {
        let minor = try version(bytes)
        guard bytes.count >= versionByteCount + VaultFile.signatureByteCount else {
            throw .malformed(part: "header", reason: "truncated")
        }
        return try bytes.withUnsafeBufferPointer { buffer throws(CodecError) in
            var reader = ByteReader(buffer, end: bytes.count - VaultFile.signatureByteCount)
            _ = try reader.take(versionByteCount)
            return try read(&reader, minor: minor, count: count, entry: entry)
        }
    }

    /// The magic and the major and minor versions.
    static let versionByteCount = VaultFile.magic.count + 2

    /// Checks the magic, the size and the major version of a file (or of its first bytes); returns the minor.
    static func version(_ bytes: [UInt8]) throws(CodecError) -> UInt8 {
        guard bytes.count >= VaultFile.magic.count, bytes.starts(with: VaultFile.magic) else { throw .notAVault }
        guard bytes.count <= Limits.fileBytes else {
            throw .malformed(part: "file", reason: "larger than \(Limits.fileBytes) bytes")
        }
        guard bytes.count >= versionByteCount else { throw .malformed(part: "header", reason: "truncated") }
        let major = bytes[8], minor = bytes[9]
        guard major == VaultFile.major else { throw .unsupportedVersion(major: Int(major), minor: Int(minor)) }
        return minor
    }

    /// `read` from the vault id on, the magic and version already checked.
    private static func read(
        _ reader: inout ByteReader, minor: UInt8, count: (Int) -> Void, entry: (ByteReader, Int, EntryFields) -> Void
    ) throws(CodecError) -> VaultFile {
        var file = try readHead(&reader, minor: minor)
        reader.part = .entries
        let entryCount = try reader.bounded(Limits.entries, "entry count")
        // Each entry takes at least 50 bytes: refuse counts the file cannot hold before reserving.
        guard entryCount <= reader.remaining / 50 else { throw reader.fail("entry count exceeds the file's size") }
        count(entryCount)
        var previous: EntryFields?
        for _ in 0..<entryCount {
            let offset = reader.offset
            let fields = try scanEntry(&reader)
            if let previous, reader.compare(previous, fields) >= 0 {
                throw reader.fail("entries out of order or duplicated")
            }
            entry(reader, offset, fields)
            previous = fields
        }
        guard reader.remaining == 0 else {
            throw CodecError.malformed(part: "file", reason: "unexpected bytes before the signature")
        }
        file.signature = Array(reader.bytes.suffix(VaultFile.signatureByteCount))
        return file
    }

    /// The vault id, generation, key chain, extensions and slots, each checked; no entries, no signature.
    static func readHead(_ reader: inout ByteReader, minor: UInt8) throws(CodecError) -> VaultFile {
        let vaultID = try reader.array(VaultFile.vaultIDByteCount)
        let generation = try reader.u64()
        guard generation > 0 else { throw reader.fail("generation 0 (the first save writes 1)") }

        reader.part = .keyChain
        let keyChain = try decodeKeyChain(&reader)
        if let last = keyChain.links.last, last.generation > generation {
            throw reader.fail("a link is newer than the file")
        }
        reader.part = .header
        try reader.skipExtensions()

        reader.part = .slots
        let slotCount = try reader.bounded(Limits.slots, "slot count")
        guard slotCount > 0 else { throw reader.fail("a vault needs at least one slot") }
        var slots: [Slot] = []
        slots.reserveCapacity(slotCount)
        for _ in 0..<slotCount {
            let slot = try decodeSlot(&reader)
            if let last = slots.last, slot.id <= last.id {
                throw CodecError.malformed(part: "slot \(slot.idText)", reason: "slots out of order or duplicated")
            }
            slots.append(slot)
        }
        return VaultFile(
            minor: minor, vaultID: vaultID, generation: generation, keyChain: keyChain, slots: slots,
            entries: [], signature: [])
    }

    private static func decodeKeyChain(_ reader: inout ByteReader) throws(CodecError) -> KeyChain {
        let genesis = try reader.array(VaultFile.keyByteCount)
        let count = try reader.bounded(Limits.chainLinks, "link count")
        var links: [KeyChain.Link] = []
        links.reserveCapacity(min(count, reader.remaining / 97))
        for _ in 0..<count {
            let generation = try reader.uvarint()
            guard generation > 0 else { throw reader.fail("a link at generation 0") }
            if let last = links.last, generation <= last.generation { throw reader.fail("links out of order") }
            let nextKey = try reader.array(VaultFile.keyByteCount)
            guard nextKey != (links.last?.nextKey ?? genesis) else { throw reader.fail("a link to the key it follows") }
            links.append(KeyChain.Link(
                generation: generation, nextKey: nextKey, signature: try reader.array(VaultFile.signatureByteCount)))
        }
        return KeyChain(genesisKey: genesis, links: links)
    }

    private static func decodeSlot(_ reader: inout ByteReader) throws(CodecError) -> Slot {
        let id = try reader.u32()
        reader.part = .slot(id: id)
        let kindCode = try reader.u8()
        let label = try reader.text(max: Limits.labelBytes, "label")
        let created = try reader.uvarint()
        let scope = Scope(
            project: try reader.name(max: Limits.scopeNameBytes, allowEmpty: true, "project"),
            domain: try reader.name(max: Limits.scopeNameBytes, allowEmpty: true, "domain"))
        let kind: Slot.Kind
        switch kindCode {
        case 1:
            let salt = try reader.array(Limits.saltBytes)
            let ops = try reader.uvarint(), mem = try reader.uvarint()
            guard Limits.opsLimit.contains(ops) else { throw reader.fail("Argon2id opslimit \(ops) is outside \(Limits.opsLimit)") }
            guard Limits.memLimit.contains(mem), mem % 1024 == 0 else {
                throw reader.fail("Argon2id memlimit \(mem) is outside \(Limits.memLimit) or not a multiple of 1024")
            }
            kind = .passphrase(salt: salt, opsLimit: ops, memLimit: mem)
        case 2:
            kind = .recipient
        case 3:
            kind = .sshEd25519(publicKey: try reader.array(VaultFile.keyByteCount))
        case 4:
            let recipient = try reader.text(max: Limits.pluginRecipientBytes, "plugin recipient")
            let stanzas = try reader.lengthPrefixed(max: Limits.pluginStanzaBytes, "plugin stanzas")
            kind = .plugin(recipient: recipient, stanzas: Array(reader.view(stanzas)))
        default:
            throw reader.fail("unknown slot kind \(kindCode)")
        }
        let publicKey = try reader.array(VaultFile.keyByteCount)
        let wrappedRange = try reader.lengthPrefixed(max: 1024, "wrapped key")
        var slot = Slot(
            id: id, kind: kind, label: label, created: created, scope: scope, publicKey: publicKey,
            wrapped: Array(reader.view(wrappedRange)))
        guard slot.wrapped.count == SlotLayout.wrappedByteCount(scope: scope) else {
            throw reader.fail("wrapped key has the wrong length")
        }
        if let body = try reader.extensions(keeping: Slot.authenticatorTag) {
            guard kindCode == 1 else { throw reader.fail("an authenticator on a recipient slot") }
            guard body.count == Slot.authenticatorByteCount else { throw reader.fail("authenticator has the wrong length") }
            slot.authenticator = Array(reader.view(body))
        }
        return slot
    }

    /// Checks one entry's fields, making no strings. An index, reading again what it checked
    /// before, passes `checked: true` to find the fields without checking them again.
    static func scanEntry(_ reader: inout ByteReader, checked: Bool = false) throws(CodecError) -> EntryFields {
        reader.part = .entryStart
        let name, project, domain: Range<Int>
        if checked {
            name = try reader.lengthPrefixed(max: Limits.nameBytes, "name")
            project = try reader.lengthPrefixed(max: Limits.scopeNameBytes, "project")
            domain = try reader.lengthPrefixed(max: Limits.scopeNameBytes, "domain")
        } else {
            name = try reader.nameRange(max: Limits.nameBytes, allowEmpty: false, "name")
            project = try reader.nameRange(max: Limits.scopeNameBytes, allowEmpty: true, "project")
            domain = try reader.nameRange(max: Limits.scopeNameBytes, allowEmpty: true, "domain")
        }
        reader.part = .entry(name: name, project: project, domain: domain)
        let created = try reader.uvarint(), updated = try reader.uvarint()
        guard checked || updated >= created else { throw reader.fail("updated before created") }
        let flags = try reader.uvarint()
        guard checked || flags & Entry.criticalFlagMask & ~Entry.knownFlags == 0 else { throw reader.fail("unknown critical flag") }
        let description = checked
            ? try reader.lengthPrefixed(max: Limits.descriptionBytes, "description")
            : try reader.textRange(max: Limits.descriptionBytes, "description")
        let extensionsStart = reader.offset
        try reader.skipExtensions()
        // An empty extension list is its count alone, one byte.
        let hasExtensions = reader.offset - extensionsStart != 1
        let sealed = try reader.lengthPrefixed(max: Limits.valueBytes + Limits.sealedOverhead, "value")
        guard checked || sealed.count >= Limits.sealedOverhead else { throw reader.fail("sealed value too short") }
        return EntryFields(
            name: name, project: project, domain: domain, created: created, updated: updated, flags: flags,
            description: description, sealed: sealed, hasExtensions: hasExtensions)
    }
}

/// Where one entry's fields lie in the file, once checked.
struct EntryFields {
    var name, project, domain: Range<Int>
    var created, updated, flags: UInt64
    var description, sealed: Range<Int>
    /// Whether the entry carries (optional) extensions, which a writer drops (Specs/vault-format.md §5).
    var hasExtensions: Bool
}

/// A vault file whose every field has been checked, with its entries still in the file's bytes:
/// reading one entry of a large vault decodes that entry only.
public struct VaultIndex: Sendable {
    /// Everything but the entries (`entries` is empty here).
    public let header: VaultFile
    /// The bytes the entries are read from: the file as read (or as `init(encoding:)` writes
    /// it), with a re-key's sealed values after `replacing`, which leaves the header and
    /// signature in these bytes as they were: `header` is what stands.
    public let bytes: [UInt8]
    /// Where each entry starts, in canonical order.
    let entryOffsets: [Int]
    /// Whether an entry carries extensions: then its bytes are not what a writer emits.
    let hasEntryExtensions: Bool

    init(header: VaultFile, bytes: [UInt8], entryOffsets: [Int], hasEntryExtensions: Bool) {
        self.header = header
        self.bytes = bytes
        self.entryOffsets = entryOffsets
        self.hasEntryExtensions = hasEntryExtensions
    }

    /// An index of `file` as a writer encodes it, its signature the file's own. The caller has
    /// validated names, texts and limits, as for `VaultEncoder.encodeSignedPart`.
    public init(encoding file: VaultFile) {
        var writer = ByteWriter()
        VaultEncoder.encodeHeader(file, entryCount: file.entries.count, into: &writer)
        var offsets: [Int] = []
        offsets.reserveCapacity(file.entries.count)
        for entry in file.entries {
            offsets.append(writer.bytes.count)
            VaultEncoder.encode(entry, into: &writer)
        }
        writer.raw(file.signature.count == VaultFile.signatureByteCount
            ? file.signature : [UInt8](repeating: 0, count: VaultFile.signatureByteCount))
        var header = file
        header.entries = []
        self.init(header: header, bytes: writer.bytes, entryOffsets: offsets, hasEntryExtensions: false)
    }

    /// This index with `header` in place of its own and `bytes` in place of its bytes, which
    /// differ from them in sealed values only (a re-key's, each as long as the one it replaces).
    public func replacing(header: VaultFile, bytes: [UInt8]) -> VaultIndex {
        precondition(bytes.count == self.bytes.count, "only sealed values, of unchanged lengths, are replaced")
        return VaultIndex(header: header, bytes: bytes, entryOffsets: entryOffsets, hasEntryExtensions: hasEntryExtensions)
    }

    public var entryCount: Int { entryOffsets.count }

    /// Where an entry's sealed value, and the fields its associated data binds it to, lie in the
    /// file's bytes.
    public struct SealedPlace {
        public let project, domain, name, sealedValue: Range<Int>
    }

    /// The sealed places of every entry, over the file's bytes, for a pass over all of them
    /// (a re-key) that touches no reference counts: valid only inside `withSealedPlaces`.
    public struct SealedPlaces: @unchecked Sendable {
        public let bytes: UnsafeBufferPointer<UInt8>
        let offsets: UnsafeBufferPointer<Int>

        public var count: Int { offsets.count }

        /// The place of the entry at `position` (`0..<count`), found again in the checked file.
        public subscript(position: Int) -> SealedPlace {
            let (fields, _) = VaultIndex.checkedFields(in: bytes, at: offsets[position])
            return SealedPlace(project: fields.project, domain: fields.domain, name: fields.name, sealedValue: fields.sealed)
        }
    }

    public func withSealedPlaces<Result>(_ body: (SealedPlaces) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBufferPointer { bytes in
            try entryOffsets.withUnsafeBufferPointer { offsets in try body(SealedPlaces(bytes: bytes, offsets: offsets)) }
        }
    }

    /// The bytes of the entries at `positions`, as they stand in the file (no copy).
    func entryBytes(_ positions: Range<Int>) -> ArraySlice<UInt8> {
        let end = positions.upperBound < entryOffsets.count
            ? entryOffsets[positions.upperBound] : bytes.count - VaultFile.signatureByteCount
        return bytes[entryOffsets[positions.lowerBound]..<end]
    }

    /// Each entry's position and name (UTF-8, no String made), in canonical order: a pass that
    /// reads each entry's first field only.
    func forEachName(_ body: (Int, UnsafeBufferPointer<UInt8>) -> Void) {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = ByteReader(buffer, end: buffer.count - VaultFile.signatureByteCount)
            for (position, offset) in entryOffsets.enumerated() {
                reader.seek(to: offset)
                do {
                    body(position, reader.view(try reader.lengthPrefixed(max: Limits.nameBytes, "name")))
                } catch {
                    preconditionFailure("an entry the index checked no longer decodes: \(error)")
                }
            }
        }
    }

    /// The whole file, every entry decoded.
    public func decoded() -> VaultFile {
        var file = header
        file.entries = entryOffsets.indices.map(entry(at:))
        return file
    }

    /// The entry at `position` (`0..<entryCount`).
    public func entry(at position: Int) -> Entry {
        withFields(at: position) { fields, reader in VaultDecoder.makeEntry(fields, reader, file: bytes) }
    }

    /// Where `name` in `scope` is, or would be inserted, in canonical order.
    public func position(of name: String, in scope: Scope) -> (found: Bool, position: Int) {
        let probe = (project: Array(scope.project.utf8), domain: Array(scope.domain.utf8), name: Array(name.utf8))
        var low = 0, high = entryOffsets.count
        var found = false
        while low < high {
            let mid = (low + high) / 2
            let order = withFields(at: mid) { fields, reader in reader.compare(fields, probe) }
            if order < 0 {
                low = mid + 1
            } else {
                high = mid
                found = order == 0
            }
        }
        return (found, low)
    }

    /// `body` over the fields of an entry the index checked when it was made (found, not checked again).
    private func withFields<Result>(at position: Int, _ body: (EntryFields, ByteReader) -> Result) -> Result {
        bytes.withUnsafeBufferPointer { buffer in
            let (fields, reader) = Self.checkedFields(in: buffer, at: entryOffsets[position])
            return body(fields, reader)
        }
    }

    /// The fields of the entry at `offset` of `file`, which the index checked when it was made
    /// (found again, not checked again), and a reader over `file`.
    fileprivate static func checkedFields(in file: UnsafeBufferPointer<UInt8>, at offset: Int) -> (EntryFields, ByteReader) {
        var reader = ByteReader(file, end: file.count - VaultFile.signatureByteCount)
        reader.seek(to: offset)
        do {
            return (try VaultDecoder.scanEntry(&reader, checked: true), reader)
        } catch {
            preconditionFailure("an entry the index checked no longer decodes: \(error)")
        }
    }
}

/// Encodes vault files canonically (Specs/vault-format.md §5).
public enum VaultEncoder {
    /// Every byte the signature covers. The caller has validated names, texts and limits.
    public static func encodeSignedPart(_ file: VaultFile) -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.reserveCapacity(estimatedSize(file))
        encodeHeader(file, entryCount: file.entries.count, into: &writer)
        for entry in file.entries { encode(entry, into: &writer) }
        return writer.bytes
    }

    /// The signed part up to the first entry: everything but `file.entries`, with `entryCount`
    /// as the number of entries that follow.
    static func encodeHeader(_ file: VaultFile, entryCount: Int, into writer: inout ByteWriter) {
        writer.raw(VaultFile.magic)
        writer.u8(VaultFile.major)
        writer.u8(file.minor)
        writer.raw(file.vaultID)
        writer.u64(file.generation)
        writer.raw(file.keyChain.genesisKey)
        writer.uvarint(UInt64(file.keyChain.links.count))
        for link in file.keyChain.links {
            writer.uvarint(link.generation)
            writer.raw(link.nextKey)
            writer.raw(link.signature)
        }
        writer.uvarint(0)
        writer.uvarint(UInt64(file.slots.count))
        for slot in file.slots { encode(slot, into: &writer) }
        writer.uvarint(UInt64(entryCount))
    }

    /// The signed part followed by the signature: the whole file.
    public static func encode(_ file: VaultFile) -> [UInt8] {
        encodeSignedPart(file) + file.signature
    }

    /// One entry's bytes, as they stand in the file.
    public static func encodedEntry(_ entry: Entry) -> [UInt8] {
        var writer = ByteWriter()
        encode(entry, into: &writer)
        return writer.bytes
    }

    private static func estimatedSize(_ file: VaultFile) -> Int {
        file.entries.reduce(512 + file.slots.count * 256 + file.keyChain.links.count * 110) {
            $0 + 64 + $1.name.utf8.count + $1.description.utf8.count + $1.sealedValue.count
        }
    }

    private static func encode(_ slot: Slot, into writer: inout ByteWriter) {
        writer.u32(slot.id)
        writer.u8(slot.kind.code)
        writer.lengthPrefixed(slot.label.utf8)
        writer.uvarint(slot.created)
        writer.lengthPrefixed(slot.scope.project.utf8)
        writer.lengthPrefixed(slot.scope.domain.utf8)
        switch slot.kind {
        case let .passphrase(salt, ops, mem):
            writer.raw(salt)
            writer.uvarint(ops)
            writer.uvarint(mem)
        case .recipient:
            break
        case let .sshEd25519(publicKey):
            writer.raw(publicKey)
        case let .plugin(recipient, stanzas):
            writer.lengthPrefixed(recipient.utf8)
            writer.lengthPrefixed(stanzas)
        }
        writer.raw(slot.publicKey)
        writer.lengthPrefixed(slot.wrapped)
        if let authenticator = slot.authenticator {
            writer.uvarint(1)
            writer.uvarint(Slot.authenticatorTag)
            writer.lengthPrefixed(authenticator)
        } else {
            writer.uvarint(0)
        }
    }

    static func encode(_ entry: Entry, into writer: inout ByteWriter) {
        writer.lengthPrefixed(entry.name.utf8)
        writer.lengthPrefixed(entry.scope.project.utf8)
        writer.lengthPrefixed(entry.scope.domain.utf8)
        writer.uvarint(entry.created)
        writer.uvarint(entry.updated)
        writer.uvarint(entry.flags)
        writer.lengthPrefixed(entry.description.utf8)
        writer.uvarint(0)
        writer.lengthPrefixed(entry.sealedValue)
    }
}
