import Coffer
import CofferCodec
import Testing

/// Saves of a vault read from disk copy its untouched entries as bytes (`VaultDraft`): what they
/// write is still the one canonical encoding of the content, signed, and reads back whole.
@Suite struct VaultOnePassWriteTests {
    /// The file at `path` is canonical (decoding and encoding it again gives its bytes), verifies,
    /// and holds what `vault` holds.
    static func expectWritten(_ vault: Vault, at path: String) throws {
        let bytes = try readBytes(path)
        let decoded = try VaultDecoder.decode(bytes)
        #expect(VaultEncoder.encode(decoded) == bytes)
        let reopened = try Vault.open(at: path)
        #expect(reopened.signature == vault.signature && reopened.generation == vault.generation)
        #expect(reopened.entryCount == vault.entryCount)
        #expect(reopened.file == decoded)
    }

    @Test func setsRemovalsAndMetadataChangesOfAReadVaultSaveCanonically() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        _ = try makeVault(at: path, entries: (0..<50).map { (.global, "k\($0)", Array("value \($0)".utf8)) })
        let vault = try Vault.open(at: path)
        try vault.unlock(passphrase: secure(testPassphrase))

        try vault.set("k7", value: Array("changed".utf8), overwrite: true)
        try vault.set("a-first", value: [1], in: Scope(project: "web"))
        try vault.set("zz", value: [2])
        try vault.remove("k20")
        try vault.describe("k30", description: "described")
        #expect(vault.entryCount == 51)
        try vault.save()
        try Self.expectWritten(vault, at: path)

        // The same vault object goes on writing: its changes so far are in the file it now reads.
        try vault.set("k7", value: Array("again".utf8), overwrite: true)
        try vault.remove("zz")
        try vault.set("k20", value: [3])
        try vault.save()
        try Self.expectWritten(vault, at: path)

        let reopened = try Vault.open(at: path)
        try reopened.unlock(passphrase: secure(testPassphrase))
        #expect(try reopened.value(for: "k7") == Array("again".utf8))
        #expect(try reopened.value(for: "k20") == [3])
        #expect(try reopened.value(for: "a-first", in: Scope(project: "web")) == [1])
        #expect(reopened.entry("zz") == nil)
        #expect(reopened.entry("k30")?.description == "described")
        #expect(try reopened.value(for: "k49") == Array("value 49".utf8))
        #expect(reopened.entryCount == 51)
    }

    @Test func entryNamesScanSeesTheChangesNotYetSaved() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        _ = try makeVault(at: path, entries: [(.global, "pg.user", [1]), (.global, "pg.host", [2])])
        let vault = try Vault.open(at: path)
        try vault.unlock(passphrase: secure(testPassphrase))
        try vault.set("PG_USER", value: [3])
        try vault.remove("pg.host")
        let names = vault.entryNames { $0.count == 7 }
        #expect(names == ["PG_USER", "pg.user"])
    }
}
