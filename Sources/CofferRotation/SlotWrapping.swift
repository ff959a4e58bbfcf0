public import CofferCodec
public import CofferCrypto

/// Making, opening and re-wrapping key slots (Specs/vault-format.md §3.4).
public enum SlotWrapping {
    /// The X25519 secret key a passphrase slot's parameters derive from `passphrase`.
    public static func passphraseSecretKey(
        _ passphrase: SecureBytes, salt: [UInt8], opsLimit: UInt64, memLimit: UInt64
    ) throws -> SecureBytes {
        let parameters = try Argon2id.Parameters(opsLimit: opsLimit, memLimit: memLimit)
        return try Argon2id.deriveKey(passphrase: passphrase, salt: salt, parameters: parameters)
    }

    /// Seals `grant`'s keys for `scope` to `publicKey`, bound to this vault and slot id.
    public static func wrap(grant: KeyGrant, vaultID: [UInt8], slotID: UInt32, scope: Scope, publicKey: [UInt8]) throws -> [UInt8] {
        let binding = FormatMessages.slotBinding(vaultID: vaultID, slotID: slotID, scope: scope)
        let keys = try grant.grantBytes(for: scope)
        let plaintext = SecureBytes(count: binding.count + keys.count)
        plaintext.withUnsafeMutableBytes { out in
            out.copyBytes(from: binding)
            keys.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[binding.count...]).copyMemory(from: $0) }
        }
        return try X25519.seal(plaintext, to: publicKey)
    }

    /// A new slot granting `scope` (global = the master key) to the holder of `publicKey`'s secret.
    public static func makeSlot(
        kind: Slot.Kind, publicKey: [UInt8], label: String, scope: Scope, created: UInt64,
        grant: KeyGrant, vaultID: [UInt8], existingIDs: Set<UInt32>
    ) throws -> Slot {
        var id: UInt32
        repeat {
            id = SecureRandom.bytes(4).reduce(0) { $0 << 8 | UInt32($1) }
        } while existingIDs.contains(id)
        let wrapped = try wrap(grant: grant, vaultID: vaultID, slotID: id, scope: scope, publicKey: publicKey)
        return Slot(id: id, kind: kind, label: label, created: created, scope: scope, publicKey: publicKey, wrapped: wrapped)
    }

    /// A passphrase slot: fresh salt, Argon2id with `parameters`, and the grant sealed to the derived key.
    public static func makePassphraseSlot(
        passphrase: SecureBytes, parameters: Argon2id.Parameters, label: String, created: UInt64,
        grant: KeyGrant, vaultID: [UInt8], existingIDs: Set<UInt32>
    ) throws -> Slot {
        let salt = SecureRandom.bytes(Argon2id.saltByteCount)
        let secret = try passphraseSecretKey(passphrase, salt: salt, opsLimit: parameters.opsLimit, memLimit: parameters.memLimit)
        return try makeSlot(
            kind: .passphrase(salt: salt, opsLimit: parameters.opsLimit, memLimit: parameters.memLimit),
            publicKey: try X25519.publicKey(for: secret), label: label, scope: .global, created: created,
            grant: grant, vaultID: vaultID, existingIDs: existingIDs)
    }

    /// Opens `slot` with an X25519 secret key; fails with `authenticationFailed` when it is not this slot's.
    public static func open(_ slot: Slot, secretKey: SecureBytes, vaultID: [UInt8]) throws(KeyError) -> KeyGrant {
        let opened: SecureBytes
        do {
            opened = try X25519.open(slot.wrapped, secretKey: secretKey)
        } catch {
            throw .authenticationFailed
        }
        let binding = FormatMessages.slotBinding(vaultID: vaultID, slotID: slot.id, scope: slot.scope)
        let grantCount = SlotLayout.grantByteCount(scope: slot.scope)
        guard opened.count == binding.count + grantCount else { throw .tampered(part: "slot \(slot.idText)") }
        let bindingMatches = opened.withUnsafeBytes { bytes in
            binding.withUnsafeBytes { ConstantTime.equals(UnsafeRawBufferPointer(rebasing: bytes[..<binding.count]), $0) }
        }
        guard bindingMatches else { throw .tampered(part: "slot \(slot.idText)") }
        return KeyGrant.parsing(opened.slice(binding.count..<opened.count), scope: slot.scope)
    }

    /// Opens the first of `slots` that `passphrase` opens; one Argon2id per passphrase slot tried.
    public static func open(_ slots: [Slot], passphrase: SecureBytes, vaultID: [UInt8]) throws -> (Slot, KeyGrant) {
        for slot in slots {
            guard case let .passphrase(salt, ops, mem) = slot.kind else { continue }
            let secret = try passphraseSecretKey(passphrase, salt: salt, opsLimit: ops, memLimit: mem)
            guard let publicKey = try? X25519.publicKey(for: secret), ConstantTime.equals(publicKey, slot.publicKey) else {
                continue
            }
            return (slot, try open(slot, secretKey: secret, vaultID: vaultID))
        }
        throw KeyError.authenticationFailed
    }

    /// Opens the first of `slots` whose public key is one of `secretKeys`' (identities).
    public static func open(_ slots: [Slot], secretKeys: [SecureBytes], vaultID: [UInt8]) throws -> (Slot, KeyGrant) {
        for secret in secretKeys {
            let publicKey = try X25519.publicKey(for: secret)
            for slot in slots where slot.kind.opensWithIdentity && ConstantTime.equals(slot.publicKey, publicKey) {
                return (slot, try open(slot, secretKey: secret, vaultID: vaultID))
            }
        }
        throw KeyError.authenticationFailed
    }
}

extension Slot.Kind {
    /// Recipient and SSH slots open with an identity's X25519 secret key; passphrase slots do not.
    public var opensWithIdentity: Bool {
        switch self {
        case .passphrase: false
        case .recipient, .sshEd25519, .plugin: true
        }
    }
}

extension SlotWrapping {
    /// A plugin slot's X25519 secret key: BLAKE2b-256 keyed by the 16-byte key the plugin wraps
    /// (Specs/vault-format.md 3.4).
    public static func pluginSecretKey(_ pluginKey: SecureBytes) -> SecureBytes {
        BLAKE2b.keyedHash(Array("coffer-plugin-slot-v1".utf8), key: pluginKey, byteCount: X25519.keyByteCount)
    }
}
