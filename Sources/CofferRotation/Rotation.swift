public import CofferCodec
public import CofferCrypto

/// Key rotation on a decoded vault: changing one slot, adding and removing slots, and re-keying
/// everything under a fresh master key (Specs/rotation.md).
public enum Rotation {
    /// Re-keys `file`: a fresh master key, every entry re-sealed (and opened again under the new
    /// key in the same pass: the result needs no further check), every slot re-wrapped, and a
    /// key-chain link, signed by the old key, to the new verification key. Names, scopes, metadata
    /// and slot ids are unchanged. The generation is left to the save that writes the result.
    public static func rekey(_ file: VaultFile, from old: KeyGrant) throws -> (file: VaultFile, grant: KeyGrant) {
        guard file.generation < UInt64.max else { throw KeyError.tampered(part: "header: generation at its maximum") }
        let oldSigningKey = try old.signingKey()
        let new = KeyGrant.generate()
        let reader = EntryCipher(vaultID: file.vaultID, grant: old)
        let writer = EntryCipher(vaultID: file.vaultID, grant: new)
        var result = file
        var scratch = EntryCipher.ResealScratch()
        defer { scratch.wipe() }
        var nonces = NonceBatch(nonceByteCount: XChaCha20Poly1305.nonceByteCount)
        for index in file.entries.indices {
            result.entries[index].sealedValue = try reader.reseal(file.entries[index], to: writer, nonces: &nonces, scratch: &scratch)[...]
        }
        for index in result.slots.indices {
            let slot = result.slots[index]
            result.slots[index].wrapped = try SlotWrapping.wrap(
                grant: new, vaultID: file.vaultID, slotID: slot.id, scope: slot.scope, publicKey: slot.publicKey)
        }
        let nextKey = try new.signingKey().publicKey
        let generation = file.generation + 1
        let message = FormatMessages.chainLink(vaultID: file.vaultID, generation: generation, nextKey: nextKey)
        result.keyChain.links.append(KeyChain.Link(
            generation: generation, nextKey: nextKey, signature: oldSigningKey.signature(for: message)))
        return (result, new)
    }

    /// The slot re-made for a new passphrase (fresh salt, new KDF parameters): one slot
    /// rewritten, every entry untouched.
    public static func changePassphrase(
        of slot: Slot, to passphrase: SecureBytes, parameters: Argon2id.Parameters, grant: KeyGrant, vaultID: [UInt8],
        genesisKey: [UInt8]
    ) throws -> Slot {
        guard case .passphrase = slot.kind else { throw KeyError.tampered(part: "slot \(slot.idText) is not a passphrase slot") }
        let salt = SecureRandom.bytes(Argon2id.saltByteCount)
        let secret = try SlotWrapping.passphraseSecretKey(
            passphrase, salt: salt, opsLimit: parameters.opsLimit, memLimit: parameters.memLimit)
        let publicKey = try X25519.publicKey(for: secret)
        var changed = slot
        changed.kind = .passphrase(salt: salt, opsLimit: parameters.opsLimit, memLimit: parameters.memLimit)
        changed.publicKey = publicKey
        changed.wrapped = try SlotWrapping.wrap(
            grant: grant, vaultID: vaultID, slotID: slot.id, scope: slot.scope, publicKey: publicKey)
        changed.authenticator = SlotWrapping.authenticator(of: changed, secretKey: secret, vaultID: vaultID, genesisKey: genesisKey)
        return changed
    }

    /// Inserts `slot` keeping slots ordered by id.
    public static func adding(_ slot: Slot, to file: VaultFile) -> VaultFile {
        var result = file
        let position = result.slots.firstIndex { $0.id > slot.id } ?? result.slots.endIndex
        result.slots.insert(slot, at: position)
        return result
    }

    /// The entries a slot's holder could open: all of them for a full slot, else its scopes'.
    public static func readableEntries(by slot: Slot, in file: VaultFile) -> [Entry] {
        guard !slot.scope.isGlobal else { return file.entries }
        let visible = Set(slot.scope.visibleScopes)
        return file.entries.filter { visible.contains($0.scope) }
    }
}
