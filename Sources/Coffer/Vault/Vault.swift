public import CofferCodec
public import CofferCrypto
public import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

public typealias Scope = CofferCodec.Scope

/// What anyone can read about an entry without a key.
public struct VaultEntry: Equatable, Sendable {
    public var name: String
    public var scope: Scope
    /// Unix seconds.
    public var created: UInt64
    public var updated: UInt64
    public var description: String
    /// Usable by `run` and `render`, refused by `get`, `list --values` and `export`.
    public var isNoReveal: Bool

    init(_ entry: Entry) {
        name = entry.name
        scope = entry.scope
        created = entry.created
        updated = entry.updated
        description = entry.description
        isNoReveal = entry.isNoReveal
    }
}

/// A Coffer vault file: open it to read names and metadata, unlock it to read and write values.
///
/// ```swift
/// let vault = try Vault.open(at: "secrets.coffer")
/// try vault.unlock(passphrase: passphrase)
/// let password = try vault.value(for: "pg.password")
/// try vault.set("pg.user", value: Array("app".utf8), overwrite: true)
/// try vault.save()
/// ```
public final class Vault {
    public let path: String
    /// The file as last read or written, with the changes made since. A vault opened from disk
    /// decodes its entries on first use of this property; reading, setting or removing one entry,
    /// or the header, does not need it.
    public var file: VaultFile {
        if let decoded { return decoded }
        guard let read = draft else { preconditionFailure("a vault read through a verified state holds only the entries it was opened for") }
        let file = read.decoded()
        decoded = file
        draft = nil
        return file
    }
    /// The file with its entries decoded; nil while only `draft` is at hand.
    private var decoded: VaultFile?
    /// The file as read and checked, its entries not yet decoded, and the changes made since.
    private var draft: VaultDraft?
    /// A file read through a verified state (VerifiedRead): the entries it was opened for, read only.
    private var recorded: RecordedIndex?
    /// The file without its entries: enough for ids, generation, keys and slots.
    var header: VaultFile { decoded ?? draft?.header ?? recorded!.header }

    /// The file as an index: its bytes as read when no entry has changed since, else encoded.
    var entryIndex: VaultIndex {
        draft?.unchangedIndex ?? VaultIndex(encoding: file)
    }
    /// Decodes the entries now, so that `decoded` can be changed in place.
    private func decodeEntries() { _ = file }
    private var grant: KeyGrant?
    private var cipher: EntryCipher?
    /// The slot the vault was unlocked with, when it was unlocked through a slot.
    public private(set) var unlockedSlot: Slot?
    /// The signature of the file as read (nil for a vault not yet on disk): a save that finds
    /// another signature on disk has lost a race and fails with `conflict`.
    private var signatureOnDisk: [UInt8]?
    /// Entries sealed since the last save; the next save opens each again before it writes.
    private var sealedSinceSave: [(scope: Scope, name: String)] = []
    public private(set) var hasUnsavedChanges = false
    /// Held while `modify` runs, so that `save` does not lock twice.
    private var heldLock: FileLock?
    /// Unix time in seconds, for created/updated stamps; replaceable in tests.
    public var clock: () -> UInt64 = Timestamp.now

    init(path: String, file: VaultFile, signatureOnDisk: [UInt8]?) {
        self.path = path
        self.decoded = file
        self.signatureOnDisk = signatureOnDisk
    }

    init(path: String, index: EntryIndex) {
        self.path = path
        switch index {
        case let .whole(index): draft = VaultDraft(index)
        case let .recorded(index): recorded = index
        }
        self.signatureOnDisk = index.header.signature
    }

    // MARK: Opening

    /// Reads and verifies a vault file: its key chain and signature. Needs no key.
    public static func open(at path: String) throws -> Vault {
        try Vault(bytes: FileSystem.read(path, limit: Limits.fileBytes), path: path)
    }

    /// Decodes and verifies vault bytes that did not come from `path` directly (git blobs, tests).
    public convenience init(bytes: [UInt8], path: String) throws {
        self.init(path: path, index: .whole(try Vault.checkAndVerify(bytes, path: path)))
    }

