import Coffer
import CofferCrypto
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// CLI sessions in the library (issue 5), on an injected clock: `now` is passed to every call.
@Suite struct SessionTests {
    static let start: UInt64 = 1_700_000_000
    static let hour: UInt64 = 3600

    /// A vault with one entry, a session folder, and a token.
    struct Fixture {
        let directory: TemporaryDirectory
        let vault: Vault
        let store: SessionStore
        let token = SessionStore.newToken().withUnsafeBytes { String(decoding: $0, as: UTF8.self) }

        init(name: String = "v.coffer", in directory: TemporaryDirectory? = nil) throws {
            self.directory = try directory ?? TemporaryDirectory()
            vault = try makeVault(at: self.directory.file(name), entries: [(.global, "pg.password", Array("hunter2".utf8))])
            store = SessionStore(folder: self.directory.file("run"))
        }

        /// Another shell on the same vault and folder: its own token.
        static func sharing(_ other: Fixture) -> Fixture {
            Fixture(directory: other.directory, vault: other.vault, store: other.store)
        }

        private init(directory: TemporaryDirectory, vault: Vault, store: SessionStore) {
            self.directory = directory
            self.vault = vault
            self.store = store
        }

        var sessionPath: String { store.path(for: vault.vaultID, token: token)! }
        var sessionExists: Bool { FileManager.default.fileExists(atPath: sessionPath) }

        func begin(ttl: UInt64 = 12 * SessionTests.hour, idle: UInt64 = 900, at now: UInt64 = SessionTests.start) throws {
            try store.start(vault: vault, token: token, ttl: ttl, idle: idle, now: now)
        }

        /// A fresh, locked copy of the vault from disk, resumed with `token` at `now`.
        @discardableResult
        func resume(at now: UInt64, token: String? = nil) throws -> Vault {
            let fresh = try Vault.open(at: vault.path)
            try store.resume(fresh, token: token ?? self.token, now: now)
            return fresh
        }
    }

    @Test func aSessionOpensTheVaultWithoutAPassphrase() throws {
        let fixture = try Fixture()
        try fixture.begin()
        let resumed = try fixture.resume(at: Self.start + 60)
        #expect(resumed.canWrite)
        #expect(resumed.unlockedSlot?.id == fixture.vault.unlockedSlot?.id)
        #expect(try resumed.value(for: "pg.password") == Array("hunter2".utf8))
        try resumed.set("new", value: [1])
        try resumed.save()
        #expect(try fixture.resume(at: Self.start + 61).value(for: "new") == [1])
    }

    @Test func theTokenIsHexAndTheFileHoldsNoKeyInTheClear() throws {
        let fixture = try Fixture()
        #expect(fixture.token.count == 64 && SessionStore.isToken(fixture.token))
        #expect(!SessionStore.isToken(fixture.token.uppercased()) && !SessionStore.isToken("abc"))
        try fixture.begin()
        let bytes = try readBytes(fixture.sessionPath)
        let masterKey = try #require(fixture.vault.keyGrant?.masterKey).withUnsafeBytes { Array($0) }
        #expect(offset(of: masterKey, in: bytes) == nil)
        #expect(offset(of: Array(fixture.token.utf8), in: bytes) == nil)
    }

    @Test func theFolderIs0700AndTheFile0600() throws {
        let fixture = try Fixture()
        try fixture.begin()
        #expect(Self.mode(fixture.store.folder) == 0o700)
        #expect(Self.mode(fixture.sessionPath) == 0o600)
    }

