import Coffer
import CofferCrypto
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// CLI sessions through the `coffer` binary (issue 5): unlock, lock, status, and every reading and
/// writing command run with `COFFER_SESSION` and no passphrase source.
@Suite struct SessionCommandTests {
    /// A sandbox with a populated vault and its own runtime folder (mode 0700).
    struct Shell {
        let sandbox: Sandbox
        let runtime: String

        init() throws {
            sandbox = try Sandbox()
            runtime = sandbox.root + "/run"
            #expect(mkdir(runtime, 0o700) == 0)
            sandbox.makeVault()
            sandbox.store("pg.password", "hunter2-value")
            sandbox.store("api.key", "api-prod-value", ["--project", "P", "--domain", "prod"])
        }

        var folder: String { runtime + "/coffer" }

        /// The environment of a shell, with `token` in COFFER_SESSION when given.
        func environment(_ token: String? = nil, _ extra: [String: String] = [:]) -> [String: String] {
            var environment = ["XDG_RUNTIME_DIR": runtime].merging(extra) { $1 }
            if let token { environment["COFFER_SESSION"] = token }
            return environment
        }

        /// `coffer args... --vault V` with only the session (if `token`) as a key source.
        @discardableResult
        func run(_ args: [String], token: String?, vault: String? = nil, stdin: [UInt8]? = nil) -> CofferResult {
            sandbox.coffer(args + ["--vault", vault ?? sandbox.vault], stdin: stdin, environment: environment(token))
        }

        /// `coffer unlock --raw` with the passphrase file; returns the token.
        func unlock(vault: String? = nil, token: String? = nil, _ options: [String] = []) -> String {
            let result = run(["unlock", "--raw", "--passphrase-file", sandbox.passphraseFile] + options, token: token, vault: vault)
            #expect(result.status == 0, "unlock failed: \(result.stderr)")
            return result.output.trimmingCharacters(in: .newlines)
        }

        /// The file of `token`'s session on the vault.
        func sessionFile(vault: String? = nil, token: String) throws -> String {
            try #require(SessionStore(folder: folder).path(for: try Vault.open(at: vault ?? sandbox.vault).vaultID, token: token))
        }