    /// Checks every field of `bytes` (entries are indexed, not decoded), the key chain and the
    /// signature, reporting the first failure in that order. A large file is hashed on a second
    /// thread while its fields and key chain are checked.
    static func checkAndVerify(_ bytes: [UInt8], path: String) throws -> VaultIndex {
        let (checked, hash) = Concurrently.both(
            bytes.count >= Concurrently.worthwhileBytes,
            { () -> Result<VaultIndex, any Error> in
                Result {
                    let index: VaultIndex
                    do throws(CodecError) {
                        index = try VaultDecoder.index(bytes)
                    } catch {
                        throw CofferError(error, path: path)
                    }
                    try verifyKeyChain(index.header)
                    return index
                }
            },
            { bytes.withUnsafeBytes { BLAKE2b.hash(UnsafeRawBufferPointer(rebasing: $0.dropLast(VaultFile.signatureByteCount))) } })
        let index = try checked.get()
        let header = index.header
        let message = FormatMessages.fileSignature(hash: hash)
        guard Ed25519.isValidSignature(header.signature, for: message, publicKey: header.keyChain.currentKey) else {
            throw CofferError.tampered(part: "signature")
        }
        return index
    }

    /// The key chain's last link, when it is the one a re-key added for the save that writes
    /// generation `file.generation`: what a reader will check of it, before the file is written.
    static func verifyNewLink(of file: VaultFile) throws {
        let links = file.keyChain.links
        guard let link = links.last, link.generation == file.generation else { return }
        try verify(link, after: links.dropLast().last?.nextKey ?? file.keyChain.genesisKey, in: file)
    }

    static func verifyKeyChain(_ file: VaultFile) throws {
        var previous = file.keyChain.genesisKey
        for link in file.keyChain.links {
            try verify(link, after: previous, in: file)
            previous = link.nextKey
        }
    }

    private static func verify(_ link: KeyChain.Link, after previous: [UInt8], in file: VaultFile) throws {
        let message = FormatMessages.chainLink(vaultID: file.vaultID, generation: link.generation, nextKey: link.nextKey)
        guard Ed25519.isValidSignature(link.signature, for: message, publicKey: previous) else {
            throw CofferError.tampered(part: "key chain")
        }
    }

    // MARK: Creating

    /// Creates a vault at `path` with one passphrase slot. Fails if a file is already there.
    public static func create(
        at path: String, passphrase: SecureBytes, kdf: Argon2id.Parameters, label: String = "passphrase"
    ) throws -> Vault {
        try create(at: path, label: label) { grant, vaultID, now in
            try SlotWrapping.makePassphraseSlot(
                passphrase: passphrase, parameters: try checked(kdf), label: label, created: now,
                grant: grant, vaultID: vaultID, genesisKey: try grant.signingKey().publicKey, existingIDs: [])
        }
    }

    /// Creates a vault at `path` whose first slot belongs to an X25519 recipient (an age public key).
    public static func create(at path: String, recipient publicKey: [UInt8], label: String = "recipient") throws -> Vault {
        try create(at: path, label: label) { grant, vaultID, now in
            try SlotWrapping.makeSlot(
                kind: .recipient, publicKey: publicKey, label: label, scope: .global, created: now,
                grant: grant, vaultID: vaultID, existingIDs: [])
        }
    }

    private static func create(
        at path: String, label: String, firstSlot: (KeyGrant, [UInt8], UInt64) throws -> Slot
    ) throws -> Vault {
        try validateText(nil, label: label)
        let grant = KeyGrant.generate()
        let vaultID = SecureRandom.bytes(VaultFile.vaultIDByteCount)
        let now = Timestamp.now()
        let slot = try mapKeyErrors { try firstSlot(grant, vaultID, now) }
        let signingKey = try mapKeyErrors { try grant.signingKey() }
        let file = VaultFile(
            vaultID: vaultID, generation: 0, keyChain: KeyChain(genesisKey: signingKey.publicKey),
            slots: [slot], entries: [])
        let vault = Vault(path: path, file: file, signatureOnDisk: nil)
        vault.adopt(grant, slot: slot)
        vault.hasUnsavedChanges = true
        try vault.save()
        return vault
    }

