import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Testing

/// Key rotation in the library (issue 12): passphrase changes, re-keying, slot removal, and who
/// can open what afterwards.
@Suite struct RotationTests {
    static let project = Scope(project: "P")
    static let prod = Scope(domain: "prod")
    static let projectProd = Scope(project: "P", domain: "prod")
    static let projectDev = Scope(project: "P", domain: "dev")
    static let other = Scope(project: "Q")

    static let entries: [(scope: Scope, name: String, value: [UInt8])] = [
        (.global, "shared", Array("g".utf8)), (project, "p", Array("project".utf8)), (prod, "d", Array("domain".utf8)),
        (projectProd, "pp", Array("project+domain".utf8)), (projectDev, "pd", Array("dev only".utf8)),
        (other, "q", Array("other project".utf8)), (.global, "binary", [0, 255, 10, 13]),
    ]

    static var allValues: [String: [UInt8]] {
        Dictionary(uniqueKeysWithValues: entries.map { (entryKey($0.name, $0.scope), $0.value) })
    }

    /// A vault holding `entries`, one with a description and the no-reveal flag.
    static func populated(in directory: TemporaryDirectory) throws -> Vault {
        let vault = try makeVault(at: directory.file("v.coffer"), entries: entries)
        try vault.set("shared", value: Array("g".utf8), overwrite: true, description: "kept as is", noReveal: true)
        try vault.save()
        return vault
    }

    static func unlocked(_ path: String, passphrase: String = testPassphrase) throws -> Vault {
        let vault = try Vault.open(at: path)
        try vault.unlock(passphrase: secure(passphrase))
        return vault
    }

    static func unlocked(_ path: String, identity: SecureBytes) throws -> Vault {
        let vault = try Vault.open(at: path)
        try vault.unlock(identities: [identity])
        return vault
    }

    /// Everything of an entry but its sealed value.
    static func metadata(_ file: VaultFile) -> [String] {
        file.entries.map { "\($0.scope)|\($0.name)|\($0.created)|\($0.updated)|\($0.flags)|\($0.description)" }
    }

    // MARK: Passphrase change

    @Test func changingAPassphraseRewritesOneSlotAndLeavesEveryEntryByteIdentical() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        let second = try vault.addPassphraseSlot(secure("second passphrase"), kdf: testKDF, label: "second")
        try vault.save()
        let before = try VaultDecoder.decode(try readBytes(vault.path))

        let changer = try Self.unlocked(vault.path)
        let changed = try #require(changer.unlockedSlot)
        try changer.changePassphrase(to: secure("a new passphrase"), kdf: testKDF)
        try changer.save()

        let after = try VaultDecoder.decode(try readBytes(vault.path))
        #expect(after.entries.map(VaultEncoder.encodedEntry) == before.entries.map(VaultEncoder.encodedEntry))
        #expect(after.keyChain == before.keyChain)
        #expect(after.slots.first { $0.id == second.id } == before.slots.first { $0.id == second.id })
        let newSlot = try #require(after.slots.first { $0.id == changed.id })
        #expect(newSlot.wrapped != changed.wrapped && newSlot.publicKey != changed.publicKey)
        #expect(newSlot.label == changed.label && newSlot.created == changed.created)

