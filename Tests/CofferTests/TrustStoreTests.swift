import Coffer
import CofferCodec
import CofferRotation
import Foundation
import Testing

/// The trust store's rules (Specs/git.md): per-branch generations and keys, fail-closed loading.
@Suite struct TrustStoreTests {
    @Test func aVersionUnderAKeyThisBranchReplacedIsReadOnly() throws {
        let folder = try TemporaryDirectory()
        let store = TrustStore(path: folder.file("state/trust"))
        let path = folder.file("secrets.coffer")
        let vault = try makeVault(at: path, entries: [(.global, "a", Array("a".utf8))])
        let before = try readBytes(path)
        try store.remember(Vault.open(at: path), at: path, branch: "refs/heads/main")
        try store.remember(Vault.open(at: path), at: path, branch: "refs/heads/feature")

        try vault.rotate()
        try vault.save()
        try store.remember(Vault.open(at: path), at: path, branch: "refs/heads/main")

        // The pre-rotation file comes back on main (a restore, or a revoked party's write).
        let stale = try Vault(bytes: before, path: path)
        let onMain = try store.findings(for: stale, at: path, branch: "refs/heads/main")
        #expect(onMain.contains { if case .supersededKey = $0 { true } else { false } })
        #expect(onMain.allSatisfy { !$0.blocksReads })
        #expect(onMain.contains { !$0.allowRollbackOverrides })
        // A branch that has not received the re-key may still write under the older key.
        let onFeature = try store.findings(for: stale, at: path, branch: "refs/heads/feature")
        #expect(onFeature.isEmpty)
        // A line of history never seen (a branch made from before the re-key) may not.
        let onNewBranch = try store.findings(for: stale, at: path, branch: "refs/heads/from-old-commit")
        #expect(onNewBranch.contains { if case .supersededKey = $0 { true } else { false } })
        // The rotated vault is accepted everywhere.
        #expect(try store.findings(for: Vault.open(at: path), at: path, branch: "refs/heads/feature").isEmpty)
    }

    @Test func aVaultWithAnUnknownKeyIsRefused() throws {
        let folder = try TemporaryDirectory()
        let store = TrustStore(path: folder.file("trust"))
        let path = folder.file("secrets.coffer")
        _ = try makeVault(at: path, entries: [])
        let real = try Vault.open(at: path)
        try store.remember(real, at: path, branch: "")
        // Same vault id, a fresh master key: what someone without the key can make.
        let other = try makeVault(at: folder.file("other.coffer"), entries: [])
        var forged = other.file
        forged.vaultID = real.vaultID
        let bytes = signed(VaultEncoder.encodeSignedPart(forged), with: try #require(other.keyGrant).signingKey())
        let findings = try store.findings(for: Vault(bytes: bytes, path: path), at: path, branch: "")
        #expect(findings.contains { if case .unknownKey = $0 { true } else { false } })
        #expect(findings.contains { $0.blocksReads })
    }

    @Test func aPathIsKnownHoweverItIsSpelled() throws {
        let folder = try TemporaryDirectory()
        let store = TrustStore(path: folder.file("trust"))
        let path = folder.file("secrets.coffer")
        _ = try makeVault(at: path, entries: [])
        try store.remember(Vault.open(at: path), at: path, branch: "")
        // Another vault copied over the file, then opened through a symbolic link or with "./".
        _ = try makeVault(at: folder.file("other.coffer"), entries: [])
        try writeBytes(readBytes(folder.file("other.coffer")), to: path)
        try FileManager.default.createSymbolicLink(atPath: folder.file("link"), withDestinationPath: folder.path)
        for spelling in [folder.file("link/secrets.coffer"), folder.file("./secrets.coffer")] {
            let findings = try store.findings(for: Vault.open(at: spelling), at: spelling, branch: "")
            #expect(findings.contains { if case .substituted = $0 { true } else { false } }, "\(spelling)")
        }
    }

    @Test func anUnreadableOrMalformedStoreIsAnErrorNotTrust() throws {
        let folder = try TemporaryDirectory()
        let path = folder.file("secrets.coffer")
        let vault = try makeVault(at: path, entries: [])
        let store = TrustStore(path: folder.file("trust"))
        try writeBytes(Array("keys nonsense\n".utf8), to: store.path)
        #expect(throws: CofferError.self) { try store.findings(for: vault, at: path, branch: "") }
        #expect(throws: CofferError.self) { try store.remember(vault, at: path, branch: "") }
        #expect(try readBytes(store.path) == Array("keys nonsense\n".utf8))
    }

    @Test func pathsWithControlCharactersAreNotRecorded() throws {
        let folder = try TemporaryDirectory()
        let store = TrustStore(path: folder.file("trust"))
        let path = folder.file("secrets.coffer")
        let vault = try makeVault(at: path, entries: [])
        try store.remember(vault, at: "/tmp/x\nkeys " + String(repeating: "0", count: 32) + " 00", branch: "")
        let text = String(decoding: try readBytes(store.path), as: UTF8.self)
        #expect(!text.contains("\nkeys 0000"))
        #expect(try store.findings(for: vault, at: path, branch: "").isEmpty)
    }
}
