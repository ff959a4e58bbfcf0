import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
import Foundation
import Testing

@Suite struct VaultTests {
    static let webProd = Scope(project: "web", domain: "prod")

    @Test func createSetSaveOpenUnlockGetRemoveRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("secrets.coffer")
        let vault = try Vault.create(at: path, passphrase: secure(testPassphrase), kdf: testKDF)
        #expect(vault.isUnlocked && vault.canWrite && vault.generation == 1 && vault.entries.isEmpty)
        vault.clock = { 1000 }
        try vault.set("API_TOKEN", value: Array("tok-1".utf8))
        try vault.set("EMPTY", value: [])
        try vault.set("tls.key", value: [0, 0xFF, 0x80, 0x0A], in: Self.webProd, description: "leaf key", noReveal: true)
        try vault.save()

        let reopened = try Vault.open(at: path)
        #expect(!reopened.isUnlocked)
        #expect(reopened.entries.map { entryKey($0.name, $0.scope) } == ["//API_TOKEN", "//EMPTY", "web/prod/tls.key"])
        let tls = try #require(reopened.entry("tls.key", in: Self.webProd))
        #expect(tls.description == "leaf key" && tls.isNoReveal && tls.created == 1000 && tls.updated == 1000)
        #expect(throws: CofferError.keyUnavailable("the vault is locked")) { try reopened.value(for: "API_TOKEN") }

