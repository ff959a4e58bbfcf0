import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Testing

/// A re-key overwrites the sealed values in the file's bytes (`Rotation.rekey` on a
/// `VaultIndex`): every way a vault reaches it (read from disk, changed in memory first, entries
/// with extensions, a slot removed, sizes at the parallel threshold) must save a vault that opens
/// with every entry, and forged entries must be refused.
@Suite struct RotationInPlaceTests {
    static func entries(_ count: Int) -> [(scope: Scope, name: String, value: [UInt8])] {
        (0..<count).map { number in
            let scope = [Scope.global, Scope(project: "P"), Scope(domain: "prod"), Scope(project: "P", domain: "dev")][number % 4]
            return (scope, "k\(number)", Array("value \(number)".utf8))
        }
    }

    static func values(_ entries: [(scope: Scope, name: String, value: [UInt8])]) -> [String: [UInt8]] {
        Dictionary(uniqueKeysWithValues: entries.map { (entryKey($0.name, $0.scope), $0.value) })
    }

    static func unlocked(_ path: String) throws -> Vault {
        let vault = try Vault.open(at: path)
        try vault.unlock(passphrase: secure(testPassphrase))
        return vault
    }

    /// A saved vault of `entries` with a second passphrase slot.
    static func withSecondSlot(
        _ entries: [(scope: Scope, name: String, value: [UInt8])], in directory: TemporaryDirectory
    ) throws -> (Vault, Slot) {
        let vault = try makeVault(at: directory.file("v.coffer"), entries: entries)
        let second = try vault.addPassphraseSlot(secure("second passphrase"), kdf: testKDF, label: "second")
        try vault.save()
        return (vault, second)
    }

    @Test(arguments: [0, 1, Rotation.parallelEntryCount - 1, Rotation.parallelEntryCount])
    func aVaultReadFromDiskRotatesInItsBytesAndReopensWithEveryEntry(count: Int) throws {
        let directory = try TemporaryDirectory()
        let entries = Self.entries(count)
        let path = try makeVault(at: directory.file("v.coffer"), entries: entries).path
        let before = try Self.unlocked(path)
        let oldKey = before.verificationKey
        try before.rotate()
        try before.save()

        let reopened = try Self.unlocked(path)
        #expect(reopened.verificationKey != oldKey)
        #expect(try readableValues(reopened) == Self.values(entries))
    }

    @Test func entriesSetAndRemovedInMemoryBeforeARotationAreSavedAsChanged() throws {
        let directory = try TemporaryDirectory()
        let entries = Self.entries(12)
        let path = try makeVault(at: directory.file("v.coffer"), entries: entries).path
        let vault = try Self.unlocked(path)
        try vault.set("k1", value: Array("changed".utf8), in: entries[1].scope, overwrite: true)
        try vault.set("new", value: Array("added".utf8), in: Scope(project: "P"))
        try vault.remove("k2", in: entries[2].scope)
        try vault.rotate()
        try vault.save()

        var expected = Self.values(entries)
        expected[entryKey("k1", entries[1].scope)] = Array("changed".utf8)
        expected[entryKey("new", Scope(project: "P"))] = Array("added".utf8)
        expected[entryKey("k2", entries[2].scope)] = nil
        #expect(try readableValues(try Self.unlocked(path)) == expected)
    }

    @Test func aSlotRemovedWithARekeyThenAnEntrySetBeforeOneSaveGiveAVaultThatOpens() throws {
        let directory = try TemporaryDirectory()
        let entries = Self.entries(30)
        let (vault, second) = try Self.withSecondSlot(entries, in: directory)

        let writer = try Self.unlocked(vault.path)
        _ = try writer.removeSlot(second.id)
        try writer.set("late", value: Array("after the re-key".utf8))
        try writer.save()

        var expected = Self.values(entries)
        expected[entryKey("late", .global)] = Array("after the re-key".utf8)
        let reopened = try Self.unlocked(vault.path)
        #expect(try readableValues(reopened) == expected)
        #expect(reopened.slots.map(\.id) == writer.slots.map(\.id))
        #expect(!reopened.slots.contains { $0.id == second.id })
    }

    @Test func aVaultWhoseEntriesCarryExtensionsRotatesAndKeepsEveryValue() throws {
        // An optional extension (even tag) in one entry. The index keeps the entries as read;
        // the save drops the extension (Specs/vault-format.md §5).
        let directory = try TemporaryDirectory()
        let entries = Self.entries(6)
        let vault = try makeVault(at: directory.file("v.coffer"), entries: entries)
        let part = VectorGenerator.signedPart(vault.file, extensionTag: 2, body: "a newer field", inEntry: 3)
        try writeBytes(signed(part, with: try VectorGenerator.signingKey(vault)), to: vault.path)

        let writer = try Self.unlocked(vault.path)
        try writer.rotate()
        try writer.save()
        #expect(try readableValues(try Self.unlocked(vault.path)) == Self.values(entries))
    }

    @Test func aForgedSealedValueShorterThanANonceIsRefusedNotTrapped() throws {
        // The attack: an entry whose sealed value is cut below the nonce's length, handed to the
        // re-key as an index (the library's own check is the only guard there).
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("v.coffer"), entries: Self.entries(3))
        var forged = vault.file
        forged.entries[1].sealedValue = forged.entries[1].sealedValue.prefix(10)
        let entry = forged.entries[1]
        #expect(throws: KeyError.tampered(part: "entry \(entry.scope)/\(entry.name)")) {
            try Rotation.rekey(VaultIndex(encoding: forged), from: try #require(vault.keyGrant))
        }
    }

    @Test func aSecondRekeyBeforeTheSaveIsRefusedAndTheFirstStillSaves() throws {
        // Two re-keys before one save would add two key-chain links of the same generation: a
        // file that saves (its signature verifies) but that no reader opens.
        let directory = try TemporaryDirectory()
        let entries = Self.entries(5)
        let (vault, second) = try Self.withSecondSlot(entries, in: directory)

        let writer = try Self.unlocked(vault.path)
        try writer.rotate()
        #expect(throws: CofferError.self) { try writer.rotate() }
        #expect(throws: CofferError.self) { try writer.removeSlot(second.id) }
        try writer.save()
        let reopened = try Self.unlocked(vault.path)
        #expect(reopened.verificationKey == writer.verificationKey)
        #expect(try readableValues(reopened) == Self.values(entries))

        try writer.rotate()
        try writer.save()
        #expect(try readableValues(try Self.unlocked(vault.path)) == Self.values(entries))
    }

    @Test func aForgedEntryInALargeFileReadFromDiskIsRefusedByTheRekeyAndTheFileIsKept() throws {
        // The attack: a key holder's forgery, re-signed, of the last entry's tag in a vault large
        // enough to be re-sealed in parts, rotated as `coffer rotate` does (the file's own bytes).
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("v.coffer"), entries: Self.entries(Rotation.parallelEntryCount + 10))
        let last = try #require(vault.file.entries.last)
        let bytes = try readBytes(vault.path)
        let signedPart = Array(bytes.dropLast(VaultFile.signatureByteCount))
        let encoded = VaultEncoder.encodedEntry(last)
        let entryAt = try #require(offset(of: encoded, in: signedPart))
        let forged = signed(flipping(signedPart, at: entryAt + encoded.count - 1), with: try VectorGenerator.signingKey(vault))
        try writeBytes(forged, to: vault.path)

        let writer = try Self.unlocked(vault.path)
        #expect(throws: CofferError.tampered(part: "entry \(last.scope)/\(last.name)")) { try writer.rotate() }
        #expect(try readBytes(vault.path) == forged)
    }
}
