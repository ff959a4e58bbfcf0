public import CofferCodec
public import CofferCrypto
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

/// Key slots and rotation: each method changes the vault in memory; `save()` writes it.
extension Vault {
    private func requireMasterKey() throws -> KeyGrant {
        try requireWholeFile()
        guard let grant = keyGrant, grant.isFull else {
            throw CofferError.keyUnavailable(isUnlocked ? "only a holder of the master key can change key slots" : "the vault is locked")
        }
        return grant
    }

    /// A re-key adds the key-chain link of the next save's generation: a second one before that
    /// save would add another of the same generation, which no reader accepts.
    private func requireNoUnsavedRekey() throws {
        guard (header.keyChain.links.last?.generation ?? 0) <= header.generation else {
            throw CofferError.conflict("the vault was re-keyed since it was last saved: save it before re-keying again")
        }
    }

    private func slotIndex(_ id: UInt32) throws -> Int {
        guard let index = file.slots.firstIndex(where: { $0.id == id }) else {
            throw CofferError.entryMissing(name: Slot.idText(id), scope: "key slots")
        }
        return index
    }

    /// Gives slot `id` (default: the slot this vault was unlocked with) a new passphrase and KDF
    /// parameters. Rewrites that slot only.
    public func changePassphrase(slot id: UInt32? = nil, to passphrase: SecureBytes, kdf: Argon2id.Parameters) throws {
        let grant = try requireMasterKey()
        guard let id = id ?? unlockedSlot?.id else {
            throw CofferError.invalidArgument("name the slot to change with --slot")
        }
        let index = try slotIndex(id)
        var content = file
        content.slots[index] = try Vault.mapKeyErrors {
            try Rotation.changePassphrase(
                of: file.slots[index], to: passphrase, parameters: try Vault.checked(kdf), grant: grant, vaultID: file.vaultID,
                genesisKey: file.keyChain.genesisKey)
        }
        try Vault.requireOpenable(content.slots)
        try replaceSlots(content, grant: grant)
    }

    /// Adds a passphrase slot granting the master key.
    @discardableResult
    public func addPassphraseSlot(_ passphrase: SecureBytes, kdf: Argon2id.Parameters, label: String = "passphrase") throws -> Slot {
        let grant = try requireMasterKey()
        try Vault.validateText(nil, label: label)
        let slot = try Vault.mapKeyErrors {
            try SlotWrapping.makePassphraseSlot(
                passphrase: passphrase, parameters: try Vault.checked(kdf), label: label, created: clock(),
                grant: grant, vaultID: file.vaultID, genesisKey: file.keyChain.genesisKey,
                existingIDs: Set(file.slots.map(\.id)))
        }
        try insert(slot, grant: grant)
        return slot
    }

    /// Adds an X25519 recipient slot (an age public key, or with `kind` `.sshEd25519` the
    /// conversion of an SSH key); a non-global `scope` grants only what a reader selecting that
    /// scope sees, read-only.
    @discardableResult
    public func addRecipientSlot(
        _ publicKey: [UInt8], kind: Slot.Kind = .recipient, label: String = "recipient", scope: Scope = .global
    ) throws -> Slot {
        let grant = try requireMasterKey()
        try Vault.validateText(nil, label: label)
        try Vault.validate(name: "slot", scope: scope)
        precondition(kind.opensWithIdentity, "passphrase slots are added with addPassphraseSlot")
        if case let .plugin(recipient, stanzas) = kind {
            guard recipient.utf8.count <= Limits.pluginRecipientBytes, stanzas.count <= Limits.pluginStanzaBytes,
                  !recipient.contains(where: \.isNewline) else {
                throw CofferError.invalidArgument("the plugin's recipient or stanzas are longer than a vault holds")
            }
        }
        if file.slots.contains(where: { $0.kind.opensWithIdentity && $0.publicKey == publicKey && $0.scope == scope }) {
            throw CofferError.conflict("this recipient already has a slot with that scope")
        }
        let slot = try Vault.mapKeyErrors {
            try SlotWrapping.makeSlot(
                kind: kind, publicKey: publicKey, label: label, scope: scope, created: clock(),
                grant: grant, vaultID: file.vaultID, existingIDs: Set(file.slots.map(\.id)))
        }
        try insert(slot, grant: grant)
        return slot
    }

    private func insert(_ slot: Slot, grant: KeyGrant) throws {
        guard file.slots.count < Limits.slots else {
            throw CofferError.invalidArgument("a vault holds at most \(Limits.slots) key slots")
        }
        let content = Rotation.adding(slot, to: file)
        try Vault.requireOpenable(content.slots)
        try replaceSlots(content, grant: grant)
    }

    /// Refuses passphrase slots that a reader would refuse to try (`SlotWrapping.passphraseAttempt`).
    static func requireOpenable(_ slots: [Slot]) throws {
        do {
            _ = try SlotWrapping.passphraseAttempt(slots)
        } catch let .unlockTooCostly(reason) {
            throw CofferError.invalidArgument("the vault would have \(reason)")
        } catch {
            throw CofferError(error)
        }
    }

    /// Removes slot `id` (never the last), by default re-keying so the removed party's copy of the
    /// master key opens nothing written from now on. Returns the entries that party could read:
    /// those values are in every copy of the old file and must be changed at their source.
    @discardableResult
    public func removeSlot(_ id: UInt32, rekey: Bool = true) throws -> [VaultEntry] {
        let grant = try requireMasterKey()
        if rekey { try requireNoUnsavedRekey() }
        let index = try slotIndex(id)
        guard file.slots.contains(where: { $0.id != id && $0.scope.isGlobal }) else {
            throw CofferError.conflict("the last key slot that opens the whole vault cannot be removed")
        }
        let exposed = Rotation.readableEntries(by: file.slots[index], in: file).map(VaultEntry.init)
        if rekey {
            let current = entryIndex
            var remaining = current.header
            remaining.slots.remove(at: index)
            let (rekeyed, newGrant) = try Vault.mapKeyErrors {
                try Rotation.rekey(current.replacing(header: remaining, bytes: current.bytes), from: grant)
            }
            try replaceContent(rekeyed, grant: newGrant)
        } else {
            var content = file
            content.slots.remove(at: index)
            try replaceSlots(content, grant: grant)
        }
        return exposed
    }

    /// A fresh master key: every entry re-sealed, every slot re-wrapped, the key chain extended.
    public func rotate() throws {
        let grant = try requireMasterKey()
        try requireNoUnsavedRekey()
        let (rekeyed, newGrant) = try Vault.mapKeyErrors { try Rotation.rekey(entryIndex, from: grant) }
        try replaceContent(rekeyed, grant: newGrant)
    }
}