    /// Argon2id parameters given as passes and MiB (`--kdf-ops`/`--kdf-memory`, libcoffer's
    /// `kdf_ops`/`kdf_memory_mib`), checked as `checked` does.
    public static func kdf(passes: UInt64, memoryMiB: UInt64) throws -> Argon2id.Parameters {
        guard memoryMiB <= UInt64.max >> 20, let parameters = try? Argon2id.Parameters(opsLimit: passes, memLimit: memoryMiB << 20) else {
            throw CofferError.invalidArgument("invalid Argon2id parameters: passes 1 to 16, memory 1 MiB to 4096 MiB")
        }
        return try checked(parameters)
    }

    /// Checks KDF parameters against the format's caps and the work one unlock may spend.
    public static func checked(_ kdf: Argon2id.Parameters) throws -> Argon2id.Parameters {
        guard Limits.acceptsArgon2id(opsLimit: kdf.opsLimit, memLimit: kdf.memLimit) else {
            throw CofferError.invalidArgument(
                "Argon2id parameters must be within opslimit \(Limits.opsLimit) and memlimit \(Limits.memLimit) bytes")
        }
        guard kdf.opsLimit * kdf.memLimit <= Limits.unlockWork else {
            throw CofferError.invalidArgument(
                "Argon2id opslimit × memlimit must be at most \(Limits.unlockWork >> 20) MiB-passes (4 × the sensitive preset)")
        }
        return kdf
    }

    // MARK: Unlocking

    public var isUnlocked: Bool { grant != nil }
    /// Whether the key in hand is the master key (needed to write).
    public var canWrite: Bool { grant?.isFull ?? false }

    /// Unlocks with a passphrase: one Argon2id per passphrase slot tried. The slot that opens
    /// must authenticate this vault's id and genesis key, else `forged`.
    public func unlock(passphrase: SecureBytes) throws {
        let (slot, grant, _) = try Vault.mapKeyErrors {
            try SlotWrapping.open(header.slots, passphrase: passphrase, vaultID: header.vaultID, genesisKey: header.keyChain.genesisKey)
        }
        try unlock(grant: grant, slot: slot)
    }

    /// Unlocks a vault whose passphrase slot has no authenticator yet (written by format 1.0) and
    /// gives that slot one; `save()` writes it. The caller vouches that this is the vault it
    /// means: nothing in a 1.0 file can tell. Returns false when the slot already had one.
    @discardableResult
    public func upgrade(passphrase: SecureBytes) throws -> Bool {
        let (slot, grant, secret) = try Vault.mapKeyErrors {
            try SlotWrapping.open(
                header.slots, passphrase: passphrase, vaultID: header.vaultID, genesisKey: header.keyChain.genesisKey,
                acceptingMissingAuthenticator: true)
        }
        try unlock(grant: grant, slot: slot)
        _ = try requireWriter()
        guard slot.authenticator == nil, let index = header.slots.firstIndex(of: slot) else { return false }
        let authenticator = SlotWrapping.authenticator(
            of: slot, secretKey: secret, vaultID: header.vaultID, genesisKey: header.keyChain.genesisKey)
        if decoded != nil { decoded!.slots[index].authenticator = authenticator } else { draft!.header.slots[index].authenticator = authenticator }
        unlockedSlot = header.slots[index]
        hasUnsavedChanges = true
        return true
    }

    /// Unlocks with X25519 identities (age secret keys); the first one that has a slot is used.
    public func unlock(identities secretKeys: [SecureBytes]) throws {
        let (slot, grant) = try Vault.mapKeyErrors {
            try SlotWrapping.open(header.slots, secretKeys: secretKeys, vaultID: header.vaultID)
        }
        try unlock(grant: grant, slot: slot)
    }

    /// Unlocks with a grant obtained elsewhere (a CLI session); `slot` is the slot it came from, if known.
    public func unlock(grant: KeyGrant, slot: Slot? = nil) throws {
        if grant.isFull {
            let derived = try Vault.mapKeyErrors { try grant.signingKey() }.publicKey
            guard derived == header.keyChain.currentKey else {
                throw CofferError.tampered(part: "verification key does not match the master key")
            }
        }
        adopt(grant, slot: slot)
    }

    private func adopt(_ grant: KeyGrant, slot: Slot?) {
        self.grant = grant
        self.unlockedSlot = slot
        cipher = EntryCipher(vaultID: header.vaultID, grant: grant)
    }