        try reopened.unlock(passphrase: secure(testPassphrase))
        #expect(try readableValues(reopened) == [
            "//API_TOKEN": Array("tok-1".utf8), "//EMPTY": [], "web/prod/tls.key": [0, 0xFF, 0x80, 0x0A],
        ])
        reopened.clock = { 2000 }
        try reopened.remove("EMPTY")
        try reopened.set("tls.key", value: [1], in: Self.webProd, overwrite: true)
        try reopened.save()

        let third = try Vault.open(at: path)
        try third.unlock(passphrase: secure(testPassphrase))
        #expect(try readableValues(third) == ["//API_TOKEN": Array("tok-1".utf8), "web/prod/tls.key": [1]])
        let updated = try #require(third.entry("tls.key", in: Self.webProd))
        #expect(updated.created == 1000 && updated.updated == 2000)
        #expect(updated.description == "leaf key" && updated.isNoReveal, "overwriting keeps description and flag")
    }

    @Test func resolvePicksTheMostSpecificScope() throws {
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("v.coffer"), entries: [
            (.global, "host", Array("global".utf8)), (Scope(domain: "prod"), "host", Array("prod".utf8)),
            (Scope(project: "web"), "host", Array("web".utf8)), (Self.webProd, "host", Array("web/prod".utf8)),
        ])
        #expect(vault.resolve("host", for: Self.webProd)?.scope == Self.webProd)
        #expect(vault.resolve("host", for: Scope(project: "web", domain: "dev"))?.scope == Scope(project: "web"))
        #expect(vault.resolve("host", for: Scope(project: "api", domain: "prod"))?.scope == Scope(domain: "prod"))
        #expect(vault.resolve("host", for: Scope(project: "api"))?.scope == .global)
        #expect(vault.resolve("port", for: Self.webProd) == nil)
    }

    @Test func recipientVaultUnlocksWithItsIdentityOnly() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        let identity = X25519.generateSecretKey()
        let vault = try Vault.create(at: path, recipient: try X25519.publicKey(for: identity))
        try vault.set("API_TOKEN", value: Array("tok".utf8))
        try vault.save()

        let reopened = try Vault.open(at: path)
        #expect(throws: CofferError.authenticationFailed) { try reopened.unlock(identities: [X25519.generateSecretKey()]) }
        #expect(throws: CofferError.authenticationFailed) { try reopened.unlock(passphrase: secure(testPassphrase)) }
        try reopened.unlock(identities: [X25519.generateSecretKey(), identity])
        #expect(reopened.canWrite)
        #expect(try reopened.value(for: "API_TOKEN") == Array("tok".utf8))
    }

    @Test func wrongPassphraseFailsAuthentication() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        _ = try makeVault(at: path, entries: [(.global, "a", [1])])
        let vault = try Vault.open(at: path)
        for wrong in ["", "correct horse battery stapl", "Correct horse battery staple", testPassphrase + " "] {
            #expect(throws: CofferError.authenticationFailed) { try vault.unlock(passphrase: secure(wrong)) }
        }
        #expect(!vault.isUnlocked)
    }

    @Test func invalidWritesAreRefused() throws {
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("v.coffer"), entries: [(.global, "a", [1])])
        #expect(throws: CofferError.entryExists(name: "a", scope: "global")) { try vault.set("a", value: [2]) }
        #expect(throws: CofferError.entryMissing(name: "b", scope: "global")) { try vault.remove("b") }
        #expect(throws: CofferError.entryMissing(name: "a", scope: "project=web")) {
            try vault.value(for: "a", in: Scope(project: "web"))
        }
        let invalid: [() throws -> Void] = [
            { try vault.set(".a", value: []) },
            { try vault.set("a b", value: []) },
            { try vault.set(String(repeating: "n", count: 129), value: []) },
            { try vault.set("a", value: [], in: Scope(project: "we/b")) },
            { try vault.set("a", value: [], in: Scope(domain: String(repeating: "d", count: 65))) },
            { try vault.set("big", value: [UInt8](repeating: 0, count: (1 << 20) + 1)) },
            { try vault.set("d", value: [], description: "line\nbreak") },
            { try vault.set("d", value: [], description: String(repeating: "x", count: 1025)) },
        ]
        for write in invalid {
            let error = #expect(throws: CofferError.self) { try write() }
            #expect(error?.isInvalidArgument == true)
        }
        try vault.set("big", value: [UInt8](repeating: 0, count: 1 << 20))
        try vault.save()
        #expect(try Vault.open(at: vault.path).entries.map(\.name) == ["a", "big"])
    }

    @Test func labelsAreValidatedOnCreate() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        let creations: [() throws -> Void] = [
            { _ = try Vault.create(at: path, passphrase: secure(testPassphrase), kdf: testKDF, label: "bad\nlabel") },
            { _ = try Vault.create(at: path, recipient: X25519.publicKey(for: X25519.generateSecretKey()), label: String(repeating: "l", count: 129)) },
        ]
        for create in creations {
            let error = #expect(throws: CofferError.self) { try create() }
            #expect(error?.isInvalidArgument == true)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func generationCountsSaves() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        let vault = try makeVault(at: path, entries: [])
        #expect(vault.generation == 2)
        for expected in UInt64(3)...6 {
            try vault.set("n", value: Array("\(expected)".utf8), overwrite: true)
            try vault.save()
            #expect(vault.generation == expected)
            #expect(try Vault.open(at: path).generation == expected)
        }
    }

    /// §5: saving after one entry changed leaves every other entry's bytes as they were.
    @Test func savingRewritesOnlyTheChangedEntry() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        let vault = try makeVault(at: path, entries: [
            (.global, "a", [1]), (.global, "b", [2]), (Scope(project: "web"), "a", [3]), (Self.webProd, "a", [4]),
        ])
        let before = try Vault.open(at: path).file.entries.map(VaultEncoder.encodedEntry)
        try vault.set("b", value: [2], overwrite: true)
        try vault.save()

        let afterBytes = try readBytes(path)
        let after = try Vault.open(at: path).file.entries.map(VaultEncoder.encodedEntry)
        #expect(after.count == before.count)
        for index in before.indices {
            #expect((after[index] == before[index]) == (index != 1), "entry \(index)")
            #expect(offset(of: after[index], in: afterBytes) != nil)
        }
    }

    @Test func newerMinorVersionIsReadOnly() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        let vault = try makeVault(at: path, entries: [(.global, "a", [1])])
        var bytes = try readBytes(path)
        bytes[9] = 2
        try writeBytes(signed(Array(bytes.dropLast(64)), with: try #require(vault.keyGrant).signingKey()), to: path)

        let newer = try Vault.open(at: path)
        try newer.unlock(passphrase: secure(testPassphrase))
        #expect(try newer.value(for: "a") == [1])
        #expect(throws: CofferError.unsupportedVersion(major: 1, minor: 2)) { try newer.set("b", value: [2]) }
        #expect(throws: CofferError.unsupportedVersion(major: 1, minor: 2)) { try newer.save() }
    }

    // MARK: Files on disk

    @Test func saveFailsWhenTheFileChangedSinceItWasRead() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        _ = try makeVault(at: path, entries: [(.global, "a", [1])])
        let first = try Vault.open(at: path), second = try Vault.open(at: path)
        for vault in [first, second] { try vault.unlock(passphrase: secure(testPassphrase)) }
        try first.set("b", value: [2])
        try first.save()
        try second.set("c", value: [3])
        #expect(throws: CofferError.conflict("\(path) changed on disk since it was read")) { try second.save() }

        let onDisk = try Vault.open(at: path)
        #expect(onDisk.entries.map(\.name) == ["a", "b"])
        #expect(throws: CofferError.conflict("a file already exists at \(path)")) {
            try Vault.create(at: path, passphrase: secure(testPassphrase), kdf: testKDF)
        }
        #expect(try Vault.open(at: path).file == onDisk.file)
    }

    @Test func fileModeIsPrivateOnCreateAndKeptOnSave() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        let mode = { try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int }
        let vault = try makeVault(at: path, entries: [])
        #expect(try mode() == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        try vault.set("a", value: [1])
        try vault.save()
        #expect(try mode() == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["v.coffer"], "no temporary left")
    }

    @Test func oversizedFileIsRefusedBeforeReading() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("big.coffer")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(VaultFile.magic)))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(Limits.fileBytes) + 1)
        try handle.close()
        #expect(throws: CofferError.corrupted(part: "file: larger than \(Limits.fileBytes) bytes")) { try Vault.open(at: path) }
    }

    @Test func missingFileIsAnIOError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("none.coffer")
        #expect(throws: CofferError.io(path: path, reason: "no such file")) { try Vault.open(at: path) }
    }

    // MARK: KDF parameters

    /// The format's per-slot caps, and the work one unlock may spend (16 GiB-passes, §3.7).
    @Test(arguments: [(17, 8192), (1, (4 << 30) + 1024), (4, 1 << 40), (16, 4 << 30), (5, 4 << 30)] as [(UInt64, UInt64)])
    func kdfParametersAboveTheCapsAreRefused(ops: UInt64, mem: UInt64) throws {
        let kdf = try Argon2id.Parameters(opsLimit: ops, memLimit: mem)
        let checkError = #expect(throws: CofferError.self) { try Vault.checked(kdf) }
        #expect(checkError?.isInvalidArgument == true)
        let directory = try TemporaryDirectory()
        let path = directory.file("v.coffer")
        let error = #expect(throws: CofferError.self) { try Vault.create(at: path, passphrase: secure(testPassphrase), kdf: kdf) }
        #expect(error?.isInvalidArgument == true)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func kdfParametersAtTheCapsAreAccepted() throws {
        for kdf in [testKDF, try Argon2id.Parameters(opsLimit: 16, memLimit: 1 << 30), try Argon2id.Parameters(opsLimit: 4, memLimit: 4 << 30)] {
            #expect(try Vault.checked(kdf) == kdf)
        }
    }
}