        #expect(throws: CofferError.authenticationFailed) { try Self.unlocked(vault.path) }
        #expect(try readableValues(try Self.unlocked(vault.path, passphrase: "a new passphrase")) == Self.allValues)
        #expect(try readableValues(try Self.unlocked(vault.path, passphrase: "second passphrase")) == Self.allValues)
    }

    @Test func aPassphraseChangeRefusesRecipientSlotsAndKeysThatCannotWrite() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        let identity = X25519.generateSecretKey()
        let recipient = try vault.addRecipientSlot(try X25519.publicKey(for: identity))
        let scoped = X25519.generateSecretKey()
        try vault.addRecipientSlot(try X25519.publicKey(for: scoped), scope: Self.projectProd)
        try vault.save()

        #expect(throws: CofferError.tampered(part: "slot \(recipient.idText) is not a passphrase slot")) {
            try vault.changePassphrase(slot: recipient.id, to: secure("x"), kdf: testKDF)
        }
        let reader = try Self.unlocked(vault.path, identity: scoped)
        #expect(throws: CofferError.keyUnavailable("only a holder of the master key can change key slots")) {
            try reader.changePassphrase(slot: vault.slots[0].id, to: secure("x"), kdf: testKDF)
        }
    }

    // MARK: Re-keying

    @Test func afterRotationTheOldMasterKeyOpensNothing() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        let oldGrant = try #require(vault.keyGrant)
        let oldKey = vault.verificationKey
        let before = try VaultDecoder.decode(try readBytes(vault.path))
        let oldCipher = EntryCipher(vaultID: vault.vaultID, grant: oldGrant)
        for entry in before.entries { _ = try oldCipher.open(entry) }  // the check below is not vacuous

        try vault.rotate()
        try vault.save()

        let reopened = try Vault.open(at: vault.path)  // verifies the key chain and signature
        let after = reopened.file
        #expect(after.entries.count == Self.entries.count)
        for entry in after.entries {
            #expect(throws: KeyError.tampered(part: "entry \(entry.scope)/\(entry.name)")) { try oldCipher.open(entry) }
        }
        #expect(reopened.verificationKey != oldKey)
        #expect(throws: CofferError.tampered(part: "verification key does not match the master key")) {
            try reopened.unlock(grant: oldGrant)
        }

        #expect(after.keyChain.genesisKey == before.keyChain.genesisKey)
        #expect(after.keyChain.links.count == before.keyChain.links.count + 1)
        let link = try #require(after.keyChain.links.last)
        #expect(link.nextKey == reopened.verificationKey)
        #expect(Ed25519.isValidSignature(
            link.signature, for: FormatMessages.chainLink(vaultID: after.vaultID, generation: link.generation, nextKey: link.nextKey),
            publicKey: oldKey))
        #expect(try vault.keyGrant?.signingKey().publicKey == reopened.verificationKey)

        #expect(Self.metadata(after) == Self.metadata(before))
        for (old, new) in zip(before.entries, after.entries) { #expect(old.sealedValue != new.sealedValue) }
        #expect(after.slots.map(\.id) == before.slots.map(\.id))
        #expect(after.slots.map(\.label) == before.slots.map(\.label))
        #expect(after.slots.map(\.kind) == before.slots.map(\.kind))
        for (old, new) in zip(before.slots, after.slots) { #expect(old.wrapped != new.wrapped) }

        let fresh = try Self.unlocked(vault.path)
        #expect(try readableValues(fresh) == Self.allValues)
        #expect(fresh.entry("shared")?.description == "kept as is" && fresh.entry("shared")?.isNoReveal == true)
    }

    @Test func aRekeyRefusesAForgedEntryInsteadOfResealingIt() throws {
        // The attack: one entry's ciphertext altered in a file that is then re-keyed; re-sealing
        // must not launder it into a validly sealed (and newly signed) entry.
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        var forged = vault.file
        let index = try #require(forged.entries.firstIndex { $0.name == "pp" })
        var sealed = Array(forged.entries[index].sealedValue)
        sealed[sealed.count - 1] ^= 1
        forged.entries[index].sealedValue = sealed[...]
        #expect(throws: KeyError.tampered(part: "entry \(Self.projectProd)/pp")) {
            try Rotation.rekey(VaultIndex(encoding: forged), from: try #require(vault.keyGrant))
        }
    }

    @Test func entryKeysAreTheSpecsWhicheverScopeCameBefore() throws {
        // EntryCipher keeps a hasher keyed for the last scope: entries sealed and opened with
        // scopes alternating use EK of Specs/vault-format.md §3.2, derived here with the one-shot
        // keyed hash, and nothing of the scope before.
        let grant = KeyGrant.generate()
        let vaultID = SecureRandom.bytes(16)
        let cipher = EntryCipher(vaultID: vaultID, grant: grant)
        let order = [Scope.global, Self.project, Self.project, Self.other, .global, Self.projectProd, Self.project]
        for (number, scope) in order.enumerated() {
            let name = "k\(number)"
            let value = Array("value \(number)".utf8)
            let sealed = try cipher.seal(value, name: name, scope: scope)
            let entryKey = BLAKE2b.keyedHash(FormatMessages.entryKey(name: name), key: try grant.scopeKey(for: scope))
            let box = try XChaCha20Poly1305.SealedBox(combined: sealed)
            let ad = FormatMessages.entryAssociatedData(vaultID: vaultID, scope: scope, name: name)
            #expect(try XChaCha20Poly1305.open(box, key: entryKey, authenticating: ad) == value)
            let entry = Entry(name: name, scope: scope, created: 0, updated: 0, flags: 0, description: "", sealedValue: sealed[...])
            #expect(try cipher.open(entry) == value)
        }
    }

    @Test func aRekeyDrawsADistinctNonceForEveryEntryAcrossNonceBatches() throws {
        // 2,500 equal values: more than two batches of 1,024 nonces, and nothing but the nonce
        // tells their seals apart.
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("v.coffer"), entries: [])
        for number in 0..<2500 { try vault.set("k\(number)", value: Array("same".utf8)) }
        let (rekeyedIndex, grant) = try Rotation.rekey(VaultIndex(encoding: vault.file), from: try #require(vault.keyGrant))
        let rekeyed = rekeyedIndex.decoded()
        let nonces = Set(rekeyed.entries.map { Array($0.sealedValue.prefix(XChaCha20Poly1305.nonceByteCount)) })
        #expect(nonces.count == 2500)
        let cipher = EntryCipher(vaultID: rekeyed.vaultID, grant: grant)
        for entry in rekeyed.entries { #expect(try cipher.open(entry) == Array("same".utf8)) }
    }

    /// More entries than `Rotation` re-seals in one part, spread over three scopes so scopes
    /// change within and across the parts, each with its own value.
    static let manyEntries: [(scope: Scope, name: String, value: [UInt8])] = (0..<(Rotation.parallelEntryCount + 904)).map { number in
        let scope = [Scope.global, project, other][number % 3]
        return (scope, "k\(number)", Array("value \(number)".utf8))
    }

    @Test func aVaultLargeEnoughToBeResealedInPartsOpensOnlyWithTheNewKeyAfterRotation() throws {
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("v.coffer"), entries: Self.manyEntries)
        let oldCipher = EntryCipher(vaultID: vault.vaultID, grant: try #require(vault.keyGrant))
        let before = vault.file

        try vault.rotate()
        try vault.save()

        let reopened = try Self.unlocked(vault.path)
        let after = reopened.file
        #expect(Self.metadata(after) == Self.metadata(before))
        let expected = Dictionary(uniqueKeysWithValues: Self.manyEntries.map { (entryKey($0.name, $0.scope), $0.value) })
        #expect(try readableValues(reopened) == expected)
        let newCipher = EntryCipher(vaultID: after.vaultID, grant: try #require(reopened.keyGrant))
        var openedWithOldKey = 0
        for entry in after.entries {
            #expect(try newCipher.open(entry) == expected[entryKey(entry.name, entry.scope)])
            if (try? oldCipher.open(entry)) != nil { openedWithOldKey += 1 }
        }
        #expect(openedWithOldKey == 0)
        let nonces = Set(after.entries.map { Array($0.sealedValue.prefix(XChaCha20Poly1305.nonceByteCount)) })
        #expect(nonces.count == Self.manyEntries.count)
    }

    @Test func aRekeyInPartsRefusesForgedEntriesNamingTheFirstAsOnePassWould() throws {
        // The attack: entries altered in a large vault, one near the start and one at the end,
        // which are re-sealed by different parts; whichever part fails first in time, the error
        // names the first forged entry, and with only the last forged, the last.
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("v.coffer"), entries: Self.manyEntries)
        let grant = try #require(vault.keyGrant)
        func forging(_ indices: [Int]) -> VaultIndex {
            var forged = vault.file
            for index in indices {
                var sealed = Array(forged.entries[index].sealedValue)
                sealed[sealed.count - 1] ^= 1
                forged.entries[index].sealedValue = sealed[...]
            }
            return VaultIndex(encoding: forged)
        }
        let first = vault.file.entries[100]
        let last = try #require(vault.file.entries.last)
        let lastIndex = vault.file.entries.count - 1
        #expect(throws: KeyError.tampered(part: "entry \(first.scope)/\(first.name)")) {
            try Rotation.rekey(forging([100, lastIndex]), from: grant)
        }
        #expect(throws: KeyError.tampered(part: "entry \(last.scope)/\(last.name)")) {
            try Rotation.rekey(forging([lastIndex]), from: grant)
        }
    }

    @Test func everyRotationAddsOneLinkThatVerifies() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        var keys = [vault.verificationKey]
        for _ in 0..<3 {
            let writer = try Self.unlocked(vault.path)
            try writer.rotate()
            try writer.save()
            keys.append(writer.verificationKey)
        }
        let file = try Vault.open(at: vault.path).file
        #expect(file.keyChain.allKeys == keys)
        #expect(Set(keys).count == 4)
        for (index, link) in file.keyChain.links.enumerated() {
            let message = FormatMessages.chainLink(vaultID: file.vaultID, generation: link.generation, nextKey: link.nextKey)
            #expect(Ed25519.isValidSignature(link.signature, for: message, publicKey: keys[index]))
        }
        #expect(try readableValues(try Self.unlocked(vault.path)) == Self.allValues)
    }

    @Test func aScopedRecipientReadsTheSameScopesAfterRotationFromTheFileBytes() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        let identity = X25519.generateSecretKey()
        try vault.addRecipientSlot(try X25519.publicKey(for: identity), label: "ci", scope: Self.projectProd)
        try vault.rotate()
        try vault.save()

        let reader = try Vault(bytes: try readBytes(vault.path), path: vault.path)
        try reader.unlock(identities: [identity])
        #expect(!reader.canWrite)
        #expect(try readableValues(reader) == Self.allValues.filter { ["//shared", "P//p", "/prod/d", "P/prod/pp", "//binary"].contains($0.key) })
        for (scope, name) in [(Self.projectDev, "pd"), (Self.other, "q")] {
            #expect(throws: CofferError.keyUnavailable("the key in hand does not grant scope \(scope)")) {
                try reader.value(for: name, in: scope)
            }
        }
        #expect(throws: CofferError.keyUnavailable("only a holder of the master key can change key slots")) { try reader.rotate() }
    }

    // MARK: Slot removal

    @Test func removingASlotRekeysSoItsCopyOfTheMasterKeyOpensNothing() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        let departing = try vault.addPassphraseSlot(secure("departing"), kdf: testKDF, label: "leaver")
        try vault.save()
        let leaver = try Self.unlocked(vault.path, passphrase: "departing")
        let leaversGrant = try #require(leaver.keyGrant)
        let linksBefore = leaver.file.keyChain.links.count

        let admin = try Self.unlocked(vault.path)
        let exposed = try admin.removeSlot(departing.id)
        try admin.save()
        #expect(exposed == leaver.entries)

        let after = try Vault.open(at: vault.path)
        #expect(!after.slots.contains { $0.id == departing.id })
        #expect(after.file.keyChain.links.count == linksBefore + 1)
        let cipher = EntryCipher(vaultID: after.vaultID, grant: leaversGrant)
        for entry in after.file.entries {
            #expect(throws: KeyError.tampered(part: "entry \(entry.scope)/\(entry.name)")) { try cipher.open(entry) }
        }
        #expect(throws: CofferError.authenticationFailed) { try Self.unlocked(vault.path, passphrase: "departing") }
        #expect(try readableValues(try Self.unlocked(vault.path)) == Self.allValues)
    }

    @Test func removingAScopedSlotReportsOnlyWhatItCouldRead() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        let identity = X25519.generateSecretKey()
        let slot = try vault.addRecipientSlot(try X25519.publicKey(for: identity), scope: Self.projectProd)
        try vault.save()

        let exposed = try vault.removeSlot(slot.id)
        try vault.save()
        #expect(Set(exposed.map { entryKey($0.name, $0.scope) }) == ["//shared", "P//p", "/prod/d", "P/prod/pp", "//binary"])
        #expect(throws: CofferError.authenticationFailed) { try Self.unlocked(vault.path, identity: identity) }
    }

    @Test func removingWithoutRekeyKeepsTheMasterKeyAndEveryEntry() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        let departing = try vault.addPassphraseSlot(secure("departing"), kdf: testKDF)
        try vault.save()
        let before = try VaultDecoder.decode(try readBytes(vault.path))

        try vault.removeSlot(departing.id, rekey: false)
        try vault.save()
        let after = try VaultDecoder.decode(try readBytes(vault.path))
        #expect(after.keyChain == before.keyChain)
        #expect(after.entries.map(VaultEncoder.encodedEntry) == before.entries.map(VaultEncoder.encodedEntry))
        #expect(after.slots == before.slots.filter { $0.id != departing.id })
        #expect(throws: CofferError.authenticationFailed) { try Self.unlocked(vault.path, passphrase: "departing") }
    }

    @Test func theLastSlotCannotBeRemoved() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        let bytes = try readBytes(vault.path)
        #expect(throws: CofferError.conflict("the last key slot that opens the whole vault cannot be removed")) { try vault.removeSlot(vault.slots[0].id) }
        #expect(!vault.hasUnsavedChanges)
        #expect(try readBytes(vault.path) == bytes)
        #expect(throws: CofferError.entryMissing(name: "00000000", scope: "key slots")) { try vault.removeSlot(0) }
    }

    // MARK: Many parties

    @Test func threePassphrasesAndTwoRecipientsEachOpenTheWholeVault() throws {
        let directory = try TemporaryDirectory()
        let vault = try Self.populated(in: directory)
        try vault.addPassphraseSlot(secure("second"), kdf: testKDF)
        try vault.addPassphraseSlot(secure("third"), kdf: testKDF)
        let identities = [X25519.generateSecretKey(), X25519.generateSecretKey()]
        for identity in identities { try vault.addRecipientSlot(try X25519.publicKey(for: identity)) }
        try vault.save()
        #expect(vault.slots.count == 5)

        var opened: [Vault] = try [testPassphrase, "second", "third"].map { try Self.unlocked(vault.path, passphrase: $0) }
        opened += try identities.map { try Self.unlocked(vault.path, identity: $0) }
        #expect(Set(opened.compactMap { $0.unlockedSlot?.id }).count == 5)
        for reader in opened {
            #expect(reader.canWrite)
            #expect(try readableValues(reader) == Self.allValues)
        }
        #expect(throws: CofferError.authenticationFailed) { try Self.unlocked(vault.path, passphrase: "fourth") }
        #expect(throws: CofferError.authenticationFailed) { try Self.unlocked(vault.path, identity: X25519.generateSecretKey()) }
    }
}