    @Test func anOpenFolderIsRefused() throws {
        let fixture = try Fixture()
        #expect(mkdir(fixture.store.folder, 0o755) == 0)
        chmod(fixture.store.folder, 0o755)
        #expect(throws: CofferError.io(path: fixture.store.folder, reason: "the session folder must be a folder of yours with mode 0700")) {
            try fixture.begin()
        }
        #expect(!fixture.sessionExists)
    }

    @Test func theAbsoluteLifetimeEndsTheSessionAndRemovesTheFile() throws {
        let fixture = try Fixture()
        try fixture.begin(ttl: Self.hour, idle: Self.hour)
        try fixture.resume(at: Self.start + Self.hour - 1)
        #expect(throws: SessionStore.Rejection.expired) { try fixture.resume(at: Self.start + Self.hour) }
        #expect(!fixture.sessionExists)
        #expect(throws: SessionStore.Rejection.none) { try fixture.resume(at: Self.start + 1) }
    }

    @Test func idleTimeEndsTheSessionAndEachUsePushesIt() throws {
        let fixture = try Fixture()
        try fixture.begin(ttl: 12 * Self.hour, idle: 600)
        // Each use is less than 600 s after the last: the session outlives its first idle deadline.
        for offset: UInt64 in [599, 1100, 1699] { try fixture.resume(at: Self.start + offset) }
        #expect(fixture.store.session(for: fixture.vault, token: fixture.token, now: Self.start + 1699)?.lastUsed == Self.start + 1699)
        #expect(throws: SessionStore.Rejection.expired) { try fixture.resume(at: Self.start + 1699 + 601) }
        #expect(!fixture.sessionExists)

        let unused = try Fixture()
        try unused.begin(ttl: 12 * Self.hour, idle: 600)
        #expect(throws: SessionStore.Rejection.expired) { try unused.resume(at: Self.start + 601) }
    }

    @Test func aClockBeforeTheStartIsRefused() throws {
        let fixture = try Fixture()
        try fixture.begin()
        #expect(throws: SessionStore.Rejection.expired) { try fixture.resume(at: Self.start - 1) }
        #expect(!fixture.sessionExists)
    }

    @Test func endAndEndAllRemoveSessions() throws {
        let directory = try TemporaryDirectory()
        let first = try Fixture(name: "a.coffer", in: directory)
        let second = try Fixture(name: "b.coffer", in: directory)
        try first.begin()
        try second.begin()
        #expect(first.store.end(vaultID: first.vault.vaultID) == 1)
        #expect(first.store.end(vaultID: first.vault.vaultID) == 0)
        #expect(throws: SessionStore.Rejection.none) { try first.resume(at: Self.start + 1) }
        try second.resume(at: Self.start + 1)

        try first.begin()
        #expect(first.store.endAll() == 2)
        #expect(throws: SessionStore.Rejection.none) { try first.resume(at: Self.start + 2) }
        #expect(throws: SessionStore.Rejection.none) { try second.resume(at: Self.start + 2) }
        #expect(first.store.endAll() == 0)
    }

    /// Offsets inside the file: magic, vault id, verification key, slot id, created, expires,
    /// idle, last used, then the sealed master key (nonce, ciphertext, tag).
    @Test(arguments: [0, 30, 56, 64, 72, 80, 88, 100, 130, 160, 167])
    func aTamperedFileIsRejectedAndRemoved(at offset: Int) throws {
        let fixture = try Fixture()
        try fixture.begin()
        try writeBytes(flipping(try readBytes(fixture.sessionPath), at: offset), to: fixture.sessionPath)
        #expect(throws: SessionStore.Rejection.tampered) { try fixture.resume(at: Self.start + 1) }
        #expect(!fixture.sessionExists)
    }

    @Test func aTruncatedFileIsRejectedAndRemoved() throws {
        let fixture = try Fixture()
        try fixture.begin()
        try writeBytes(Array(try readBytes(fixture.sessionPath).dropLast()), to: fixture.sessionPath)
        #expect(throws: SessionStore.Rejection.tampered) { try fixture.resume(at: Self.start + 1) }
        #expect(!fixture.sessionExists)
    }

    @Test func anotherVaultsSessionIsForeign() throws {
        let directory = try TemporaryDirectory()
        let a = try Fixture(name: "a.coffer", in: directory)
        let b = try Fixture(name: "b.coffer", in: directory)
        try a.begin()
        // B has no session of its own: A's token finds nothing.
        #expect(throws: SessionStore.Rejection.none) { try b.resume(at: Self.start + 1, token: a.token) }
        // A's file put where B's session for A's token would be.
        let forged = try #require(b.store.path(for: b.vault.vaultID, token: a.token))
        try writeBytes(try readBytes(a.sessionPath), to: forged)
        #expect(throws: SessionStore.Rejection.foreign) { try b.resume(at: Self.start + 1, token: a.token) }
        #expect(!FileManager.default.fileExists(atPath: forged))
        try a.resume(at: Self.start + 1)
    }

    @Test func aWrongTokenOpensNothing() throws {
        let fixture = try Fixture()
        try fixture.begin()
        #expect(throws: SessionStore.Rejection.malformedToken) { try fixture.resume(at: Self.start + 1, token: "not-a-token") }
        #expect(fixture.sessionExists)
        // Another token names another file: it finds none, and the real session is left alone.
        let other = SessionStore.newToken().withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        let stranger = try Vault.open(at: fixture.vault.path)
        #expect(throws: SessionStore.Rejection.none) { try fixture.store.resume(stranger, token: other, now: Self.start + 1) }
        #expect(!stranger.isUnlocked)
        #expect(fixture.sessionExists)
        // The real file under the other token's name: its seal does not open with that token.
        try writeBytes(try readBytes(fixture.sessionPath), to: try #require(fixture.store.path(for: fixture.vault.vaultID, token: other)))
        #expect(throws: SessionStore.Rejection.tampered) { try fixture.store.resume(stranger, token: other, now: Self.start + 1) }
        #expect(!stranger.isUnlocked)
        try fixture.resume(at: Self.start + 2)
    }

    @Test func aRotationWithTheTokenKeepsTheSession() throws {
        let fixture = try Fixture()
        try fixture.begin()
        let writer = try fixture.resume(at: Self.start + 10)
        let oldKey = writer.verificationKey
        try writer.rotate()
        try writer.save()
        fixture.store.refresh(after: writer, token: fixture.token, now: Self.start + 20)

        #expect(fixture.store.session(for: writer, token: fixture.token, now: Self.start + 20) != nil)
        let resumed = try fixture.resume(at: Self.start + 30)
        #expect(resumed.verificationKey != oldKey && resumed.canWrite)
        #expect(try resumed.value(for: "pg.password") == Array("hunter2".utf8))
    }

    @Test func aRotationWithoutTheTokenEndsTheSession() throws {
        let fixture = try Fixture()
        try fixture.begin()
        let writer = try Vault.open(at: fixture.vault.path)
        try writer.unlock(passphrase: secure(testPassphrase))
        try writer.rotate()
        try writer.save()
        fixture.store.refresh(after: writer, token: nil, now: Self.start + 20)
        #expect(!fixture.sessionExists)
        #expect(throws: SessionStore.Rejection.none) { try fixture.resume(at: Self.start + 30) }
    }

    /// A rotation the session did not see (another clone, a `git checkout`): the session is not
    /// used for that version, and kept for the version it was made for.
    @Test func aSessionIsNotUsedForAnotherVersionOfTheVaultButKept() throws {
        let fixture = try Fixture()
        try fixture.begin()
        let before = try readBytes(fixture.vault.path)
        let writer = try Vault.open(at: fixture.vault.path)
        try writer.unlock(passphrase: secure(testPassphrase))
        try writer.rotate()
        try writer.save()
        let rotated = try Vault.open(at: fixture.vault.path)
        #expect(throws: SessionStore.Rejection.otherVersion) { try fixture.store.resume(rotated, token: fixture.token, now: Self.start + 30) }
        #expect(!rotated.isUnlocked)
        #expect(fixture.sessionExists)

        let older = try Vault(bytes: before, path: fixture.vault.path)
        try fixture.store.resume(older, token: fixture.token, now: Self.start + 40)
        #expect(try older.value(for: "pg.password") == Array("hunter2".utf8))
    }

    /// Two shells unlock the same vault: each has its own file, and one's failures never end the other's.
    @Test func eachTokenHasItsOwnSession() throws {
        let first = try Fixture()
        let second = Fixture.sharing(first)
        try first.begin()
        try second.begin(at: Self.start + 5)
        #expect(first.sessionPath != second.sessionPath)
        try first.resume(at: Self.start + 10)
        try second.resume(at: Self.start + 10)

        try writeBytes(flipping(try readBytes(first.sessionPath), at: 130), to: first.sessionPath)
        #expect(throws: SessionStore.Rejection.tampered) { try first.resume(at: Self.start + 11) }
        try second.resume(at: Self.start + 12)
        #expect(first.store.openCount(of: first.vault.vaultID, now: Self.start + 12) == 1)
        #expect(first.store.end(vaultID: first.vault.vaultID) == 1)
        #expect(!second.sessionExists)
    }

    @Test func aRotationKeepsTheRotatingShellsSessionAndEndsTheOthers() throws {
        let first = try Fixture()
        let second = Fixture.sharing(first)
        try first.begin()
        try second.begin()
        let writer = try first.resume(at: Self.start + 10)
        try writer.rotate()
        try writer.save()
        first.store.refresh(after: writer, token: first.token, now: Self.start + 20)
        #expect(try first.resume(at: Self.start + 30).value(for: "pg.password") == Array("hunter2".utf8))
        #expect(!second.sessionExists)
    }

    @Test func startingASessionRemovesTheVaultsExpiredOnes() throws {
        let first = try Fixture()
        let second = Fixture.sharing(first)
        try first.begin(ttl: Self.hour, idle: Self.hour)
        try second.begin(at: Self.start + Self.hour)
        #expect(!first.sessionExists && second.sessionExists)
    }

    @Test func theFolderFallsBackToOneOfTheUsersOwnInTmp() {
        let fallback = "/tmp/coffer-\(getuid())"
        #expect(SessionStore.defaultFolder(environment: [:]) == fallback)
        #expect(SessionStore.defaultFolder(environment: ["XDG_RUNTIME_DIR": ""]) == fallback)
        #expect(SessionStore.defaultFolder(environment: ["XDG_RUNTIME_DIR": "/run/user/7"]) == "/run/user/7/coffer")
    }

    /// A folder someone else prepared (a link to a folder they can read) is never used.
    @Test func aLinkedFolderIsRefused() throws {
        let fixture = try Fixture()
        let elsewhere = fixture.directory.file("elsewhere")
        #expect(mkdir(elsewhere, 0o700) == 0)
        #expect(symlink(elsewhere, fixture.store.folder) == 0)
        #expect(throws: CofferError.io(path: fixture.store.folder, reason: "the session folder must be a folder of yours with mode 0700")) {
            try fixture.begin()
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
    }

    @Test func onlyAFullKeyStartsASession() throws {
        let fixture = try Fixture()
        let identity = X25519.generateSecretKey()
        try fixture.vault.addRecipientSlot(try X25519.publicKey(for: identity), scope: Scope(project: "P"))
        try fixture.vault.save()
        let reader = try Vault.open(at: fixture.vault.path)
        try reader.unlock(identities: [identity])
        #expect(throws: CofferError.keyUnavailable("sessions need a key that opens the whole vault")) {
            try fixture.store.start(vault: reader, token: fixture.token, ttl: 60, idle: 60, now: Self.start)
        }
        #expect(throws: CofferError.invalidArgument("COFFER_SESSION is not a session token")) {
            try fixture.store.start(vault: fixture.vault, token: "xyz", ttl: 60, idle: 60, now: Self.start)
        }
        #expect(!fixture.sessionExists)
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }
}