    /// The grant in hand (for sessions and rotation).
    public var keyGrant: KeyGrant? { grant }

    // MARK: Reading

    public var vaultID: [UInt8] { header.vaultID }
    public var generation: UInt64 { header.generation }
    public var verificationKey: [UInt8] { header.keyChain.currentKey }
    public var keyChain: KeyChain { header.keyChain }
    /// The signature of the file as last read or written.
    public var signature: [UInt8] { header.signature }
    public var slots: [Slot] { header.slots }
    /// The minor format version the file was written with.
    public var minorVersion: UInt8 { header.minor }
    public var entryCount: Int { decoded?.entries.count ?? draft?.entryCount ?? recorded!.entryCount }
    public var entries: [VaultEntry] { file.entries.map(VaultEntry.init) }

    /// Binary search of entries in canonical order: whether `name` in `scope` is there, and
    /// where it is or would be inserted.
    private static func position(of name: String, in scope: Scope, among entries: [Entry]) -> (found: Bool, position: Int) {
        let probe = Entry(name: name, scope: scope, created: 0, updated: 0, flags: 0, description: "", sealedValue: [])
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if Entry.precedes(entries[mid], probe) { low = mid + 1 } else { high = mid }
        }
        return (low < entries.count && entries[low].name == name && entries[low].scope == scope, low)
    }

    /// The stored entry `name` exactly in `scope`, with the changes made since the file was read.
    private func stored(_ name: String, in scope: Scope) -> Entry? {
        if let recorded {
            let (found, position) = recorded.position(of: name, in: scope)
            return found ? recorded.entry(at: position) : nil
        }
        guard let decoded else { return draft!.entry(name, in: scope) }
        let (found, position) = Vault.position(of: name, in: scope, among: decoded.entries)
        return found ? decoded.entries[position] : nil
    }

    /// Puts `entry` in, in place of the entry of its scope and name if there is one.
    private func put(_ entry: Entry) {
        if decoded == nil && draft == nil { decodeEntries() }
        guard decoded != nil else { return draft!.put(entry) }
        let (found, position) = Vault.position(of: entry.name, in: entry.scope, among: decoded!.entries)
        if found { decoded!.entries[position] = entry } else { decoded!.entries.insert(entry, at: position) }
    }

    /// The entry `name` exactly in `scope`.
    public func entry(_ name: String, in scope: Scope = .global) -> VaultEntry? {
        stored(name, in: scope).map(VaultEntry.init)
    }

    /// The names of every entry, of all scopes, that `isWanted` accepts (given as UTF-8); a pass
    /// over the names alone, no entry decoded.
    public func entryNames(where isWanted: (UnsafeBufferPointer<UInt8>) -> Bool) -> [String] {
        var names: [String] = []
        if let decoded {
            for entry in decoded.entries {
                var name = entry.name
                if name.withUTF8(isWanted) { names.append(name) }
            }
        } else {
            if draft == nil { decodeEntries() }
            draft!.forEachName { name in
                if isWanted(name) { names.append(String(decoding: name, as: UTF8.self)) }
            }
        }
        return names
    }

    /// The most specific entry named `name` that a reader selecting `scope` sees
    /// (project+domain, then project, then domain, then global).
    public func resolve(_ name: String, for scope: Scope = .global) -> VaultEntry? {
        for visible in scope.visibleScopes {
            if let entry = entry(name, in: visible) { return entry }
        }
        return nil
    }

    /// For each name a reader selecting `scope` sees, its most specific entry, sorted by name.
    public func resolvedEntries(for scope: Scope) -> [VaultEntry] {
        var chosen: [String: VaultEntry] = [:]
        for visible in scope.visibleScopes.reversed() {
            for entry in file.entries where entry.scope == visible { chosen[entry.name] = VaultEntry(entry) }
        }
        return chosen.values.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
    }

    /// The value of `name` exactly in `scope`. Needs an unlocked vault whose key covers the scope.
    public func value(for name: String, in scope: Scope = .global) throws -> [UInt8] {
        guard let entry = stored(name, in: scope) else { throw CofferError.entryMissing(name: name, scope: scope.description) }
        guard let cipher else { throw CofferError.keyUnavailable("the vault is locked") }
        return try Vault.mapKeyErrors { try cipher.open(entry) }
    }

    // MARK: Writing

    private func requireWriter() throws -> EntryCipher {
        try requireWholeFile()
        guard let cipher, cipher.grant.isFull else {
            throw CofferError.keyUnavailable(isUnlocked ? "this key can read but not write the vault" : "the vault is locked")
        }
        guard header.minor <= VaultFile.minor else {
            throw CofferError.unsupportedVersion(major: Int(VaultFile.major), minor: Int(header.minor))
        }
        return cipher
    }

    /// Refuses a change to a vault read through a verified state (`VerifiedRead`), which holds
    /// only the entries it was opened for.
    func requireWholeFile() throws {
        guard recorded == nil else {
            throw CofferError.invalidArgument("this vault was read for a few entries only: open it with Vault.open(at:) to change it")
        }
    }

    /// New labels and descriptions: the format's rule (no C0 controls or DEL), and also no C1
    /// controls or bidirectional formatting characters, which could make a listing show
    /// something other than what is stored.
    public static func validateText(_ description: String?, label: String) throws {
        if let description, !Names.isValidText(description, maxBytes: Limits.descriptionBytes) || hasHiddenControls(description) {
            throw CofferError.invalidArgument(
                "a description is at most \(Limits.descriptionBytes) bytes of text without control or bidirectional formatting characters")
        }
        guard Names.isValidText(label, maxBytes: Limits.labelBytes), !hasHiddenControls(label) else {
            throw CofferError.invalidArgument(
                "a label is at most \(Limits.labelBytes) bytes of text without control or bidirectional formatting characters")
        }
    }

    /// C1 controls (U+0080-U+009F) and bidirectional controls (ALM, LRM, RLM, the embeddings,
    /// overrides and isolates).
    static func hasHiddenControls(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            switch scalar.value {
            case 0x80...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
            default: false
            }
        }
    }

    /// Checks a name and scope against the format's rules.
    public static func validate(name: String, scope: Scope) throws {
        guard Names.isValidEntryName(name) else {
            throw CofferError.invalidArgument(
                "invalid name '\(name)': use 1 to \(Limits.nameBytes) of A-Z a-z 0-9 . _ -, not starting with . or -")
        }
        try validate(scope: scope)
    }

    /// Checks a scope's project and domain against the format's rules.
    public static func validate(scope: Scope) throws {
        guard Names.isValidScopeName(scope.project), Names.isValidScopeName(scope.domain) else {
            throw CofferError.invalidArgument(
                "invalid project or domain: use up to \(Limits.scopeNameBytes) of A-Z a-z 0-9 . _ -, not starting with . or -")
        }
    }

    /// Stores `value` as `name` in `scope`. Without `overwrite`, an existing entry is an error.
    /// `description` and `noReveal` left nil keep an existing entry's (or default to none/false).
    public func set(
        _ name: String, value: [UInt8], in scope: Scope = .global, overwrite: Bool = false,
        description: String? = nil, noReveal: Bool? = nil
    ) throws {
        let cipher = try requireWriter()
        try Vault.validate(name: name, scope: scope)
        try Vault.validateText(description, label: "")
        guard value.count <= Limits.valueBytes else {
            throw CofferError.invalidArgument("a value is at most \(Limits.valueBytes) bytes")
        }
        let existing = stored(name, in: scope)
        if existing != nil && !overwrite { throw CofferError.entryExists(name: name, scope: scope.description) }
        let now = clock()
        let sealed = try Vault.mapKeyErrors { try cipher.seal(value, name: name, scope: scope) }
        if var entry = existing {
            entry.updated = max(now, entry.created)
            entry.sealedValue = sealed[...]
            if let description { entry.description = description }
            if let noReveal { entry.flags = noReveal ? entry.flags | Entry.noRevealFlag : entry.flags & ~Entry.noRevealFlag }
            put(entry)
        } else {
            put(Entry(
                name: name, scope: scope, created: now, updated: now,
                flags: noReveal == true ? Entry.noRevealFlag : 0, description: description ?? "",
                sealedValue: sealed[...]))
        }
        sealedSinceSave.append((scope, name))
        hasUnsavedChanges = true
    }

    /// Stores many values in `scope` at once: `merge(seal(items))`. Returns how many existing
    /// entries were replaced.
    @discardableResult
    public func setAll(_ items: [(name: String, value: [UInt8])], in scope: Scope = .global, overwrite: Bool = false) throws -> Int {
        try merge(seal(items, in: scope), overwrite: overwrite)
    }

    /// Values sealed for this vault under one key, in canonical order, not yet in the vault:
    /// an import seals (the slow part) before it takes the folder's lock and merges under it.
    public struct SealedBatch {
        fileprivate let vaultID: [UInt8]
        fileprivate let grant: KeyGrant
        fileprivate let entries: [Entry]
    }

    /// Seals many values for `scope` (an import). A name given twice keeps its last value.
    public func seal(_ items: [(name: String, value: [UInt8])], in scope: Scope = .global) throws -> SealedBatch {
        let cipher = try requireWriter()
        var last: [String: Int] = [:]
        for (offset, item) in items.enumerated() {
            try Vault.validate(name: item.name, scope: scope)
            guard item.value.count <= Limits.valueBytes else {
                throw CofferError.invalidArgument("a value is at most \(Limits.valueBytes) bytes")
            }
            last[item.name] = offset
        }
        let now = clock()
        // One scope: canonical order is the names' byte order. Offsets are sorted, not entries,
        // which are costly to move.
        let order = last.values.sorted { items[$0].name.utf8.lexicographicallyPrecedes(items[$1].name.utf8) }
        let entries = try order.map { offset in
            let item = items[offset]
            let sealed = try Vault.mapKeyErrors { try cipher.seal(item.value, name: item.name, scope: scope) }
            return Entry(name: item.name, scope: scope, created: now, updated: now, flags: 0, description: "", sealedValue: sealed[...])
        }
        return SealedBatch(vaultID: cipher.vaultID, grant: cipher.grant, entries: entries)
    }

    /// Whether `batch` was sealed under the key this vault is unlocked with (not so after the
    /// vault was re-keyed meanwhile: seal again).
    public func accepts(_ batch: SealedBatch) -> Bool {
        cipher.map { $0.grant === batch.grant && $0.vaultID == batch.vaultID } ?? false
    }

    /// Merges `batch` into the canonical entry list in one pass, O(N log N) with the seal rather
    /// than one insertion each. Without `overwrite`, an existing name is an error and nothing
    /// changes. Returns how many existing entries were replaced.
    @discardableResult
    public func merge(_ batch: SealedBatch, overwrite: Bool = false) throws -> Int {
        _ = try requireWriter()
        guard accepts(batch) else { throw CofferError.keyUnavailable("the values were sealed under another key") }
        decodeEntries()
        let existing = decoded!.entries
        var merged: [Entry] = []
        merged.reserveCapacity(existing.count + batch.entries.count)
        var replaced = 0, old = 0
        for var entry in batch.entries {
            while old < existing.count, Entry.precedes(existing[old], entry) {
                merged.append(existing[old])
                old += 1
            }
            if old < existing.count, Entry.compare(existing[old], entry) == 0 {
                guard overwrite else { throw CofferError.entryExists(name: entry.name, scope: entry.scope.description) }
                var kept = existing[old]
                kept.updated = max(entry.updated, kept.created)
                kept.sealedValue = entry.sealedValue
                entry = kept
                replaced += 1
                old += 1
            }
            merged.append(entry)
        }
        merged += existing[old...]
        decoded!.entries = merged
        sealedSinceSave += batch.entries.map { ($0.scope, $0.name) }
        hasUnsavedChanges = true
        return replaced
    }

    /// Removes `name` from `scope`.
    public func remove(_ name: String, in scope: Scope = .global) throws {
        _ = try requireWriter()
        guard stored(name, in: scope) != nil else { throw CofferError.entryMissing(name: name, scope: scope.description) }
        if decoded != nil {
            decoded!.entries.remove(at: Vault.position(of: name, in: scope, among: decoded!.entries).position)
        } else {
            draft!.remove(name, in: scope)
        }
        hasUnsavedChanges = true
    }

    /// Changes the plaintext metadata of `name` in `scope` (description, flags, times), not its
    /// value. `change` must leave the name and scope alone: they fix the entry's place and seal.
    func changeMetadata(of name: String, in scope: Scope, _ change: (inout Entry) -> Void) throws {
        _ = try requireWriter()
        guard var entry = stored(name, in: scope) else { throw CofferError.entryMissing(name: name, scope: scope.description) }
        change(&entry)
        precondition(entry.name == name && entry.scope == scope, "changeMetadata changed an entry's name or scope")
        put(entry)
        hasUnsavedChanges = true
    }

    /// Replaces the slots after a key change that leaves the master key, or the entries, alone.
    func replaceSlots(_ content: VaultFile, grant: KeyGrant) throws {
        _ = try requireWriter()
        decoded = content
        draft = nil
        adopt(grant, slot: unlockedSlot.flatMap { slot in content.slots.first { $0.id == slot.id } })
        hasUnsavedChanges = true
    }

    /// Replaces the whole content with a re-key's result, whose entries `Rotation.rekey` has
    /// opened again under the new key; the entries stay bytes (`VaultDraft`), as read.
    func replaceContent(_ index: VaultIndex, grant: KeyGrant) throws {
        _ = try requireWriter()
        draft = VaultDraft(index)
        decoded = nil
        adopt(grant, slot: unlockedSlot.flatMap { slot in index.header.slots.first { $0.id == slot.id } })
        hasUnsavedChanges = true
    }

    /// Writes the vault atomically: a temporary file in the same folder gets the signed part,
    /// hashed as it is written; then (while the disk takes it) the signature is made and checked,
    /// a key-chain link a re-key added is checked, and every entry sealed since the last save
    /// opened; the signature appended, the file is read back and compared
    /// byte for byte, fsynced, renamed over the vault, and the folder fsynced. A failed check
    /// replaces nothing. Holds the folder's lock, and fails with `conflict` if the file changed
    /// on disk since it was read. Entries not changed since the file was read are written as the
    /// bytes read (`VaultDraft`); the file is hashed once.
    public func save() throws {
        let cipher = try requireWriter()
        // Through a symbolic link, the link's target is replaced and the link stays.
        let path = try FileSystem.writeTarget(self.path)
        let lock = try heldLock ?? FileLock(forVaultAt: path)
        defer { withExtendedLifetime(lock) {} }
        let onDisk = try FileSystem.tail(path, count: VaultFile.signatureByteCount)
        guard onDisk == signatureOnDisk else {
            throw CofferError.conflict(
                signatureOnDisk == nil ? "a file already exists at \(path)" : "\(path) changed on disk since it was read")
        }
        FileSystem.removeStaleTemporaries(for: path)

        guard header.generation < UInt64.max else { throw CofferError.corrupted(part: "header: generation at its maximum") }
        // `next` is the whole file when decoded, else the header of `nextDraft`.
        var next = header
        next.generation += 1
        next.minor = VaultFile.minor
        var nextDraft = draft
        nextDraft?.header = next
        let signedPart = nextDraft?.signedPart() ?? [VaultEncoder.encodeSignedPart(next)[...]]
        let signingKey = try Vault.mapKeyErrors { try cipher.grant.signingKey() }
        let mode = FileSystem.mode(of: path) ?? 0o600
        // The signed part is hashed while it is written, and signed while the disk takes it;
        // nothing replaces the vault unless the checks below pass.
        try FileSystem.atomicReplace(path, with: signedPart, alongside: { BLAKE2b.hash(pieces: signedPart) }, then: { hash in
            let message = FormatMessages.fileSignature(hash: hash)
            next.signature = signingKey.signature(for: message)
            // The signature verifies under the key the file names, a key-chain link a re-key
            // added for this save verifies under the key before it, and every entry sealed since
            // the last save opens with the key in hand.
            guard Ed25519.isValidSignature(next.signature, for: message, publicKey: next.keyChain.currentKey) else {
                throw CofferError.tampered(part: "signature")
            }
            try Vault.verifyNewLink(of: next)
            for (scope, name) in sealedSinceSave {
                let entry: Entry?
                if let nextDraft {
                    entry = nextDraft.entry(name, in: scope)
                } else {
                    let (found, position) = Vault.position(of: name, in: scope, among: next.entries)
                    entry = found ? next.entries[position] : nil
                }
                guard let entry else { continue }
                var value = try Vault.mapKeyErrors { try cipher.open(entry) }
                value.wipe()
            }
            return next.signature
        }, mode: mode, readsBack: true)
        if nextDraft != nil {
            nextDraft!.header.signature = next.signature
            draft = nextDraft
        } else {
            decoded = next
        }
        signatureOnDisk = next.signature
        sealedSinceSave = []
        hasUnsavedChanges = false
    }

    /// Writes `content` (a merge result, whose re-sealed entries the merge has checked) over the
    /// vault file at `path`, signed with `grant`: generation bumped, atomic, as `save`. With
    /// `expectedSignature` (the signature of the version the merge read there), fails with
    /// `conflict` if the file changed since; the check and the write hold the folder's lock.
    public static func replace(
        at path: String, with content: VaultFile, grant: KeyGrant, expectedSignature: [UInt8]? = nil
    ) throws {
        // `save` checks, under the lock, that the file on disk still ends with this signature.
        let onDisk = try expectedSignature ?? FileSystem.tail(path, count: VaultFile.signatureByteCount)
        let vault = Vault(path: path, file: content, signatureOnDisk: onDisk)
        try vault.unlock(grant: grant)
        try vault.save()
    }

    /// Runs a read-modify-write on the vault at `path` with the folder's lock held throughout,
    /// so concurrent writers take turns and none loses an update. `unlock` runs once before the
    /// lock (the slow KDF), and again under the lock only if the master key changed meanwhile.
    /// A vault that is not a regular file (a pipe, say) is refused before anything is read.
    public static func modify<R>(at path: String, unlock: (Vault) throws -> Void, _ body: (Vault) throws -> R) throws -> R {
        let target = try FileSystem.writeTarget(path)
        let early = try Vault.open(at: path)
        try unlock(early)
        let lock = try FileLock(forVaultAt: target)
        let vault: Vault
        if try FileSystem.tail(target, count: VaultFile.signatureByteCount) == early.signature {
            // Nobody wrote meanwhile: the vault read before the lock is the current one.
            vault = early
        } else {
            vault = try Vault.open(at: path)
            if let grant = early.grant, early.unlockedSlot.map({ slot in vault.slots.contains { $0 == slot } }) ?? true,
               (try? vault.unlock(grant: grant, slot: early.unlockedSlot)) != nil {
                // Same master key and slot as before the lock: no second KDF.
            } else {
                try unlock(vault)
            }
        }
        vault.heldLock = lock
        defer { vault.heldLock = nil }
        let result = try body(vault)
        if vault.hasUnsavedChanges { try vault.save() }
        return result
    }

    static func mapKeyErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as KeyError {
            throw CofferError(error)
        } catch let error as CryptoError {
            throw CofferError(error)
        }
    }
}

