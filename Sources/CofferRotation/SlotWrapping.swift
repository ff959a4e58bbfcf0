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

    /// A passphrase slot: fresh salt, Argon2id with `parameters`, the grant sealed to the derived
    /// key, and the authenticator over the vault's id and genesis key.
    public static func makePassphraseSlot(
        passphrase: SecureBytes, parameters: Argon2id.Parameters, label: String, created: UInt64,
        grant: KeyGrant, vaultID: [UInt8], genesisKey: [UInt8], existingIDs: Set<UInt32>
    ) throws -> Slot {
        let salt = SecureRandom.bytes(Argon2id.saltByteCount)
        let secret = try passphraseSecretKey(passphrase, salt: salt, opsLimit: parameters.opsLimit, memLimit: parameters.memLimit)
        var slot = try makeSlot(
            kind: .passphrase(salt: salt, opsLimit: parameters.opsLimit, memLimit: parameters.memLimit),
            publicKey: try X25519.publicKey(for: secret), label: label, scope: .global, created: created,
            grant: grant, vaultID: vaultID, existingIDs: existingIDs)
        slot.authenticator = authenticator(of: slot, secretKey: secret, vaultID: vaultID, genesisKey: genesisKey)
        return slot
    }

    /// Subkey id of a passphrase slot's secret that keys its authenticator (context "COFFERpa").
    static let authenticatorSubkeyID: UInt64 = 1

    /// The authenticator of passphrase slot `slot` whose Argon2id output is `secretKey`: BLAKE2b-256
    /// keyed by `crypto_kdf_derive_from_key(32, 1, "COFFERpa", secretKey)` over
    /// `FormatMessages.slotAuthenticator` (Specs/vault-format.md §3.6).
    public static func authenticator(of slot: Slot, secretKey: SecureBytes, vaultID: [UInt8], genesisKey: [UInt8]) -> [UInt8] {
        let key = BLAKE2b.deriveSubkey(from: secretKey, id: authenticatorSubkeyID, context: "COFFERpa")
        let message = FormatMessages.slotAuthenticator(
            vaultID: vaultID, genesisKey: genesisKey, slotID: slot.id, publicKey: slot.publicKey)
        return BLAKE2b.keyedHash(message, key: key, byteCount: Slot.authenticatorByteCount).withUnsafeBytes { Array($0) }
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

    /// The order slots are tried in: full slots before scoped ones (the widest grant first), then
    /// by slot id (Specs/vault-format.md §3.7).
    public static func unlockOrder(_ slots: [Slot]) -> [Slot] {
        slots.filter { $0.scope.isGlobal } + slots.filter { !$0.scope.isGlobal }
    }

    /// The passphrase slots a passphrase unlock tries, in order; refuses, before any key is
    /// derived, a file asking for more than `Limits.passphraseSlotsPerUnlock` of them or more than
    /// `Limits.unlockWork` of Argon2id in all.
    public static func passphraseAttempt(_ slots: [Slot]) throws(KeyError) -> [Slot] {
        let tried = unlockOrder(slots).filter { if case .passphrase = $0.kind { true } else { false } }
        guard tried.count <= Limits.passphraseSlotsPerUnlock else {
            throw .unlockTooCostly("\(tried.count) passphrase slots; one unlock tries at most \(Limits.passphraseSlotsPerUnlock)")
        }
        var work: UInt64 = 0
        for slot in tried {
            guard case let .passphrase(_, ops, mem) = slot.kind else { continue }
            work += ops * mem  // each at most 16 × 4 GiB (parse caps), 8 of them: no overflow
        }
        guard work <= Limits.unlockWork else {
            throw .unlockTooCostly(
                "its passphrase slots ask \(work >> 20) MiB-passes of Argon2id; one unlock spends at most \(Limits.unlockWork >> 20) (4 × the sensitive preset)")
        }
        return tried
    }

    /// Opens the first passphrase slot of `slots` that `passphrase` opens, in `unlockOrder`; one
    /// Argon2id per passphrase slot tried, within `passphraseAttempt`'s caps. A slot the
    /// passphrase derives must carry a valid authenticator for `vaultID` and `genesisKey`,
    /// checked before its grant is opened; `acceptingMissingAuthenticator` lets `coffer upgrade`
    /// open a 1.0 slot that has none. Returns the slot's Argon2id output too.
    public static func open(
        _ slots: [Slot], passphrase: SecureBytes, vaultID: [UInt8], genesisKey: [UInt8],
        acceptingMissingAuthenticator: Bool = false
    ) throws -> (slot: Slot, grant: KeyGrant, secretKey: SecureBytes) {
        var failure: KeyError = .authenticationFailed
        for slot in try passphraseAttempt(slots) {
            guard case let .passphrase(salt, ops, mem) = slot.kind else { continue }
            let secret = try passphraseSecretKey(passphrase, salt: salt, opsLimit: ops, memLimit: mem)
            guard let publicKey = try? X25519.publicKey(for: secret), ConstantTime.equals(publicKey, slot.publicKey) else {
                continue
            }
            if let stored = slot.authenticator {
                let expected = authenticator(of: slot, secretKey: secret, vaultID: vaultID, genesisKey: genesisKey)
                guard ConstantTime.equals(stored, expected) else { throw KeyError.forged(slot: slot.idText) }
            } else if !acceptingMissingAuthenticator {
                throw KeyError.unauthenticatedSlot(slot: slot.idText)
            }
            do {
                return (slot, try open(slot, secretKey: secret, vaultID: vaultID), secret)
            } catch {
                failure = error
            }
        }
        throw failure
    }

    /// Opens the first slot, in `unlockOrder`, whose public key is one of `secretKeys`' (identities);
    /// every matching slot is tried until one opens.
    public static func open(_ slots: [Slot], secretKeys: [SecureBytes], vaultID: [UInt8]) throws -> (Slot, KeyGrant) {
        let publicKeys = try secretKeys.map { try X25519.publicKey(for: $0) }
        var failure: KeyError = .authenticationFailed
        for slot in unlockOrder(slots) where slot.kind.opensWithIdentity {
            for (secret, publicKey) in zip(secretKeys, publicKeys) where ConstantTime.equals(slot.publicKey, publicKey) {
                do {
                    return (slot, try open(slot, secretKey: secret, vaultID: vaultID))
                } catch {
                    failure = error
                }
            }
        }
        throw failure
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
