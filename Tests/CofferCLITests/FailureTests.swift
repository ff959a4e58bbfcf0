import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Bad inputs and the documented exit codes. Every failure must leave the vault byte for byte as it
/// was and keep secrets and the passphrase off stderr (`Sandbox.expectFailure` checks all three).
@Suite struct FailureTests {
    /// A vault holding two secrets, one of them no-reveal.
    static func populated() throws -> Sandbox {
        let box = try Sandbox()
        box.makeVault()
        box.store("present", "present-secret-value")
        box.store("sealed", "sealed-secret-value", ["--no-reveal"])
        return box
    }

    @Test func usageErrorsExitOne() throws {
        let box = try Self.populated()
        box.expectFailure(1) { box.coffer(["frobnicate"]) }
        box.expectFailure(1) { box.coffer(["get"]) }
        box.expectFailure(1) { box.unlocked(["get", "present", "--no-such-option"]) }
        box.expectFailure(1) { box.unlocked(["set", "bad name"], stdin: Array("invalid-name-value".utf8)) }
        box.expectFailure(1) { box.unlocked(["set", ".dot"], stdin: Array("invalid-name-value".utf8)) }
        box.expectFailure(1) { box.unlocked(["set", "ok", "--project", "bad/project"], stdin: Array("x1y2z3".utf8)) }
        box.expectFailure(1) { box.unlocked(["set", "ok", "--description", "line\nbreak"], stdin: Array("x1y2z3".utf8)) }
        let help = box.coffer(["--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("Exit codes: 0 ok, 1 usage"))
        #expect(box.coffer(["--version"]).output == "1.0.0\n")
    }

    @Test func emptyStdinForSetExitsOne() throws {
        let box = try Self.populated()
        let result = box.expectFailure(1) { box.unlocked(["set", "empty"], stdin: []) }
        #expect(result.stderr == "coffer: the value is empty: coffer stores no empty values\n")
        box.expectFailure(1) { box.unlocked(["set", "empty"], stdin: Array("\n".utf8)) }
        box.expectFailure(1) { box.unlocked(["set", "empty"]) }
    }

    @Test func noVaultExitsTwo() throws {
        let box = try Sandbox()
        let missing = box.work + "/missing.coffer"
        for command in [["get", "x"], ["list"], ["list", "--values"], ["verify"], ["delete", "x"], ["generate", "x"]] {
            let result = box.expectFailure(2, vault: missing) {
                box.coffer(command + ["--vault", missing, "--passphrase-file", box.passphraseFile])
            }
            #expect(result.stderr.contains("missing.coffer"))
        }
        box.expectFailure(2, vault: missing) { box.coffer(["inspect", "--vault", missing]) }
        box.expectFailure(2, vault: missing) {
            box.coffer(["set", "x", "--vault", missing, "--passphrase-file", box.passphraseFile], stdin: Array("abc123".utf8))
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
        // Nothing found anywhere: the default is the (missing) local vault.
        let result = box.expectFailure(2, vault: box.localVault) { box.coffer(["list"]) }
        #expect(result.stderr.contains(box.localVault))
    }

    @Test func unknownNameExitsTwo() throws {
        let box = try Self.populated()
        box.expectFailure(2) { box.unlocked(["get", "absent"]) }
        let scoped = box.expectFailure(2) { box.unlocked(["get", "nowhere", "--project", "elsewhere", "--domain", "x"]) }
        #expect(scoped.stderr == "coffer: no secret nowhere (project=elsewhere,domain=x)\n")
        #expect(scoped.stdout.isEmpty)
        box.expectFailure(2) { box.unlocked(["delete", "absent"]) }
        box.expectFailure(2) { box.unlocked(["set", "x", "--from-file", box.root + "/absent"]) }
    }

    @Test func wrongPassphraseExitsThree() throws {
        let box = try Self.populated()
        try box.write(box.root + "/wrong", "correct horse battery stapler\n")
        let wrong = ["--vault", box.vault, "--passphrase-file", box.root + "/wrong"]
        for command in [["get", "present"], ["list", "--values"], ["delete", "present"], ["generate", "new"], ["verify"]] {
            let result = box.expectFailure(3) { box.coffer(command + wrong) }
            #expect(result.stderr == "coffer: wrong passphrase or identity: no key slot opened\n")
            #expect(result.stdout.isEmpty)
        }
        box.expectFailure(3) { box.coffer(["set", "new"] + wrong, stdin: Array("wrong-pass-value".utf8)) }
        try box.write(box.work + "/in.env", "NEW=from-import-value\n")
        box.expectFailure(3) { box.coffer(["import", "in.env"] + wrong) }
    }

    @Test func noTerminalAndNoPassphraseSourceExitsThreeAtOnce() throws {
        let box = try Self.populated()
        // The harness's children have no controlling terminal, whatever the test runner has.
        #expect(CofferProcess.runShell("exec 3</dev/tty", [], environment: box.environment(), cwd: box.work).status != 0)
        let clock = ContinuousClock()
        let start = clock.now
        for command in [["get", "present"], ["delete", "present"], ["generate", "new"], ["list", "--values"], ["verify", "--unlock-vault"]] {
            let result = box.expectFailure(3) { box.coffer(command + ["--vault", box.vault]) }
            #expect(result.stderr.contains("no terminal"))
        }
        box.expectFailure(3) { box.coffer(["set", "new", "--vault", box.vault], stdin: Array("no-tty-value".utf8)) }
        let other = box.root + "/other.coffer"
        box.expectFailure(3, vault: other) { box.coffer(["init", "--vault", other] + Sandbox.tinyKDF) }
        #expect(!FileManager.default.fileExists(atPath: other))
        // Seven processes; a prompt waiting for input would hang here instead.
        #expect(clock.now - start < .seconds(30))
    }

    @Test func tamperedVaultExitsFour() throws {
        let box = try Self.populated()
        let original = box.bytes(box.vault)
        // The magic, the version, the vault id, the middle of the entries, the signature's last byte.
        for offset in [0, 5, 12, original.count / 2, original.count - 40, original.count - 1] {
            var tampered = original
            tampered[offset] ^= 0x01
            try box.write(box.vault, tampered)
            for command in [["verify"], ["list"], ["get", "present"], ["delete", "present"]] {
                let result = box.expectFailure(4) { box.unlocked(command) }
                #expect(result.stdout.isEmpty, "offset \(offset), \(command)")
            }
            box.expectFailure(4) { box.coffer(["inspect", "--vault", box.vault]) }
            box.expectFailure(4) { box.coffer(["verify", "--vault", box.vault]) }
            box.expectFailure(4) { box.unlocked(["set", "more"], stdin: Array("tamper-set-value".utf8)) }
        }
        try box.write(box.vault, Array(original.prefix(original.count - 10)))
        box.expectFailure(4) { box.coffer(["verify", "--vault", box.vault]) }
        try box.write(box.vault, "not a vault at all\n")
        box.expectFailure(4) { box.coffer(["list", "--vault", box.vault]) }
        try box.write(box.vault, original)
        #expect(box.unlocked(["verify"]).status == 0)
    }

    @Test func conflictsExitFive() throws {
        let box = try Self.populated()
        let exists = box.expectFailure(5) { box.unlocked(["set", "present"], stdin: Array("replacement-value".utf8)) }
        #expect(exists.stderr == "coffer: present already exists (global); use --overwrite to replace it\n")
        box.expectFailure(5) { box.unlocked(["generate", "present"]) }
        box.expectFailure(5) { box.unlocked(["get", "sealed"]) }
        box.expectFailure(5) { box.coffer(["init", "--vault", box.vault, "--passphrase-file", box.passphraseFile] + Sandbox.tinyKDF) }
        #expect(box.value("present") == "present-secret-value")
    }

    @Test func writeErrorExitsSixAndKeepsTheOldVault() throws {
        // Root ignores permission bits, so a read-only folder would not stop it. Instead the child
        // runs with a file size limit (RLIMIT_FSIZE, `ulimit -f`) below the vault's size and SIGXFSZ
        // ignored: writing the new vault's temporary file fails with EFBIG, a real I/O error in the
        // middle of a save, as a full disk would give. This works for any user.
        let box = try Self.populated()
        box.store("large", String(repeating: "large-secret-", count: 100))
        #expect(box.bytes(box.vault).count > 1024)
        let script = #"trap '' XFSZ; ulimit -f 1; exec "$0" "$@""#
        let before = box.bytes(box.vault)
        let result = CofferProcess.runShell(
            script, ["set", "fresh", "--value", "fsize-value", "--vault", box.vault, "--passphrase-file", box.passphraseFile],
            environment: box.environment(), cwd: box.work)
        #expect(result.status == 6, "\(result.stderr)")
        #expect(result.stderr.contains("File too large"))
        #expect(box.bytes(box.vault) == before)
        box.expectNoSecrets(result.stderr)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: box.work).filter { $0 != "secrets.coffer" }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        #expect(box.unlocked(["verify"]).status == 0)
        #expect(box.value("fresh") == nil)
    }

    @Test func vaultBelowARegularFileExitsSix() throws {
        let box = try Sandbox()
        try box.write(box.work + "/plain", "a file, not a folder\n")
        let path = box.work + "/plain/secrets.coffer"
        box.expectFailure(6, vault: path) {
            box.coffer(["init", "--vault", path, "--passphrase-file", box.passphraseFile] + Sandbox.tinyKDF)
        }
        box.expectFailure(6, vault: path) { box.coffer(["list", "--vault", path]) }
        box.expectFailure(6, vault: path) { box.coffer(["init", "--local", "--passphrase-file", box.passphraseFile] + Sandbox.tinyKDF,
                                                       environment: ["XDG_DATA_HOME": box.work + "/plain"]) }
    }

    @Test func readOnlyFolderExitsSix() throws {
        // Root ignores permission bits, so as root the tree is handed to `nobody` and the child
        // drops to that user with setpriv(1); otherwise the child simply runs as the test's user.
        let box = try Self.populated()
        var prefix = #"exec "$0" "$@""#
        if runningAsRoot {
            try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"))
            for path in [box.root] + (FileManager.default.subpaths(atPath: box.root) ?? []).map({ box.root + "/" + $0 }) {
                #expect(chown(path, 65534, 65534) == 0)
            }
            prefix = #"exec setpriv --reuid=65534 --regid=65534 --clear-groups "$0" "$@""#
        }
        #expect(chmod(box.work, 0o555) == 0)
        defer { chmod(box.work, 0o755) }
        let unlock = ["--vault", box.vault, "--passphrase-file", box.passphraseFile]
        box.remember("read-only-value")
        for command in [["set", "fresh", "--value", "read-only-value"], ["delete", "present"], ["generate", "fresh"]] {
            let result = box.expectFailure(6) {
                CofferProcess.runShell(prefix, command + unlock, environment: box.environment(), cwd: box.root)
            }
            #expect(result.stderr.contains("Permission denied"))
        }
        // Reading still works.
        let get = CofferProcess.runShell(prefix, ["get", "present"] + unlock, environment: box.environment(), cwd: box.root)
        #expect(get.status == 0, "\(get.stderr)")
        #expect(get.output == "present-secret-value")
    }

    @Test func errorsNeverShowSecretsOrThePassphrase() throws {
        let box = try Self.populated()
        // A passphrase file that is far too large, and an import whose bad line holds a value.
        try box.write(box.root + "/huge", String(repeating: box.passphrase, count: 400))
        box.expectFailure(1) { box.coffer(["get", "present", "--vault", box.vault, "--passphrase-file", box.root + "/huge"]) }
        try box.write(box.work + "/leak.env", "OK=fine-value\nBROKEN=\"present-secret-value\n")
        let broken = box.expectFailure(1) { box.unlocked(["import", "leak.env"]) }
        #expect(broken.stderr.contains("leak.env:2:"))
        try box.write(box.work + "/leak.yaml", "a: present-secret-value\nb: [present-secret-value\n")
        let yaml = box.expectFailure(1) { box.unlocked(["import", "leak.yaml"]) }
        #expect(yaml.stderr.contains(/leak\.yaml:\d+:/))
        try box.write(box.work + "/leak.json", "{\"a\": \"present-secret-value\",\n \"b\": present-secret-value}")
        let json = box.expectFailure(1) { box.unlocked(["import", "leak.json"]) }
        #expect(json.stderr.contains("leak.json:2:"))
    }

    @Test func malformedImportNamesTheLine() throws {
        let box = try Self.populated()
        let cases: [(file: String, bytes: [UInt8], line: Int)] = [
            ("bad.env", Array("GOOD=one-value\n\nBAD LINE\n".utf8), 3),
            ("bad.yaml", Array("a:\n  b: one\n c: [\n".utf8), 3),
            ("bad.json", Array("{\n  \"a\": \"x\",\n  \"b\": ,\n}\n".utf8), 3),
            ("dup.env", Array("A=one\nB=two\nA=three\n".utf8), 3),
            ("name.yaml", Array("ok: 1\n\"bad name\": 2\n".utf8), 2),
            ("utf8.env", Array("A=x\nB=".utf8) + [0xC3, 0x28, 0x0A], 2),
        ]
        for item in cases {
            try box.write(box.work + "/" + item.file, item.bytes)
            let result = box.expectFailure(1) { box.unlocked(["import", item.file]) }
            #expect(result.stderr.hasPrefix("coffer: \(item.file):\(item.line): "), "\(item.file): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(try box.names() == ["present", "sealed"])
    }
}
