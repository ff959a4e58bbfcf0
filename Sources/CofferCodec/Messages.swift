/// The exact bytes that keys are derived from, bound to, or sign (Specs/vault-format.md §3–4).
/// Only bytes here: the cryptography that uses them lives in CofferRotation.
public enum FormatMessages {
    private static func label(_ text: StaticString) -> [UInt8] {
        Array(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Message for the scope key of `scope` (keyed by the scope root).
    public static func scopeKey(_ scope: Scope) -> [UInt8] {
        var writer = ByteWriter(bytes: label("coffer-scope\0"))
        writer.lengthPrefixed(scope.project.utf8)
        writer.lengthPrefixed(scope.domain.utf8)
        return writer.bytes
    }

    /// Message for the entry key of `name` (keyed by its scope key).
    public static func entryKey(name: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var name = name
        name.withUTF8 { entryKey(name: UnsafeRawBufferPointer($0), into: &bytes) }
        return bytes
    }

    /// Associated data of an entry's sealed value.
    public static func entryAssociatedData(vaultID: [UInt8], scope: Scope, name: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var (project, domain, name) = (scope.project, scope.domain, name)
        project.withUTF8 { project in
            domain.withUTF8 { domain in
                name.withUTF8 { name in
                    entryAssociatedData(
                        vaultID: vaultID, project: UnsafeRawBufferPointer(project), domain: UnsafeRawBufferPointer(domain),
                        name: UnsafeRawBufferPointer(name), into: &bytes)
                }
            }
        }
        return bytes
    }

    /// `entryKey(name:)` of a name given as UTF-8, written over `buffer`, reusing its storage
    /// (re-keying builds one per entry).
    public static func entryKey(name: UnsafeRawBufferPointer, into buffer: inout [UInt8]) {
        rewrite(&buffer) { writer in
            writer.raw(entryLabel)
            writer.lengthPrefixed(name)
        }
    }

    /// `entryAssociatedData(vaultID:scope:name:)` of a scope and name given as UTF-8, written over
    /// `buffer`, reusing its storage.
    public static func entryAssociatedData(
        vaultID: [UInt8], project: UnsafeRawBufferPointer, domain: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer,
        into buffer: inout [UInt8]
    ) {
        rewrite(&buffer) { writer in
            writer.raw(entryLabel)
            writer.u8(VaultFile.major)
            writer.raw(vaultID)
            writer.lengthPrefixed(project)
            writer.lengthPrefixed(domain)
            writer.lengthPrefixed(name)
        }
    }

    private static let entryLabel: StaticString = "coffer-entry\0"

    private static func rewrite(_ buffer: inout [UInt8], _ body: (inout ByteWriter) -> Void) {
        var writer = ByteWriter()
        swap(&writer.bytes, &buffer)
        writer.bytes.removeAll(keepingCapacity: true)
        body(&writer)
        swap(&writer.bytes, &buffer)
    }

    /// Binds a slot's wrapped grant to its vault, slot id and scope.
    public static func slotBinding(vaultID: [UInt8], slotID: UInt32, scope: Scope) -> [UInt8] {
        var writer = ByteWriter(bytes: label("coffer-slot\0"))
        writer.u8(VaultFile.major)
        writer.raw(vaultID)
        writer.u32(slotID)
        writer.lengthPrefixed(scope.project.utf8)
        writer.lengthPrefixed(scope.domain.utf8)
        return writer.bytes
    }

    /// What a passphrase slot's authenticator covers: the vault's identity and the slot itself.
    public static func slotAuthenticator(vaultID: [UInt8], genesisKey: [UInt8], slotID: UInt32, publicKey: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(bytes: label("coffer-slot-auth\0"))
        writer.u8(VaultFile.major)
        writer.raw(vaultID)
        writer.raw(genesisKey)
        writer.u32(slotID)
        writer.raw(publicKey)
        return writer.bytes
    }

    /// What the file signature signs: a label and the BLAKE2b-512 hash of the signed part.
    public static func fileSignature(hash: [UInt8]) -> [UInt8] {
        label("coffer-file-v1\0\0") + hash
    }

    /// What a key-chain link's signature (by the previous key) signs.
    public static func chainLink(vaultID: [UInt8], generation: UInt64, nextKey: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(bytes: label("coffer-chain-v1\0"))
        writer.raw(vaultID)
        writer.u64(generation)
        writer.raw(nextKey)
        return writer.bytes
    }
}

/// Sizes of wrapped grants (Specs/vault-format.md §3.3–3.4).
public enum SlotLayout {
    public static let keyByteCount = 32

    public static func grantByteCount(scope: Scope) -> Int {
        scope.isGlobal ? keyByteCount : scope.visibleScopes.count * keyByteCount
    }

    public static func bindingByteCount(scope: Scope) -> Int {
        FormatMessages.slotBinding(vaultID: [UInt8](repeating: 0, count: VaultFile.vaultIDByteCount), slotID: 0, scope: scope).count
    }

    /// `crypto_box_seal` adds 48 bytes (ephemeral public key and tag) to binding and grant.
    public static func wrappedByteCount(scope: Scope) -> Int {
        48 + bindingByteCount(scope: scope) + grantByteCount(scope: scope)
    }
}
