import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Foundation

/// Makes Specs/test-vectors (see its README.md): real vaults made through the library, then,
/// for the negative vectors, edited the way an outsider (no re-signing) or a key holder
/// (re-signed with the vault's key) would. Keys, nonces and salts are random, so regenerating
/// changes every file's bytes but not what each vector tests.
enum VectorGenerator {
    struct Vector {
        let name: String
        let bytes: [UInt8]
        let description: VectorDescription
    }

    struct Item {
        let scope: Scope
        let name: String
        let value: [UInt8]
        var description = ""
        var noReveal = false
    }

    static let clock: UInt64 = 1_767_225_600
    static let webProd = Scope(project: "web", domain: "prod")

    static let basic = [
        Item(scope: .global, name: "API_TOKEN", value: Array("tok_3f9a8c2e".utf8)),
        Item(scope: .global, name: "EMPTY", value: []),
        Item(scope: Scope(domain: "prod"), name: "db.host", value: Array("db.prod.internal".utf8), description: "primary database"),
        Item(scope: Scope(project: "web"), name: "db.password", value: Array("web default ✓".utf8)),
        Item(scope: webProd, name: "db.password", value: Array("pr0d \"quoted\" \\ back\nsecond line\t".utf8)),
        Item(scope: webProd, name: "tls.key", value: [0x00, 0xFF, 0xFE, 0x80, 0x0A, 0x7F, 0xC3, 0x28], noReveal: true),
    ]

    /// Entries outside `web/prod`'s view, for the scoped vector.
    static let elsewhere = [
        Item(scope: Scope(project: "web", domain: "dev"), name: "db.password", value: Array("dev".utf8)),
        Item(scope: Scope(project: "api"), name: "API_TOKEN", value: Array("api".utf8)),
        Item(scope: Scope(project: "api", domain: "prod"), name: "db.password", value: Array("api prod".utf8)),
        Item(scope: Scope(domain: "dev"), name: "db.host", value: Array("db.dev.internal".utf8)),
    ]

    static let recipientSecret = "f6d3bccdf2a520fc16430d3316f96e54860513b7686a1def03967c7108df9a55"
    static let scopedSecret = "62d1ce64ec3bdf7f8b12b37c34287b79f29dced3b22d91c9804503943e2553d4"
    static let forgerSeed = "d9ae78ed41f6329514b6de871abdc1b32fda8885519f3fea42c48bdd42826c90"

