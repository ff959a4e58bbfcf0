@testable import Coffer
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Reads that skip re-hashing an unchanged file (Specs/fast-read.md, issue 22): after a verified
/// `get`, every way an attacker changes the vault (bytes flipped in place, mtime restored with
/// `touch -d`, within the same second, replaced by rename, truncated and grown again, a forged
/// record, a rolled back copy) makes the next `get` verify the whole file again, with a session
/// and without, and the tampered file is refused with exit 4.
@Suite struct FastReadAttackTests {
    /// A vault with a few entries, a runtime folder, a session token and an identity with a slot.
    struct Fixture {
        let sandbox: Sandbox
        let runtime: String
        let identity: String
        let token: String

        static let value = "hunter2-value"

        /// Records are made only for vaults on the file systems Specs/fast-read.md lists: where
        /// the temporary folder is on another (tmpfs, as on Debian 13), the sandboxes go in the
        /// package's `.build` folder instead.
        static let sandboxParent: String = {
            let temporary = NSTemporaryDirectory()
            if (try? OpenFile(temporary).isOnLocalFileSystem) == true { return temporary }
            let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent()
            let folder = package.appendingPathComponent(".build/test-sandboxes").path
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            return folder + "/"
        }()

        init(entries extra: [(String, String)] = []) throws {
            sandbox = try Sandbox(in: Self.sandboxParent)
            runtime = sandbox.root + "/run"
            #expect(mkdir(runtime, 0o700) == 0)
            sandbox.makeVault()
            sandbox.store("pg.password", Self.value)
            sandbox.store("api.key", "api-prod-value", ["--project", "P", "--domain", "prod"])
            if !extra.isEmpty {
                let text = extra.map { "\($0.0)=\($0.1)\n" }.joined()
                let dotenv = sandbox.root + "/bulk.env"
                try sandbox.write(dotenv, text)
                let imported = sandbox.unlocked(["import", dotenv])
                #expect(imported.status == 0, "\(imported.stderr)")
            }
            identity = sandbox.root + "/identity.txt"
            let made = sandbox.coffer(["keygen", "-o", identity])
            #expect(made.status == 0, "\(made.stderr)")
            let added = sandbox.unlocked(["slots", "add-recipient", made.output.trimmingCharacters(in: .newlines)])
            #expect(added.status == 0, "\(added.stderr)")
            let unlocked = sandbox.coffer(
                ["unlock", "--raw", "--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile],
                environment: ["XDG_RUNTIME_DIR": runtime])
            #expect(unlocked.status == 0, "\(unlocked.stderr)")
            token = unlocked.output.trimmingCharacters(in: .newlines)
        }

        /// The environment of the shell. Files written by the test are seconds old at most, so the
        /// racy rule (2 s) would keep every record from being made: the debug build's hook sets
        /// the window to 0, or with `racy` to an hour, so that the rule holds however slowly the
        /// test runs.
        func environment(session: Bool, racy: Bool = false) -> [String: String] {
            var environment = ["XDG_RUNTIME_DIR": runtime, "COFFER_NO_DEFAULT_IDENTITIES": "1"]
            if session { environment["COFFER_SESSION"] = token }
            environment["COFFER_TEST_RACY_SECONDS"] = racy ? "3600" : "0"
            return environment
        }

        /// `coffer get -v name` with the session.
        @discardableResult
        func get(_ name: String = "pg.password", _ options: [String] = [], racy: Bool = false) -> CofferResult {
            sandbox.coffer(["get", "-v", name, "--vault", sandbox.vault] + options, environment: environment(session: true, racy: racy))
        }

        /// The same read without a session: by passphrase file, then by identity file.
        var sessionlessReads: [CofferResult] {
            [["--passphrase-file", sandbox.passphraseFile], ["-i", identity]].map { key in
                sandbox.coffer(["get", "-v", "pg.password", "--vault", sandbox.vault] + key, environment: environment(session: false))
            }
        }

        /// The verified-state records in the session folder.
        var records: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: runtime + "/coffer")) ?? [])
                .filter { $0.hasSuffix(".verified") }.map { runtime + "/coffer/" + $0 }
        }

        /// A verified `get` that leaves a record, read back unchanged through it.
        func verifiedRead() {
            let first = get()
            #expect(first.status == 0 && first.output == Self.value, "\(first.stderr)")
            #expect(first.stderr.contains(Self.full), "\(first.stderr)")
            #expect(records.count == 1)
            let second = get()
            #expect(second.status == 0 && second.output == Self.value, "\(second.stderr)")
            #expect(second.stderr.contains(Self.unchanged), "\(second.stderr)")
        }

        /// The next read, with the session and without, verifies the whole file and refuses it (exit 4).
        func expectRefusedAfterFullVerification(sourceLocation: SourceLocation = #_sourceLocation) {
            let read = get()
            #expect(read.status == 4, "exit \(read.status): \(read.stderr)", sourceLocation: sourceLocation)
            // Only hashing the whole file finds the signature broken.
            #expect(read.stderr.contains(Self.refused), "\(read.stderr)", sourceLocation: sourceLocation)
            #expect(!read.stderr.contains(Self.unchanged), "\(read.stderr)", sourceLocation: sourceLocation)
            #expect(read.stdout.isEmpty, sourceLocation: sourceLocation)
            for sessionless in sessionlessReads {
                #expect(sessionless.stderr.contains(Self.refused), "\(sessionless.stderr)", sourceLocation: sourceLocation)
                #expect(sessionless.status == 4, "exit \(sessionless.status): \(sessionless.stderr)", sourceLocation: sourceLocation)
                #expect(sessionless.stdout.isEmpty, sourceLocation: sourceLocation)
            }
        }

        static let full = "verified the whole file"
        static let unchanged = "unchanged since verified"
        static let refused = "failed verification (signature)"
    }

    // MARK: File helpers (what an attacker with write access to the repository does)

    static func times(_ path: String) -> (mtime: timespec, ctime: timespec, inode: UInt64, size: Int) {
        var info = stat()
        #expect(stat(path, &info) == 0)
        return (info.st_mtim, info.st_ctim, UInt64(info.st_ino), Int(info.st_size))
    }

    /// `touch -d @S.N path`: the modification time set back to `mtime`, to the nanosecond.
    static func restoreMtime(_ path: String, _ mtime: timespec) throws {
        let stamp = "@\(mtime.tv_sec)." + String(String(mtime.tv_nsec + 1_000_000_000).dropFirst())
        let touched = try ProcessRunner.run(["touch", "-m", "-d", stamp, path])
        #expect(touched == 0)
    }

    /// Overwrites `bytes` at `offset` in place: same inode, same size.
    static func writeInPlace(_ path: String, at offset: Int, _ bytes: [UInt8]) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    /// Flips one byte in place and sets the modification time back, as `touch -d` does.
    static func flipInPlace(_ path: String, at offset: Int) throws {
        let before = times(path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try writeInPlace(path, at: offset, [bytes[offset] ^ 0x01])
        try restoreMtime(path, before.mtime)
        let after = times(path)
        #expect(after.inode == before.inode && after.size == before.size)
        #expect(after.mtime.tv_sec == before.mtime.tv_sec && after.mtime.tv_nsec == before.mtime.tv_nsec)
    }

    /// An offset inside the last entry's sealed value (`api.key`, not the entry read): only the
    /// signature over the whole file covers it.
    static func otherEntryCiphertext(_ path: String) -> Int {
        times(path).size - 64 - 5
    }

    /// Where `needle` first occurs in `bytes`.
    static func offset(of needle: [UInt8], in bytes: [UInt8]) -> Int? {
        (0...(bytes.count - needle.count)).first { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
    }

    // MARK: Attacks

    @Test func anUnchangedFileIsReadThroughItsRecord() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        let scoped = fixture.get("api.key", ["--project", "P", "--domain", "prod"])
        #expect(scoped.status == 0 && scoped.output == "api-prod-value", "\(scoped.stderr)")
        #expect(scoped.stderr.contains(Fixture.unchanged))
        let fallback = fixture.get("pg.password", ["--project", "P", "--domain", "prod"])
        #expect(fallback.output == Fixture.value && fallback.stderr.contains(Fixture.unchanged))
        let missing = fixture.get("no.such")
        #expect(missing.status == 2, "\(missing.stderr)")
    }

    @Test func entriesAcrossManyCheckpointBlocksAreFoundThroughTheRecord() throws {
        let names = (0..<300).map { String(format: "k%03d", $0) }
        let fixture = try Fixture(entries: names.map { ($0, "v-" + $0) })
        fixture.verifiedRead()
        for name in ["k000", "k127", "k128", "k129", "k255", "k256", "k299", "api.key"] where name != "api.key" {
            let read = fixture.get(name)
            #expect(read.status == 0 && read.output == "v-" + name, "\(name): \(read.stderr)")
            #expect(read.stderr.contains(Fixture.unchanged), "\(read.stderr)")
        }
        #expect(fixture.get("k1000").status == 2)
        #expect(fixture.get("a").status == 2)
        #expect(fixture.get("zzz").status == 2)
    }

    /// The same names in several scopes, spread over several checkpoint blocks: each lookup
    /// through the record gives what a full read without a session gives, the most specific
    /// scope first, not an entry of the same name in another block or scope; a name found in
    /// no visible scope (only in another project) is not found (exit 2) both ways.
    @Test func scopeResolutionAcrossCheckpointBlocksMatchesTheFullRead() throws {
        let names = (0..<200).map { String(format: "k%03d", $0) }
        let fixture = try Fixture(entries: names.map { ($0, "g-" + $0) })
        let sandbox = fixture.sandbox
        let scoped: [([String], String, [String])] = [
            (["--project", "P"], "p-", names.filter { $0.last! == "0" || $0.last! == "4" }),
            (["--project", "P", "--domain", "prod"], "pd-", names.filter { $0.last! == "0" }),
            (["--domain", "prod"], "d-", names.filter { $0.last! == "4" || $0.last! == "7" }),
            (["--project", "Q"], "q-", ["only.q"] + names.prefix(150)),
        ]
        for (options, prefix, chosen) in scoped {
            let dotenv = sandbox.root + "/scoped.env"
            try sandbox.write(dotenv, chosen.map { "\($0)=\(prefix)\($0)\n" }.joined())
            let imported = sandbox.unlocked(["import", dotenv] + options)
            #expect(imported.status == 0, "\(imported.stderr)")
        }
        fixture.verifiedRead()
        for name in ["k000", "k004", "k007", "k010", "k127", "k128", "k130", "k134", "k199", "only.q", "k200"] {
            let through = fixture.get(name, ["--project", "P", "--domain", "prod"])
            #expect(through.stderr.contains(Fixture.unchanged), "\(through.stderr)")
            let full = sandbox.coffer(
                ["get", name, "--vault", sandbox.vault, "--project", "P", "--domain", "prod", "--passphrase-file", sandbox.passphraseFile],
                environment: fixture.environment(session: false))
            #expect(through.status == full.status && through.output == full.output, "\(name): \(through.output) vs \(full.output)")
        }
        #expect(fixture.get("k010", ["--project", "P", "--domain", "prod"]).output == "pd-k010")
        #expect(fixture.get("k134", ["--project", "P", "--domain", "prod"]).output == "p-k134")
        #expect(fixture.get("k137", ["--project", "P", "--domain", "prod"]).output == "d-k137")
        #expect(fixture.get("k131", ["--project", "P", "--domain", "prod"]).output == "g-k131")
        #expect(fixture.get("only.q", ["--project", "P", "--domain", "prod"]).status == 2)
    }

    /// A symbolic link read through (its record is that of the real path), then swapped to
    /// another verified vault: the read gives the other vault's value, as a full read does,
    /// never the first vault's; the stat identity binds a record to its inode, not to a name.
    @Test func attackSymlinkSwappedToAnotherVerifiedVaultGivesThatVaultsValue() throws {
        let fixture = try Fixture()
        let sandbox = fixture.sandbox
        let other = sandbox.work + "/other.coffer"
        sandbox.makeVault(other)
        sandbox.store("pg.password", "other-vault-value", vault: other)
        let link = sandbox.work + "/current.coffer"
        #expect(symlink(sandbox.vault, link) == 0)
        func get(_ path: String) -> CofferResult {
            sandbox.coffer(
                ["get", "-v", "pg.password", "--vault", path, "--passphrase-file", sandbox.passphraseFile],
                environment: fixture.environment(session: true))
        }
        for path in [link, link, other, other] { #expect(get(path).status == 0) }
        let throughLink = get(link)
        #expect(throughLink.output == Fixture.value && throughLink.stderr.contains(Fixture.unchanged), "\(throughLink.stderr)")
        #expect(unlink(link) == 0 && symlink(other, link) == 0)
        let swapped = get(link)
        #expect(swapped.output == "other-vault-value", "\(swapped.stderr)")
    }

    /// A modification time set into the future keeps the state racy: it is not recorded; a
    /// same-size change with that future time restored is then found by the full read.
    @Test func attackFutureModificationTimeWithASameSizeChangeIsCaught() throws {
        let fixture = try Fixture()
        let path = fixture.sandbox.vault
        #expect(try ProcessRunner.run(["touch", "-m", "-d", "@\(time(nil) + 86400)", path]) == 0)
        let first = fixture.get()
        #expect(first.status == 0 && first.stderr.contains(Fixture.full), "\(first.stderr)")
        #expect(fixture.records.isEmpty)
        try Self.flipInPlace(path, at: Self.otherEntryCiphertext(path))
        fixture.expectRefusedAfterFullVerification()
    }

    @Test func attackSameSizeByteFlipInAnotherEntrysCiphertextWithMtimeRestored() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        try Self.flipInPlace(fixture.sandbox.vault, at: Self.otherEntryCiphertext(fixture.sandbox.vault))
        fixture.expectRefusedAfterFullVerification()
    }

    @Test func attackSameSizeByteFlipInTheSignatureWithMtimeRestored() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        try Self.flipInPlace(fixture.sandbox.vault, at: Self.times(fixture.sandbox.vault).size - 1)
        fixture.expectRefusedAfterFullVerification()
    }

    /// The verified read, the change and the next read all within one second: the nanosecond
    /// ctime the change set tells.
    @Test func attackWithinTheSameSecondIsCaught() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        let recorded = Self.times(fixture.sandbox.vault)
        try Self.flipInPlace(fixture.sandbox.vault, at: Self.otherEntryCiphertext(fixture.sandbox.vault))
        let changed = Self.times(fixture.sandbox.vault)
        #expect(changed.ctime.tv_sec != recorded.ctime.tv_sec || changed.ctime.tv_nsec != recorded.ctime.tv_nsec)
        fixture.expectRefusedAfterFullVerification()
    }

    /// A file changed within the racy window before its verifying read (2 s by default, an hour
    /// here) is never recorded: a change in the same timestamp tick could not be seen later.
    @Test func aRacyFileStateIsNotRecordedAndATamperedOneIsRefused() throws {
        let fixture = try Fixture()
        let first = fixture.get(racy: true)
        #expect(first.status == 0 && first.output == Fixture.value, "\(first.stderr)")
        #expect(first.stderr.contains(Fixture.full))
        #expect(fixture.records.isEmpty)
        try Self.flipInPlace(fixture.sandbox.vault, at: Self.otherEntryCiphertext(fixture.sandbox.vault))
        let read = fixture.get(racy: true)
        #expect(read.status == 4 && read.stderr.contains(Fixture.refused), "\(read.stderr)")
    }

    @Test func attackReplacedByRenameWithAForgedCopy() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        let path = fixture.sandbox.vault
        let forged = path + ".forged"
        #expect(try ProcessRunner.run(["cp", "-p", path, forged]) == 0)
        try Self.writeInPlace(forged, at: Self.otherEntryCiphertext(forged), [0x00, 0x01, 0x02])
        try Self.restoreMtime(forged, Self.times(path).mtime)
        #expect(rename(forged, path) == 0)
        fixture.expectRefusedAfterFullVerification()
    }

    /// An older generation of the vault (the same size: the value replaced has the same length),
    /// copied in place over the verified inode with the mtime restored: device, inode, size and
    /// mtime are all the record's. The ctime is not, so it is verified in full, and the trust
    /// store's rollback rule applies: the read warns, a write is refused.
    @Test func attackRolledBackCopyWithIdenticalInodeSizeAndMtimeIsCheckedInFull() throws {
        let fixture = try Fixture()
        let path = fixture.sandbox.vault
        let older = fixture.sandbox.bytes(path)
        fixture.sandbox.store("pg.password", "hunter3-value", ["--overwrite"])
        let read = fixture.get()
        #expect(read.output == "hunter3-value" && read.stderr.contains(Fixture.full), "\(read.stderr)")
        #expect(fixture.get().stderr.contains(Fixture.unchanged))
        let recorded = Self.times(path)
        #expect(older.count == recorded.size)
        try Self.writeInPlace(path, at: 0, older)
        try Self.restoreMtime(path, recorded.mtime)
        let now = Self.times(path)
        #expect(now.inode == recorded.inode && now.size == recorded.size && now.mtime.tv_nsec == recorded.mtime.tv_nsec)

        let rolledBack = fixture.get()
        #expect(rolledBack.stderr.contains(Fixture.full) && rolledBack.stderr.contains("rollback"), "\(rolledBack.stderr)")
        #expect(!rolledBack.stderr.contains(Fixture.unchanged))
        let write = fixture.sandbox.coffer(
            ["set", "other", "--vault", path], stdin: Array("x".utf8), environment: fixture.environment(session: true))
        #expect(write.status == 4, "\(write.stderr)")
        // Reads keep checking it in full and keep warning: the rolled back state is never vouched for silently.
        let again = fixture.get()
        #expect(again.stderr.contains("rollback"), "\(again.stderr)")
    }

    @Test func attackTruncatedAndGrownAgainToTheSameSizeAndMtime() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        let path = fixture.sandbox.vault
        let before = Self.times(path)
        var bytes = fixture.sandbox.bytes(path)
        bytes[Self.otherEntryCiphertext(path)] ^= 0x80
        #expect(truncate(path, 0) == 0)
        try Self.writeInPlace(path, at: 0, bytes)
        try Self.restoreMtime(path, before.mtime)
        let after = Self.times(path)
        #expect(after.inode == before.inode && after.size == before.size)
        fixture.expectRefusedAfterFullVerification()
    }

    /// The attacker can write the session folder but has no token: a record rewritten to match
    /// the tampered file's stat fields keeps a MAC that no longer verifies.
    @Test func attackForgedRecordMatchingTheTamperedFileIsIgnored() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        let path = fixture.sandbox.vault
        try Self.flipInPlace(path, at: Self.otherEntryCiphertext(path))
        let record = try #require(fixture.records.first)
        var bytes = fixture.sandbox.bytes(record)
        // made (16 bytes) after the magic, then device, inode, size; then mtime and ctime.
        let ctime = Self.times(path).ctime
        var offset = 8 + 16 + 24 + 16
        for field in [Int64(ctime.tv_sec), Int64(ctime.tv_nsec)] {
            withUnsafeBytes(of: field.littleEndian) { bytes.replaceSubrange(offset..<offset + 8, with: $0) }
            offset += 8
        }
        try fixture.sandbox.write(record, bytes)
        fixture.expectRefusedAfterFullVerification()
    }

    @Test func forgedRecordOfGarbageIsIgnoredAndReplaced() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        let record = try #require(fixture.records.first)
        try fixture.sandbox.write(record, Array(repeating: 0x41, count: 300))
        let read = fixture.get()
        #expect(read.status == 0 && read.output == Fixture.value && read.stderr.contains(Fixture.full), "\(read.stderr)")
        #expect(fixture.get().stderr.contains(Fixture.unchanged))
    }

    /// The trust rules run on every read, also through a record: a pin that names another
    /// vault refuses the recorded one.
    @Test func attackSubstitutedVaultRefusedByPinAlsoThroughARecord() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        let other = try Sandbox()
        other.makeVault()
        let pin = other.coffer(["pin", "--vault", other.vault]).output.trimmingCharacters(in: .newlines)
        let read = fixture.get("pg.password", ["--pin", pin])
        #expect(read.status == 4 && read.stdout.isEmpty, "\(read.stderr)")
    }

    /// An attacker with write access keeps a shared writable mapping of the vault and writes to
    /// it once: the kernel sets the times then, and not again for later writes to that dirty page
    /// until writeback cleans it. The verified read comes after the times are old enough, then the
    /// older sealed value of `pg.password` (it opens: its associated data names vault, scope and
    /// name, not the generation) is written back through the mapping, and the mapping dropped.
    /// No stat field changed; only a read that saw no writer at the verification may record it.
    @Test func attackRolledBackValueWrittenThroughAMappingDirtiedBeforeTheVerifiedRead() throws {
        let fixture = try Fixture()
        let path = fixture.sandbox.vault
        let older = fixture.sandbox.bytes(path)
        fixture.sandbox.store("pg.password", "hunter3-value", ["--overwrite"])
        let newer = fixture.sandbox.bytes(path)
        #expect(older.count == newer.count)
        let mapping = try WritableMapping(path)
        mapping[0] = mapping[0]
        let verified = fixture.get()
        #expect(verified.status == 0 && verified.output == "hunter3-value", "\(verified.stderr)")
        let before = Self.times(path)
        let entry = try #require(Self.offset(of: Array("pg.password".utf8), in: newer))
        for offset in entry..<newer.count - 64 where older[offset] != newer[offset] { mapping[offset] = older[offset] }
        mapping.close()
        #expect(fixture.sandbox.bytes(path) != newer)
        let after = Self.times(path)
        // On ext4 the write left every time as it was (unless writeback ran in between).
        if after.ctime.tv_nsec == before.ctime.tv_nsec && after.ctime.tv_sec == before.ctime.tv_sec {
            #expect(after.mtime.tv_nsec == before.mtime.tv_nsec && after.inode == before.inode)
        }
        fixture.expectRefusedAfterFullVerification()
    }

    /// On tmpfs a write through a shared mapping never sets the file's times: a vault there is
    /// never read through a record, and a change made that way is found by the full read.
    @Test func attackWriteThroughAMappingOnTmpfsChangesNoTimeAndIsCaught() throws {
        let fixture = try Fixture()
        var template = Array("/dev/shm/coffer-fast-read-XXXXXX".utf8CString)
        let folder = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/secrets.coffer"
        let sandbox = fixture.sandbox
        sandbox.makeVault(path)
        sandbox.store("pg.password", Fixture.value, vault: path)
        sandbox.store("zz.other", "other-value", vault: path)
        var environment = fixture.environment(session: false)
        let unlocked = sandbox.coffer(["unlock", "--raw", "--vault", path, "--passphrase-file", sandbox.passphraseFile], environment: environment)
        #expect(unlocked.status == 0, "\(unlocked.stderr)")
        environment["COFFER_SESSION"] = unlocked.output.trimmingCharacters(in: .newlines)
        func get() -> CofferResult { sandbox.coffer(["get", "-v", "pg.password", "--vault", path], environment: environment) }
        for _ in 0..<2 {
            let read = get()
            #expect(read.status == 0 && read.output == Fixture.value && read.stderr.contains(Fixture.full), "\(read.stderr)")
        }
        let before = Self.times(path)
        let mapping = try WritableMapping(path)
        mapping[before.size - 64 - 5] ^= 0x01
        mapping.close()
        let after = Self.times(path)
        #expect(after.ctime.tv_sec == before.ctime.tv_sec && after.ctime.tv_nsec == before.ctime.tv_nsec)
        let tampered = get()
        #expect(tampered.status == 4 && tampered.stderr.contains(Fixture.refused) && tampered.stdout.isEmpty, "\(tampered.stderr)")
    }

    /// After `coffer lock` of the one vault its record stays, but it vouches for bytes only: the
    /// session's key is gone, so the read through it ends with no key (exit 3) and prints
    /// nothing. A new session's token does not authenticate the old token's record: the first
    /// read with it verifies the whole file.
    @Test func replayedRecordAfterLockOrWithANewTokenGivesNothing() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        let locked = fixture.sandbox.coffer(["lock", "--vault", fixture.sandbox.vault], environment: fixture.environment(session: true))
        #expect(locked.status == 0, "\(locked.stderr)")
        let afterLock = fixture.get()
        #expect(afterLock.status == 3 && afterLock.stdout.isEmpty, "exit \(afterLock.status): \(afterLock.stderr)")
        let unlocked = fixture.sandbox.coffer(
            ["unlock", "--raw", "--vault", fixture.sandbox.vault, "--passphrase-file", fixture.sandbox.passphraseFile],
            environment: fixture.environment(session: false))
        let token = unlocked.output.trimmingCharacters(in: .newlines)
        #expect(unlocked.status == 0 && token != fixture.token, "\(unlocked.stderr)")
        var environment = fixture.environment(session: false)
        environment["COFFER_SESSION"] = token
        let fresh = fixture.sandbox.coffer(["get", "-v", "pg.password", "--vault", fixture.sandbox.vault], environment: environment)
        #expect(fresh.status == 0 && fresh.output == Fixture.value && fresh.stderr.contains(Fixture.full), "\(fresh.stderr)")
    }

    @Test func lockingEveryVaultRemovesTheRecords() throws {
        let fixture = try Fixture()
        fixture.verifiedRead()
        let locked = fixture.sandbox.coffer(["lock", "--all"], environment: fixture.environment(session: true))
        #expect(locked.status == 0, "\(locked.stderr)")
        #expect(fixture.records.isEmpty)
    }
}

/// A shared writable mapping of a file, as an attacker with write access to it keeps one.
final class WritableMapping {
    private var base: UnsafeMutablePointer<UInt8>?
    private let count: Int

    init(_ path: String) throws {
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { throw POSIXError(.EACCES) }
        defer { Glibc.close(fd) }
        count = Int(lseek(fd, 0, SEEK_END))
        guard let mapped = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), mapped != MAP_FAILED else { throw POSIXError(.ENOMEM) }
        base = mapped.assumingMemoryBound(to: UInt8.self)
    }

    subscript(offset: Int) -> UInt8 {
        get { base![offset] }
        set { base![offset] = newValue }
    }

    /// Unmaps: the file is then open for writing nowhere.
    func close() {
        if let base { munmap(base, count) }
        base = nil
    }

    deinit { close() }
}

/// Runs a tool and returns its exit status.
enum ProcessRunner {
    static func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
