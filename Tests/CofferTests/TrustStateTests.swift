import Coffer
import CofferCodec
import Foundation
import Testing

/// One command's trust state: each file read once, written once, and no other command's changes lost.
@Suite struct TrustStateTests {
    struct World {
        let folder: TemporaryDirectory
        let store: TrustStore
        let path: String

        init() throws {
            folder = try TemporaryDirectory()
            store = TrustStore(path: folder.file("state/trust"))
            path = folder.file("secrets.coffer")
        }

        var confirmedPath: String { folder.file("state/confirmed-vaults") }
    }

    @Test func eachFileIsReadOnceAndWrittenOnceAtTheEnd() throws {
        let world = try World()
        let vault = try makeVault(at: world.path, entries: [(.global, "a", [1])])
        try world.store.remember(Vault.open(at: world.path), at: world.path, branch: "")

        let state = TrustState(trustStore: world.store)
        #expect(try state.check(vault, at: world.path, branch: "").isEmpty)
        // Garbage written in place after the read: the command goes on with what it read...
        let garbage = Array("not a trust store\n".utf8)
        let handle = try #require(FileHandle(forWritingAtPath: world.store.path))
        try handle.write(contentsOf: garbage)
        try handle.truncate(atOffset: UInt64(garbage.count))
        try handle.close()
        #expect(try state.pinnedKey(for: vault) == vault.keyChain.genesisKey)
        #expect(try state.record(for: vault, branch: "")?.generation == vault.generation)
        try state.confirm(vault)
        #expect(try state.isConfirmed(vault))
        // ...and nothing is written until the end.
        #expect(!FileManager.default.fileExists(atPath: world.confirmedPath))
        try vault.set("b", value: [2])
        try vault.save()
        try state.remember(vault, at: world.path, branch: "")
        // At the end, the file changed since it was read is read again (and refused, malformed).
        #expect(throws: CofferError.self) { try state.write() }
        #expect(try readBytes(world.store.path) == garbage)
    }

    @Test func nothingChangedWritesNothing() throws {
        let world = try World()
        let vault = try makeVault(at: world.path, entries: [])
        try world.store.remember(vault, at: world.path, branch: "")
        let attributes = try FileManager.default.attributesOfItem(atPath: world.store.path)
        let state = TrustState(trustStore: world.store)
        #expect(try state.check(vault, at: world.path, branch: "").isEmpty)
        try state.write()
        let after = try FileManager.default.attributesOfItem(atPath: world.store.path)
        #expect(after[.systemFileNumber] as? Int == attributes[.systemFileNumber] as? Int)
    }

    /// Two commands read the same state; each writes its own change: both are kept.
    @Test func concurrentCommandsKeepEachOthersChanges() throws {
        let world = try World()
        let first = try makeVault(at: world.path, entries: [])
        let otherPath = world.folder.file("other.coffer")
        let second = try makeVault(at: otherPath, entries: [])
        let one = TrustState(trustStore: world.store), two = TrustState(trustStore: world.store)
        #expect(try one.check(first, at: world.path, branch: "").isEmpty)
        #expect(try two.check(second, at: otherPath, branch: "").isEmpty)
        try one.confirm(first)
        try two.confirm(second)
        try one.write()
        try two.write()
        let fresh = TrustState(trustStore: world.store)
        #expect(try fresh.pinnedKey(for: first) == first.keyChain.genesisKey)
        #expect(try fresh.pinnedKey(for: second) == second.keyChain.genesisKey)
        #expect(try fresh.isConfirmed(first) && fresh.isConfirmed(second))
    }

    /// An attack in the window between a write's first check and its lock: another command saw
    /// a newer generation, then the file was rolled back. Checked again after `refresh`, the
    /// rollback shows.
    @Test func aRollbackSeenByAnotherCommandAfterThisOneReadIsCaughtAfterRefresh() throws {
        let world = try World()
        let vault = try makeVault(at: world.path, entries: [])
        let old = try readBytes(world.path)
        let writer = TrustState(trustStore: world.store)
        #expect(try writer.check(Vault.open(at: world.path), at: world.path, branch: "").isEmpty)

        // Another command writes generation 3 and remembers it.
        try vault.set("a", value: [1])
        try vault.save()
        try world.store.remember(Vault.open(at: world.path), at: world.path, branch: "")
        // The attacker puts generation 2 back.
        try writeBytes(old, to: world.path)
        let rolledBack = try Vault.open(at: world.path)

        #expect(try writer.findings(for: rolledBack, at: world.path, branch: "").isEmpty)
        try writer.refresh()
        let findings = try writer.findings(for: rolledBack, at: world.path, branch: "")
        #expect(findings == [.rollback(seen: 3, file: 2)])
    }
}