    static func secret(_ hex: String) -> SecureBytes {
        let digits = hex.map { UInt8($0.hexDigitValue!) }
        return SecureBytes(copying: stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] })
    }

    static func ageText(_ secretHex: String) throws -> String {
        try Identity(secretKey: secret(secretHex)).encodedSecretKey().withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    static func values(_ items: [Item]) -> [String: [UInt8]] {
        Dictionary(uniqueKeysWithValues: items.map { (entryKey($0.name, $0.scope), $0.value) })
    }

    /// A saved vault holding `items`, unlocked with its first slot's key.
    static func vault(_ items: [Item], in directory: TemporaryDirectory, recipient: String? = nil) throws -> Vault {
        let path = directory.file(UUID().uuidString + ".coffer")
        let vault = if let recipient {
            try Vault.create(at: path, recipient: X25519.publicKey(for: secret(recipient)))
        } else {
            try Vault.create(at: path, passphrase: secure(testPassphrase), kdf: testKDF)
        }
        vault.clock = { clock }
        for item in items {
            try vault.set(item.name, value: item.value, in: item.scope, description: item.description, noReveal: item.noReveal)
        }
        try vault.save()
        return vault
    }

    static func signingKey(_ vault: Vault) throws -> Ed25519.SigningKey {
        try vault.keyGrant!.signingKey()
    }

    static func bytes(_ vault: Vault) throws -> [UInt8] { try readBytes(vault.path) }

    private static func uvarint(_ value: Int) -> [UInt8] {
        var value = value, bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        return bytes + [UInt8(value)]
    }

    /// The signed part of `file` with one extension `(tag, body)` in the (empty) extension list of
    /// entry `index`, which 1.0's encoder cannot write.
    static func signedPart(_ file: VaultFile, extensionTag tag: Int, body: String, inEntry index: Int) -> [UInt8] {
        var part = VaultEncoder.encodeSignedPart(file)
        let entry = VaultEncoder.encodedEntry(file.entries[index])
        let sealedCount = file.entries[index].sealedValue.count
        // An entry ends with its extension list (count 0: one zero byte) and lp(sealed_value).
        let listAt = offset(of: entry, in: part)! + entry.count - sealedCount - uvarint(sealedCount).count - 1
        precondition(part[listAt] == 0)
        part.replaceSubrange(listAt...listAt, with: [1] + uvarint(tag) + uvarint(body.utf8.count) + Array(body.utf8))
        return part
    }

    static func vectors() throws -> [Vector] {
        let directory = try TemporaryDirectory()
        var vectors: [Vector] = []
        func add(_ name: String, _ bytes: [UInt8], passphrase: String? = testPassphrase, identity: String? = nil,
                 expect: String, errorPart: String? = nil, pins: [String] = [], pinEnvironment: String? = nil,
                 entries: [Item] = [], _ notes: String...) {
            vectors.append(Vector(name: name, bytes: bytes, description: VectorDescription(
                passphrase: passphrase, identity: identity, expect: expect, errorPart: errorPart,
                pins: pins, pinEnvironment: pinEnvironment, entries: values(entries), notes: notes)))
        }

        let basicVault = try vault(basic, in: directory)
        let basicBytes = try bytes(basicVault)
        let basicFile = basicVault.file
        let key = try signingKey(basicVault)
        let signatureAt = basicBytes.count - VaultFile.signatureByteCount
        let apiToken = basicFile.entries.firstIndex { $0.name == "API_TOKEN" && $0.scope == .global }!

        add("ok-basic", basicBytes, expect: "ok", entries: basic,
            "A passphrase vault with entries in all four kinds of scope, an empty value and a binary value.",
            "domain=prod/db.host has a description; web/prod/tls.key is no-reveal.")

        let recipientVault = try vault(Array(basic.prefix(2)), in: directory, recipient: recipientSecret)
        add("ok-recipient", try bytes(recipientVault), passphrase: nil, identity: try ageText(recipientSecret),
            expect: "ok", entries: Array(basic.prefix(2)),
            "A vault whose only slot is an X25519 recipient slot (kind 2), opened with the age identity.")

        // Pins (§8): ok-basic's file read with ok-basic's pin and with ok-recipient's, which stands
        // for another vault of the same user.
        let basicPin = VaultPin(basicVault).description
        let otherPin = VaultPin(recipientVault).description
        add("pinned", basicBytes, expect: "ok", pins: [otherPin, basicPin], entries: basic,
            "ok-basic's file read with two pins given, one of them its own: it is one of the vaults named.")
        add("pinned-other", basicBytes, expect: "error forged", errorPart: "pinned vault", pins: [otherPin],
            "ok-basic's file read with the pin of another vault: a substituted file, refused before any unlock.")
        add("pinned-environment", basicBytes, expect: "ok", pinEnvironment: "\(otherPin) \(basicPin)", entries: basic,
            "ok-basic's file read with no pin given and $COFFER_VAULT_PIN holding two pins, one of them its own.")
        add("pinned-given-over-environment", basicBytes, expect: "error forged", errorPart: "pinned vault",
            pins: [otherPin], pinEnvironment: basicPin,
            "ok-basic's file read with another vault's pin given and its own in $COFFER_VAULT_PIN: pins given with the",
            "command are the only ones that count, so a pin for one of the user's vaults in the environment cannot let",
            "that vault stand in for the one named.")

        let scopedVault = try vault(basic + elsewhere, in: directory)
        try scopedVault.addRecipientSlot(X25519.publicKey(for: secret(scopedSecret)), label: "ci web/prod", scope: webProd)
        try scopedVault.save()
        add("ok-scoped", try bytes(scopedVault), passphrase: nil, identity: try ageText(scopedSecret),
            expect: "ok", entries: basic,
            "A recipient slot scoped to project web, domain prod, next to the full passphrase slot.",
            "Its grant opens web/prod, web, prod and global entries; web/dev, api, api/prod and dev entries stay closed.")

        let rotatedVault = try vault(basic, in: directory)
        try rotatedVault.rotate()
        try rotatedVault.save()
        let rotatedFile = rotatedVault.file
        precondition(rotatedFile.keyChain.links.count == 1)
        add("ok-rotated", try bytes(rotatedVault), expect: "ok", entries: basic,
            "Re-keyed once: the key chain has one link from the genesis key to the current verification key.")

        var newer = basicFile
        newer.minor = 2
        newer.entries[apiToken].flags |= 1 << 32
        add("ok-newer-minor", signed(signedPart(newer, extensionTag: 2, body: "a 1.2 field", inEntry: apiToken), with: key),
            expect: "ok", entries: basic,
            "Minor version 2: //API_TOKEN has optional flag bit 32 and an optional extension (tag 2) that a 1.1 reader skips.",
            "Re-signed by the vault's key. A 1.1 writer must refuse to save it.")

        var unauthenticated = basicFile
        unauthenticated.minor = 0
        unauthenticated.slots[0].authenticator = nil
        add("missing-authenticator", signed(VaultEncoder.encodeSignedPart(unauthenticated), with: key),
            expect: "error forged", errorPart: "has no authenticator",
            "ok-basic as format 1.0 wrote it: minor 0, the passphrase slot without its authenticator, re-signed.",
            "A 1.1 reader refuses the passphrase (a forger would leave it out); `coffer upgrade` adds it.")

        let forgedMaster = KeyGrant.generate()
        var copiedSlots = basicFile
        copiedSlots.vaultID = SecureRandom.bytes(VaultFile.vaultIDByteCount)
        copiedSlots.keyChain = KeyChain(genesisKey: try forgedMaster.signingKey().publicKey)
        copiedSlots.entries = []
        copiedSlots.slots[0].wrapped = try SlotWrapping.wrap(
            grant: forgedMaster, vaultID: copiedSlots.vaultID, slotID: copiedSlots.slots[0].id, scope: .global,
            publicKey: copiedSlots.slots[0].publicKey)
        let forgedCipher = EntryCipher(vaultID: copiedSlots.vaultID, grant: forgedMaster)
        copiedSlots.entries = [Entry(
            name: "API_TOKEN", scope: .global, created: clock, updated: clock, flags: 0, description: "",
            sealedValue: try forgedCipher.seal(Array("attacker".utf8), name: "API_TOKEN", scope: .global)[...])]
        add("wrong-authenticator", signed(VaultEncoder.encodeSignedPart(copiedSlots), with: try forgedMaster.signingKey()),
            expect: "error forged", errorPart: "not made by a holder of this passphrase",
            "A forgery from ok-basic's public parts: its passphrase slot (salt, public key, authenticator) copied into a",
            "new vault id with a fresh master key wrapped to that public key, an entry of the forger's, signed by the forger.",
            "The passphrase opens the slot; the authenticator covers ok-basic's vault id and genesis key, so it is refused.")

        add("wrong-passphrase", basicBytes, passphrase: "Correct horse battery staple", expect: "error authentication",
            "ok-basic's file with a passphrase that differs in one letter's case.")

        var flippedValue = basicBytes
        let apiTokenSealed = basicFile.entries[apiToken].sealedValue
        flippedValue[offset(of: Array(apiTokenSealed), in: basicBytes)! + apiTokenSealed.count / 2] ^= 0x01
        add("tampered-value", flippedValue, expect: "error tampered", errorPart: "signature",
            "One bit of //API_TOKEN's sealed value flipped by someone without the key: the signature fails.")

        var swapped = basicFile
        let password = swapped.entries.firstIndex { $0.name == "db.password" && $0.scope == webProd }!
        let tls = swapped.entries.firstIndex { $0.name == "tls.key" && $0.scope == webProd }!
        (swapped.entries[password].sealedValue, swapped.entries[tls].sealedValue) =
            (swapped.entries[tls].sealedValue, swapped.entries[password].sealedValue)
        add("swapped-entries", signed(VaultEncoder.encodeSignedPart(swapped), with: key), expect: "error tampered",
            errorPart: "entry project=web,domain=prod/db.password",
            "The sealed values of web/prod/db.password and web/prod/tls.key swapped and the file re-signed by the key holder.",
            "The signature verifies; the AEAD (its key and associated data name the entry) refuses the value.")

        var renamed = basicBytes
        renamed[offset(of: [9] + Array("API_TOKEN".utf8), in: basicBytes)! + 9] = UInt8(ascii: "M")
        add("tampered-name", renamed, expect: "error tampered", errorPart: "signature",
            "//API_TOKEN renamed to //API_TOKEM (still in canonical order) without the key: the signature fails.")

        add("bad-signature", flipping(basicBytes, at: signatureAt), expect: "error tampered", errorPart: "signature",
            "ok-basic with one bit of the signature flipped.")

        let forger = try Ed25519.SigningKey(seed: secret(forgerSeed))
        var forged = basicFile
        forged.keyChain.genesisKey = forger.publicKey
        // Made by a passphrase holder, who can authenticate the slot for the new genesis key.
        guard case let .passphrase(basicSalt, basicOps, basicMem) = forged.slots[0].kind else { preconditionFailure() }
        forged.slots[0].authenticator = SlotWrapping.authenticator(
            of: forged.slots[0],
            secretKey: try SlotWrapping.passphraseSecretKey(secure(testPassphrase), salt: basicSalt, opsLimit: basicOps, memLimit: basicMem),
            vaultID: forged.vaultID, genesisKey: forger.publicKey)
        add("key-mismatch", signed(VaultEncoder.encodeSignedPart(forged), with: forger),
            expect: "error tampered", errorPart: "verification key does not match the master key",
            "The verification key replaced by another Ed25519 key that validly signs the file.",
            "It opens without a key; the passphrase's master key derives a different key, so key holders refuse it.")

        var badChain = rotatedFile
        badChain.keyChain.links[0].signature[0] ^= 0x01
        add("bad-chain", signed(VaultEncoder.encodeSignedPart(badChain), with: try signingKey(rotatedVault)),
            expect: "error tampered", errorPart: "key chain",
            "ok-rotated with a bit of the link signature flipped, re-signed by the current key: the chain does not verify.")

        let otherVault = try vault([], in: directory)
        var spliced = basicFile
        spliced.slots = otherVault.file.slots
        // The splicer knows the passphrase, so it can authenticate the slot for this vault.
        guard case let .passphrase(otherSalt, otherOps, otherMem) = spliced.slots[0].kind else { preconditionFailure() }
        spliced.slots[0].authenticator = SlotWrapping.authenticator(
            of: spliced.slots[0],
            secretKey: try SlotWrapping.passphraseSecretKey(secure(testPassphrase), salt: otherSalt, opsLimit: otherOps, memLimit: otherMem),
            vaultID: basicFile.vaultID, genesisKey: basicFile.keyChain.genesisKey)
        add("spliced-slot", signed(VaultEncoder.encodeSignedPart(spliced), with: key),
            expect: "error tampered", errorPart: "slot \(otherVault.file.slots[0].idText)",
            "The passphrase slot of another vault (same passphrase) put in ok-basic's place and re-signed.",
            "The passphrase opens the slot, but its slot binding names the other vault's id.")

        add("truncated", Array(basicBytes.prefix(basicBytes.count - 100)), expect: "error corrupted", errorPart: "truncated",
            "ok-basic without its last 100 bytes.")

        var major = basicBytes
        major[8] = 2
        add("unknown-major", signed(Array(major.prefix(signatureAt)), with: key), expect: "error unsupported-version",
            "ok-basic with major version 2, re-signed.")

        var critical = basicFile
        critical.minor = 2
        add("critical-field", signed(signedPart(critical, extensionTag: 1, body: "must understand", inEntry: apiToken), with: key),
            expect: "error corrupted", errorPart: "unknown critical field 1",
            "Minor version 2 with an unknown critical extension (odd tag 1) in //API_TOKEN, re-signed.")

        var oversized = basicFile
        guard case let .passphrase(salt, ops, _) = oversized.slots[0].kind else { preconditionFailure() }
        oversized.slots[0].kind = .passphrase(salt: salt, opsLimit: ops, memLimit: 1 << 40)
        add("oversized-kdf", signed(VaultEncoder.encodeSignedPart(oversized), with: key),
            expect: "error corrupted", errorPart: "memlimit 1099511627776",
            "The passphrase slot asks Argon2id for 1 TiB of memory, re-signed: refused when parsed, before any key derivation.")

        var duplicated = basicFile
        duplicated.entries.insert(duplicated.entries[apiToken], at: apiToken)
        add("duplicate-entry", signed(VaultEncoder.encodeSignedPart(duplicated), with: key),
            expect: "error corrupted", errorPart: "out of order or duplicated",
            "//API_TOKEN twice (identical bytes), re-signed: not the canonical encoding.")

        add("not-a-vault", Array("This is a text file, not a Coffer vault.\n".utf8), expect: "error not-a-vault",
            "No magic bytes.")
        return vectors
    }
}
