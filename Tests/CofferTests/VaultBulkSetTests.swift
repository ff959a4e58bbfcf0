import Coffer
import CofferCodec
import Foundation
import Testing

/// `Vault.setAll`, the one-pass merge `import` uses: the same result as one `set` per item.
@Suite struct VaultBulkSetTests {
    @Test func mergesUnsortedItemsIntoCanonicalOrder() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("secrets.coffer")
        let vault = try Vault.create(at: path, passphrase: secure(testPassphrase), kdf: testKDF)
        try vault.set("m.existing", value: Array("old".utf8), description: "kept")
        try vault.set("other", value: Array("x".utf8), in: Scope(project: "p"))

        #expect(throws: CofferError.entryExists(name: "m.existing", scope: Scope.global.description)) {
            try vault.setAll([("z", Array("1".utf8)), ("m.existing", Array("2".utf8))])
        }
        #expect(vault.entries.count == 2)

        let replaced = try vault.setAll(
            [("z", Array("1".utf8)), ("m.existing", Array("new".utf8)), ("a", Array("first".utf8)), ("a", Array("last".utf8))],
            overwrite: true)
        try vault.save()
        #expect(replaced == 1)
        let reopened = try Vault.open(at: path)
        try reopened.unlock(passphrase: secure(testPassphrase))
        #expect(reopened.entries.map(\.name) == ["a", "m.existing", "z", "other"])
        #expect(try reopened.value(for: "a") == Array("last".utf8))
        #expect(try reopened.value(for: "m.existing") == Array("new".utf8))
        #expect(reopened.entry("m.existing")?.description == "kept")
    }

    /// `setAll` in the two steps import takes around the folder's lock: a batch merges into
    /// another reading of the same file unlocked with the same grant (the file re-read under the
    /// lock), and is refused by one unlocked afresh, whose key may have changed meanwhile.
    @Test func aSealedBatchMergesOnlyUnderTheKeyItWasSealedWith() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("secrets.coffer")
        let vault = try Vault.create(at: path, passphrase: secure(testPassphrase), kdf: testKDF)
        try vault.save()
        let batch = try vault.seal([("b", Array("2".utf8)), ("a", Array("1".utf8))])

        let unlockedAfresh = try Vault.open(at: path)
        try unlockedAfresh.unlock(passphrase: secure(testPassphrase))
        #expect(!unlockedAfresh.accepts(batch))
        #expect(throws: CofferError.keyUnavailable("the values were sealed under another key")) { try unlockedAfresh.merge(batch) }

        let reread = try Vault.open(at: path)
        try reread.unlock(grant: try #require(vault.keyGrant))
        #expect(try reread.merge(batch) == 0)
        try reread.save()
        #expect(try reread.value(for: "a") == Array("1".utf8))
        #expect(reread.entries.map(\.name) == ["a", "b"])
    }
}
