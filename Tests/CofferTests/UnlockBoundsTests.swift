import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Testing

/// Bounded unlocking and slot order (Specs/vault-format.md §3.7): what one unlock may be made to
/// spend, and which slot an identity holding several gets.
@Suite struct UnlockBoundsTests {
    /// A real vault with its slots replaced by `slots` (built by `makeSlots` from the vault's id and
    /// master key) and re-signed by its key, as its key holder (or the maker of any vault) can.
    static func vault(
        in directory: TemporaryDirectory, slots makeSlots: (_ vaultID: [UInt8], _ grant: KeyGrant) throws -> [Slot]
    ) throws -> (path: String, grant: KeyGrant) {
        let path = directory.file("v.coffer")
        let real = try makeVault(at: path, entries: [(.global, "a", Array("global-value".utf8)), (Scope(project: "P"), "b", [2])])
        let grant = try #require(real.keyGrant)
        var file = real.file
        file.slots = try makeSlots(file.vaultID, grant).sorted { $0.id < $1.id }
        try writeBytes(signed(VaultEncoder.encodeSignedPart(file), with: grant.signingKey()), to: path)
        return (path, grant)
    }

    static func passphraseSlot(id: UInt32, ops: UInt64, mem: UInt64, vaultID: [UInt8], grant: KeyGrant) throws -> Slot {
        let publicKey = try X25519.publicKey(for: SecureBytes.random(count: 32))
        return Slot(
            id: id, kind: .passphrase(salt: SecureRandom.bytes(16), opsLimit: ops, memLimit: mem), label: "hostile",
            created: 0, scope: .global, publicKey: publicKey,
            wrapped: try SlotWrapping.wrap(grant: grant, vaultID: vaultID, slotID: id, scope: .global, publicKey: publicKey),
            authenticator: [UInt8](repeating: 0, count: 32))
    }

    /// An attack on availability: 64 passphrase slots of 16 passes over 4 GiB would make one unlock
    /// take about an hour and 4 GiB. Refused before any derivation (the CLI test shows none ran).
    @Test func sixtyFourMaximalPassphraseSlotsAreRefusedBeforeAnyDerivation() throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try Self.vault(in: directory) { vaultID, grant in
            try (1...64).map { try Self.passphraseSlot(id: UInt32($0), ops: 16, mem: 4 << 30, vaultID: vaultID, grant: grant) }
        }
        let vault = try Vault.open(at: path)
        let error = #expect(throws: CofferError.self) { try vault.unlock(passphrase: secure(testPassphrase)) }
        #expect(error?.part.contains("64 passphrase slots; one unlock tries at most 8") == true, "\(String(describing: error))")
        #expect(!vault.isUnlocked)
    }

    @Test func passphraseSlotsAskingMoreThanTheWorkCapAreRefused() throws {
        let directory = try TemporaryDirectory()
        let (path, _) = try Self.vault(in: directory) { vaultID, grant in
            try (1...2).map { try Self.passphraseSlot(id: UInt32($0), ops: 16, mem: 4 << 30, vaultID: vaultID, grant: grant) }
        }
        let error = #expect(throws: CofferError.self) { try Vault.open(at: path).unlock(passphrase: secure(testPassphrase)) }
        #expect(error?.part.contains("at most 16384 (4 × the sensitive preset)") == true, "\(String(describing: error))")
    }

    @Test func writersKeepTheUnlockWithinTheCaps() throws {
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("v.coffer"), entries: [])
        for _ in 1..<8 { try vault.addPassphraseSlot(secure("another"), kdf: testKDF) }
        #expect(throws: CofferError.self) { try vault.addPassphraseSlot(secure("ninth"), kdf: testKDF) }
        #expect(throws: CofferError.self) {
            try vault.changePassphrase(to: secure("x"), kdf: try Argon2id.Parameters(opsLimit: 16, memLimit: 4 << 30))
        }
    }

    /// Slot ids are random, so an identity holding a scoped and a full slot once got either. The
    /// scoped slot is given the lower id here: the full grant must still win.
    @Test func identityHoldingAFullAndAScopedSlotAlwaysGetsTheFullGrant() throws {
        let directory = try TemporaryDirectory()
        let identity = SecureBytes.random(count: 32)
        let publicKey = try X25519.publicKey(for: identity)
        let scoped = Scope(project: "P")
        let (path, _) = try Self.vault(in: directory) { vaultID, grant in
            try [(UInt32(1), scoped), (UInt32(2), Scope.global)].map { id, scope in
                Slot(id: id, kind: .recipient, label: "ci", created: 0, scope: scope, publicKey: publicKey,
                     wrapped: try SlotWrapping.wrap(grant: grant, vaultID: vaultID, slotID: id, scope: scope, publicKey: publicKey))
            }
        }
        let vault = try Vault.open(at: path)
        try vault.unlock(identities: [identity])
        #expect(vault.canWrite)
        #expect(vault.unlockedSlot?.id == 2)
    }

    /// Every slot matching the credential is tried until one opens: a first matching slot whose
    /// box does not open (here: wrapped to the key with another slot id) does not stop the unlock.
    @Test func everyMatchingSlotIsTriedUntilOneOpens() throws {
        let directory = try TemporaryDirectory()
        let identity = SecureBytes.random(count: 32)
        let publicKey = try X25519.publicKey(for: identity)
        let (path, _) = try Self.vault(in: directory) { vaultID, grant in
            [
                Slot(id: 1, kind: .recipient, label: "stale", created: 0, scope: .global, publicKey: publicKey,
                     wrapped: try SlotWrapping.wrap(grant: grant, vaultID: vaultID, slotID: 7, scope: .global, publicKey: publicKey)),
                Slot(id: 2, kind: .recipient, label: "good", created: 0, scope: .global, publicKey: publicKey,
                     wrapped: try SlotWrapping.wrap(grant: grant, vaultID: vaultID, slotID: 2, scope: .global, publicKey: publicKey)),
            ]
        }
        let vault = try Vault.open(at: path)
        try vault.unlock(identities: [identity])
        #expect(vault.unlockedSlot?.id == 2)
        #expect(try vault.value(for: "a") == Array("global-value".utf8))
    }
}