extension CofferError {
    init(_ error: CodecError, path: String) {
        switch error {
        case .notAVault: self = .notAVault(path: path)
        case let .unsupportedVersion(major, minor): self = .unsupportedVersion(major: major, minor: minor)
        case let .malformed(part, reason): self = .corrupted(part: "\(part): \(reason)")
        }
    }

    init(_ error: KeyError) {
        switch error {
        case .authenticationFailed: self = .authenticationFailed
        case let .scopeNotGranted(scope): self = .keyUnavailable("the key in hand does not grant scope \(scope)")
        case .masterKeyRequired: self = .keyUnavailable("only a holder of the master key can do this")
        case let .tampered(part): self = .tampered(part: part)
        case .forged: self = .forged("this vault was not made by a holder of this passphrase (forged or substituted)")
        case let .unauthenticatedSlot(slot):
            self = .forged("passphrase slot \(slot) has no authenticator (format 1.0): if this is your vault, run `coffer upgrade` once")
        case let .unlockTooCostly(reason): self = .corrupted(part: "slots: refused before any key derivation: \(reason)")
        }
    }

    init(_ error: CryptoError) {
        switch error {
        case .authenticationFailed: self = .authenticationFailed
        case .invalidKey: self = .invalidArgument("invalid key")
        case let .invalidParameters(reason): self = .invalidArgument(reason)
        case .outOfMemory: self = .io(path: "", reason: "not enough memory for the key derivation")
        }
    }
}