        /// The session files in the folder.
        var sessionFiles: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".session") }
        }
    }

    static func isToken(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    @Test func everyCommandRunsOnTheSessionWithoutAPassphrase() throws {
        let shell = try Shell()
        let token = shell.unlock()
        #expect(Self.isToken(token))

        let get = shell.run(["get", "pg.password"], token: token)
        #expect(get.status == 0 && get.output == "hunter2-value", "\(get.stderr)")
        #expect(shell.run(["get", "api.key", "--project", "P", "--domain", "prod"], token: token).output == "api-prod-value")

        let set = shell.run(["set", "new.secret"], token: token, stdin: Array("fresh-value\n".utf8))
        #expect(set.status == 0, "\(set.stderr)")
        shell.sandbox.remember("fresh-value")

        let dotenv = shell.sandbox.root + "/more.env"
        try shell.sandbox.write(dotenv, "IMPORTED=imported-value\n")
        let imported = shell.run(["import", dotenv], token: token)
        #expect(imported.status == 0, "\(imported.stderr)")

        let list = shell.run(["list", "--values", "--json"], token: token)
        #expect(list.status == 0, "\(list.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout)) as? [[String: Any]])
        let values = Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as? String ?? "?", $0["value"] as? String ?? "") })
        #expect(values == ["IMPORTED": "imported-value", "api.key": "api-prod-value", "new.secret": "fresh-value", "pg.password": "hunter2-value"])

        let verify = shell.run(["verify"], token: token)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.output.contains("4 of 4 values open and verify"), "\(verify.output)")
        for result in [get, set, imported, list, verify] { shell.sandbox.expectNoSecrets(result.stderr) }
    }

    @Test func unlockPrintsShellSyntax() throws {
        let shell = try Shell()
        for (options, pattern) in [
            ([String](), #"^export COFFER_SESSION=[0-9a-f]{64};\n$"#), (["--shell", "bash"], #"^export COFFER_SESSION=[0-9a-f]{64};\n$"#),
            (["--shell", "zsh"], #"^export COFFER_SESSION=[0-9a-f]{64};\n$"#), (["--shell", "fish"], #"^set -gx COFFER_SESSION [0-9a-f]{64};\n$"#),
        ] {
            let result = shell.run(["unlock", "--passphrase-file", shell.sandbox.passphraseFile] + options, token: nil)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.output.range(of: pattern, options: .regularExpression) != nil, "\(options): \(result.output)")
            #expect(result.stderr.contains("session open for") && !result.stderr.contains("COFFER_SESSION="))
        }
        let unknown = shell.run(["unlock", "--passphrase-file", shell.sandbox.passphraseFile, "--shell", "tcsh"], token: nil)
        #expect(unknown.status == 1)
    }

    @Test func aTokenAlreadyInTheShellIsReused() throws {
        let shell = try Shell()
        let token = shell.unlock()
        #expect(shell.unlock(token: token) == token)
        let other = shell.sandbox.work + "/other.coffer"
        shell.sandbox.makeVault(other)
        #expect(shell.unlock(vault: other, token: token) == token)
        #expect(shell.run(["list", "--values"], token: token, vault: other).status == 0)
    }

    @Test func evalOfUnlockOpensTheSessionInTheShell() throws {
        let shell = try Shell()
        let script = #"eval "$("$0" unlock --vault "$1" --passphrase-file "$2")" && "$0" get pg.password --vault "$1""#
        let result = CofferProcess.runShell(
            script, [shell.sandbox.vault, shell.sandbox.passphraseFile],
            environment: shell.sandbox.environment(shell.environment()), cwd: shell.sandbox.work)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.output == "hunter2-value")
    }

    @Test func lockEndsTheSessionAndCommandsFailAtOnceWithoutATerminal() throws {
        let shell = try Shell()
        let token = shell.unlock()
        let file = try shell.sessionFile(token: token)
        #expect(FileManager.default.fileExists(atPath: file))

        let lock = shell.run(["lock"], token: token)
        #expect(lock.status == 0 && lock.stderr.contains("session ended"), "\(lock.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file))
        let refused = shell.sandbox.expectFailure(3) { shell.run(["get", "pg.password"], token: token) }
        #expect(refused.stderr.contains("no terminal"), "\(refused.stderr)")
        #expect(shell.run(["lock"], token: token).stderr.contains("no session was open"))
    }

    @Test func lockAllEndsEverySession() throws {
        let shell = try Shell()
        let other = shell.sandbox.work + "/other.coffer"
        shell.sandbox.makeVault(other)
        let token = shell.unlock()
        #expect(shell.unlock(vault: other, token: token) == token)
        #expect(shell.run(["get", "pg.password"], token: token).status == 0)

        let lock = shell.sandbox.coffer(["lock", "--all"], environment: shell.environment(token))
        #expect(lock.status == 0 && lock.stderr.contains("ended 2 session(s)"), "\(lock.stderr)")
        shell.sandbox.expectFailure(3) { shell.run(["get", "pg.password"], token: token) }
        shell.sandbox.expectFailure(3, vault: other) { shell.run(["list", "--values"], token: token, vault: other) }
    }

    @Test func statusShowsWhetherASessionIsOpen() throws {
        let shell = try Shell()
        func sessionRow(_ token: String?) -> String {
            let result = shell.run(["status"], token: token)
            #expect(result.status == 0, "\(result.stderr)")
            return result.output.split(separator: "\n").first { $0.hasPrefix("session") }.map(String.init) ?? ""
        }
        #expect(sessionRow(nil).hasSuffix("none ($COFFER_SESSION unset)"))
        let token = shell.unlock(["--ttl", "2h", "--idle", "10m"])
        let open = sessionRow(token)
        // Time left to the absolute deadline (2h, or 1h 59m once a second has passed), then the idle one.
        #expect(open.range(of: #"open: (2h|1h 59m) left, ends after 10m idle \(next: (10m|9m 5\ds)\)$"#, options: .regularExpression) != nil, "\(open)")
        #expect(sessionRow(nil).hasSuffix("none ($COFFER_SESSION unset); 1 open in other shells"))
        shell.run(["lock"], token: token)
        #expect(sessionRow(token).hasSuffix("none"))
    }

    @Test func withoutATerminalOrASessionCommandsFailAtOnce() throws {
        let shell = try Shell()
        for args in [["get", "pg.password"], ["list", "--values"], ["rotate"], ["verify", "--unlock-vault"]] {
            let result = shell.sandbox.expectFailure(3) { shell.run(args, token: nil) }
            #expect(result.stderr.contains("no terminal"), "\(args): \(result.stderr)")
        }
        let malformed = shell.sandbox.expectFailure(3) { shell.run(["get", "pg.password"], token: "not-a-token") }
        #expect(malformed.stderr.contains("malformed"), "\(malformed.stderr)")
        // A well-formed token with no session file: no key, and still no prompt.
        shell.sandbox.expectFailure(3) { shell.run(["get", "pg.password"], token: String(repeating: "ab", count: 32)) }
    }

    @Test func onlyAKeyToTheWholeVaultOpensASession() throws {
        let shell = try Shell()
        let identity = shell.sandbox.root + "/ci.txt"
        let keygen = shell.sandbox.coffer(["keygen", "-o", identity])
        let publicKey = keygen.output.trimmingCharacters(in: .newlines)
        #expect(shell.sandbox.unlocked(["slots", "add-recipient", publicKey, "--project", "P"]).status == 0)
        let refused = shell.sandbox.expectFailure(3) { shell.run(["unlock", "--identity", identity], token: nil) }
        #expect(refused.stderr.contains("sessions need a key that opens the whole vault"), "\(refused.stderr)")
        #expect(shell.sessionFiles.isEmpty)
    }

    @Test func theSessionFolderIs0700AndTheFile0600() throws {
        let shell = try Shell()
        let token = shell.unlock()
        let file = try shell.sessionFile(token: token)
        #expect(Self.mode(shell.folder) == 0o700)
        #expect(Self.mode(file) == 0o600)
        #expect(shell.run(["get", "pg.password"], token: token).status == 0)
        #expect(Self.mode(file) == 0o600)
        let names = try FileManager.default.contentsOfDirectory(atPath: shell.folder)
        #expect(names == [URL(fileURLWithPath: file).lastPathComponent])
    }

    @Test func anOpenRuntimeFolderIsRefused() throws {
        let shell = try Shell()
        #expect(mkdir(shell.folder, 0o755) == 0)
        chmod(shell.folder, 0o755)
        let result = shell.run(["unlock", "--passphrase-file", shell.sandbox.passphraseFile], token: nil)
        #expect(result.status == 6 && result.stderr.contains("mode 0700"), "\(result.status) \(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: shell.folder).isEmpty)
    }

    @Test func anExpiredSessionIsEndedAndNotUsed() throws {
        let shell = try Shell()
        let vault = try Vault.open(at: shell.sandbox.vault)
        try vault.unlock(passphrase: SecureBytes(copying: Array(shell.sandbox.passphrase.utf8)))
        let token = SessionStore.newToken().withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        let now = UInt64(time(nil))
        try SessionStore(folder: shell.folder).start(vault: vault, token: token, ttl: 60, idle: 60, now: now - 3600)

        let result = shell.sandbox.expectFailure(3) { shell.run(["get", "pg.password"], token: token) }
        #expect(result.stderr.contains("session expired and was ended"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: try shell.sessionFile(token: token)))
    }

    @Test func aTamperedSessionFileIsRemoved() throws {
        let shell = try Shell()
        let token = shell.unlock()
        let file = try shell.sessionFile(token: token)
        var bytes = shell.sandbox.bytes(file)
        bytes[80] ^= 1  // the idle time, to extend the session
        try shell.sandbox.write(file, bytes)
        let result = shell.sandbox.expectFailure(3) { shell.run(["get", "pg.password"], token: token) }
        #expect(result.stderr.contains("failed verification"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test func rotateWithTheTokenKeepsTheSessionAndWithoutItEndsIt() throws {
        let shell = try Shell()
        let token = shell.unlock()
        let file = try shell.sessionFile(token: token)

        let rotate = shell.run(["rotate"], token: token)
        #expect(rotate.status == 0, "\(rotate.stderr)")
        let rotated = try Vault.open(at: shell.sandbox.vault)
        #expect(SessionStore(folder: shell.folder).session(for: rotated, token: token, now: UInt64(time(nil))) != nil)
        #expect(shell.run(["get", "pg.password"], token: token).output == "hunter2-value")

        let leaverFile = shell.sandbox.root + "/leaver"
        try shell.sandbox.write(leaverFile, "leaver\n")
        let added = shell.run(["slots", "add-passphrase", "--new-passphrase-file", leaverFile] + Sandbox.tinyKDF, token: token)
        #expect(added.status == 0, "\(added.stderr)")
        let removed = shell.run(["slots", "remove", added.output.trimmingCharacters(in: .newlines)], token: token)
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(try Vault.open(at: shell.sandbox.vault).file.keyChain.links.count == 2)
        #expect(shell.run(["get", "pg.password"], token: token).output == "hunter2-value")

        let withoutToken = shell.run(["rotate", "--passphrase-file", shell.sandbox.passphraseFile], token: nil)
        #expect(withoutToken.status == 0, "\(withoutToken.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file))
        shell.sandbox.expectFailure(3) { shell.run(["get", "pg.password"], token: token) }
    }

    /// Two shells unlock one vault: each gets its own session, a broken one does not end the other,
    /// and `lock` ends both.
    @Test func twoShellsKeepTheirOwnSessions() throws {
        let shell = try Shell()
        let first = shell.unlock()
        let second = shell.unlock()
        #expect(first != second && shell.sessionFiles.count == 2)
        #expect(shell.run(["get", "pg.password"], token: first).output == "hunter2-value")
        #expect(shell.run(["get", "pg.password"], token: second).output == "hunter2-value")

        let firstFile = try shell.sessionFile(token: first)
        var bytes = shell.sandbox.bytes(firstFile)
        bytes[130] ^= 1
        try shell.sandbox.write(firstFile, bytes)
        let broken = shell.sandbox.expectFailure(3) { shell.run(["get", "pg.password"], token: first) }
        #expect(broken.stderr.contains("failed verification"), "\(broken.stderr)")
        // A token no session was made with finds no file, and leaves the others alone.
        shell.sandbox.expectFailure(3) { shell.run(["get", "pg.password"], token: String(repeating: "cd", count: 32)) }
        #expect(shell.run(["get", "pg.password"], token: second).output == "hunter2-value")

        #expect(shell.unlock(token: first) == first)
        let lock = shell.run(["lock"], token: nil)
        #expect(lock.status == 0 && lock.stderr.contains("2 sessions ended"), "\(lock.stderr)")
        #expect(shell.sessionFiles.isEmpty)
    }

    /// Vault A's session file put where vault B's session with the same token would be.
    @Test func oneVaultsSessionNeverOpensAnother() throws {
        let shell = try Shell()
        let other = shell.sandbox.work + "/other.coffer"
        shell.sandbox.makeVault(other)
        let token = shell.unlock()
        shell.sandbox.expectFailure(3, vault: other) { shell.run(["list", "--values"], token: token, vault: other) }
        try shell.sandbox.write(try shell.sessionFile(vault: other, token: token), shell.sandbox.bytes(try shell.sessionFile(token: token)))
        let refused = shell.sandbox.expectFailure(3, vault: other) { shell.run(["list", "--values"], token: token, vault: other) }
        #expect(refused.stderr.contains("made for another vault"), "\(refused.stderr)")
        #expect(shell.run(["get", "pg.password"], token: token).output == "hunter2-value")
    }

    @Test func anIdentityThatOpensTheWholeVaultUnlocksASession() throws {
        let shell = try Shell()
        let identity = shell.sandbox.root + "/me.txt"
        let publicKey = shell.sandbox.coffer(["keygen", "-o", identity]).output.trimmingCharacters(in: .newlines)
        #expect(shell.sandbox.unlocked(["slots", "add-recipient", publicKey]).status == 0)
        let unlock = shell.run(["unlock", "--raw", "--identity", identity], token: nil)
        #expect(unlock.status == 0, "\(unlock.stderr)")
        let token = unlock.output.trimmingCharacters(in: .newlines)
        #expect(shell.run(["get", "pg.password"], token: token).output == "hunter2-value")
    }

    /// With a session, `get` derives no key: on a vault whose passphrase costs Argon2id over 128 MiB,
    /// its peak memory stays far below that, while `get` with the passphrase goes above it.
    @Test func aSessionGetRunsNoKeyDerivation() throws {
        let shell = try Shell()
        let vault = shell.sandbox.work + "/costly.coffer"
        let created = shell.sandbox.coffer(
            ["init", "--vault", vault, "--passphrase-file", shell.sandbox.passphraseFile, "--kdf-ops", "1", "--kdf-memory", "128"])
        #expect(created.status == 0, "\(created.stderr)")
        let set = shell.run(["set", "a", "--passphrase-file", shell.sandbox.passphraseFile], token: nil, vault: vault, stdin: Array("b".utf8))
        #expect(set.status == 0, "\(set.stderr)")
        let token = shell.unlock(vault: vault)
        func peakKB(_ args: [String], token: String?) -> Int {
            let measured = CofferProcess.runShell(
                "/usr/bin/time -f 'peak %M' \"$0\" \"$@\"", args + ["--vault", vault],
                environment: shell.sandbox.environment(shell.environment(token)), cwd: shell.sandbox.work)
            #expect(measured.status == 0, "\(args): \(measured.stderr)")
            return measured.stderr.split(separator: "\n").last { $0.hasPrefix("peak ") }.flatMap { Int($0.dropFirst(5)) } ?? -1
        }
        let withSession = peakKB(["get", "a"], token: token)
        let withPassphrase = peakKB(["get", "a", "--passphrase-file", shell.sandbox.passphraseFile], token: nil)
        #expect(withSession > 0 && withSession < 64 * 1024, "peak \(withSession) KB with the session")
        #expect(withPassphrase > 128 * 1024, "peak \(withPassphrase) KB with the passphrase")
    }

    /// `lock` needs no trust in the file: it ends the sessions of a vault that reads refuse (here
    /// vault B copied over the path that held A, where reads are refused as substituted).
    @Test func lockEndsTheSessionsOfAVaultThatReadsRefuse() throws {
        let shell = try Shell()
        let other = shell.sandbox.work + "/other.coffer"
        shell.sandbox.makeVault(other)
        let token = shell.unlock(vault: other)
        try shell.sandbox.write(shell.sandbox.vault, shell.sandbox.bytes(other))
        shell.sandbox.expectFailure(4) { shell.run(["get", "pg.password"], token: token) }
        let lock = shell.run(["lock"], token: token)
        #expect(lock.status == 0 && lock.stderr.contains("session ended"), "\(lock.stderr)")
        #expect(shell.sessionFiles.isEmpty)
    }
}
