import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `coffer run`: environment, names, stdin, exit codes, signals, argv hygiene and output masking.
@Suite struct WorkflowRunTests {
    static let user = "alice-the-user"
    static let password = "s3cr3t/pa+ss?w0rd>"

    /// A vault with pg.user and pg.password (no-reveal) in the global scope.
    static func fixture() throws -> WorkflowVault {
        let fixture = try WorkflowVault()
        try fixture.set("pg.user", user)
        try fixture.set("pg.password", password, noReveal: true)
        return fixture
    }

    @Test func passesSecretsAsVariables() throws {
        let fixture = try Self.fixture()
        let shown = try fixture.coffer(["run", "--no-mask", "--", "/bin/sh", "-c", #"printf %s "$PG_USER""#])
        #expect(shown.code == 0 && shown.stdout == Self.user, "\(shown.stderr)")
        // No-reveal secrets are passed too.
        let hidden = try fixture.coffer(["run", "--no-mask", "--", "/bin/sh", "-c", #"printf %s "$PG_PASSWORD""#])
        #expect(hidden.stdout == Self.password)
        // Not a terminal: masked by default.
        let masked = try fixture.coffer(["run", "--", "/bin/sh", "-c", #"printf '%s\n' "$PG_USER" "$PG_USER" >&2"#])
        #expect(masked.code == 0 && masked.errors == Array("****\n****\n".utf8))
    }

    @Test func mapsSelectsAndPrefixesVariables() throws {
        let fixture = try Self.fixture()
        let show = #"printf '%s|%s|%s|%s' "${DB_USER-unset}" "${PG_USER-unset}" "${PG_PASSWORD-unset}" "${APP_PG_USER-unset}""#
        func run(_ options: [String]) throws -> String {
            let result = try fixture.coffer(["run", "--no-mask"] + options + ["--", "/bin/sh", "-c", show])
            #expect(result.code == 0, "\(result.stderr)")
            return result.stdout
        }
        #expect(try run(["--env", "DB_USER=pg.user"]) == "\(Self.user)|unset|unset|unset")
        #expect(try run(["--only", "pg.user"]) == "unset|\(Self.user)|unset|unset")
        #expect(try run(["--only", "pg.user", "--env", "DB_USER=pg.user"]) == "\(Self.user)|\(Self.user)|unset|unset")
        #expect(try run(["--prefix", "APP_", "--only", "pg.user"]) == "unset|unset|unset|\(Self.user)")
        #expect(try run([]) == "unset|\(Self.user)|\(Self.password)|unset")

        let missing = try fixture.coffer(["run", "--only", "nope", "--", "/bin/true"])
        #expect(missing.code == 2 && missing.stderr.contains("nope"))
        let badVariable = try fixture.coffer(["run", "--env", "1X=pg.user", "--", "/bin/true"])
        #expect(badVariable.code == 1 && badVariable.stderr.contains("1X"))
    }

    @Test func variableClashNamesBothSecrets() throws {
        let fixture = try Self.fixture()
        try fixture.set("a.b", "first-value")
        try fixture.set("a-b", "second-value")
        let clash = try fixture.coffer(["run", "--", "/bin/true"])
        #expect(clash.code == 5)
        #expect(clash.stderr.contains("'a-b'") && clash.stderr.contains("'a.b'") && clash.stderr.contains("A_B"))
        #expect(!clash.stderr.contains("first-value") && !clash.stderr.contains("second-value"))

        let mapped = try fixture.coffer(["run", "--env", "PG_USER=a.b", "--only", "pg.user", "--", "/bin/true"])
        #expect(mapped.code == 5 && mapped.stderr.contains("'pg.user'") && mapped.stderr.contains("'a.b'"))
    }

    @Test func sessionUnlocksButIsNotPassedOn() throws {
        let fixture = try Self.fixture()
        let token = try fixture.coffer(["unlock", "--raw"])
        try #require(token.code == 0, "\(token.stderr)")
        var environment = fixture.environment
        environment["COFFER_SESSION"] = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try WorkflowProcess.start(
            [WorkflowVault.binary, "run", "--vault", fixture.vault, "--no-mask", "--", "/bin/sh", "-c",
             #"printf '%s|%s' "$PG_USER" "${COFFER_SESSION-unset}""#],
            environment: environment
        ).finish()
        #expect(result.code == 0 && result.stdout == "\(Self.user)|unset", "\(result.stderr)")
    }

    @Test func stdinPassesThrough() throws {
        let fixture = try Self.fixture()
        let result = try fixture.start(["run", "--", "/bin/cat"], input: Array("line one\nline two\n".utf8)).finish()
        #expect(result.code == 0 && result.stdout == "line one\nline two\n")
    }

    @Test func exitCodesPassThrough() throws {
        let fixture = try Self.fixture()
        #expect(try fixture.coffer(["run", "--", "/bin/sh", "-c", "exit 7"]).code == 7)
        #expect(try fixture.coffer(["run", "--no-mask", "--", "/bin/sh", "-c", "exit 7"]).code == 7)
        #expect(try fixture.coffer(["run", "--", "/bin/sh", "-c", "kill -KILL $$"]).code == 128 + SIGKILL)
        let missing = try fixture.coffer(["run", "--", "no-such-command-here"])
        #expect(missing.code == 127 && missing.stderr.contains("no-such-command-here"))
        let wrongPassphrase = try fixture.write("wrong", "nope\n")
        let denied = try WorkflowProcess.start(
            [WorkflowVault.binary, "run", "--vault", fixture.vault, "--passphrase-file", wrongPassphrase, "--",
             "/bin/sh", "-c", "echo started"],
            environment: fixture.environment
        ).finish()
        #expect(denied.code == 3 && denied.stdout.isEmpty)
    }

    /// Starts `script` under `coffer run` (masking on and off), waits until it is ready, sends coffer SIGTERM.
    private func terminate(_ script: String, in fixture: WorkflowVault, mask: Bool) throws -> WorkflowResult {
        let ready = fixture.folder + "/ready", marker = fixture.folder + "/terminated"
        unlink(ready)
        unlink(marker)
        let process = try fixture.start(
            ["run", mask ? "--mask" : "--no-mask", "--", "/bin/sh", "-c", script, "sh", ready, marker])
        let deadline = Date().addingTimeInterval(30)
        while access(ready, F_OK) != 0 && Date() < deadline { usleep(10_000) }
        #expect(access(ready, F_OK) == 0, "the child never got ready")
        kill(process.pid, SIGTERM)
        return process.finish()
    }

    @Test(arguments: [true, false]) func sigtermIsForwarded(mask: Bool) throws {
        let fixture = try Self.fixture()
        let trapped = try terminate(
            #"trap 'echo term > "$2"; exit 3' TERM; : > "$1"; while :; do sleep 0.05; done"#, in: fixture, mask: mask)
        #expect(trapped.code == 3)
        #expect(fixture.read("terminated") == "term\n")

        let killed = try terminate(#": > "$1"; exec sleep 30"#, in: fixture, mask: mask)
        #expect(killed.code == 128 + SIGTERM)
    }

    @Test func valuesNeverInCommandLines() throws {
        let fixture = try Self.fixture()
        // The child prints its own command line and coffer's (its parent's), unmasked.
        let result = try fixture.coffer([
            "run", "--no-mask", "--", "/bin/sh", "-c",
            #"cat /proc/$$/cmdline; printf '\036'; cat /proc/$PPID/cmdline; printf '\036%s' "$PG_USER""#,
        ])
        let parts = result.stdout.split(separator: "\u{1E}", omittingEmptySubsequences: false)
        try #require(parts.count == 3, "\(result.stdout) \(result.stderr)")
        #expect(parts[0].contains("/bin/sh") && parts[1].contains("coffer") && parts[2] == Self.user)
        for commandLine in parts.prefix(2) {
            #expect(!commandLine.contains(Self.user) && !commandLine.contains(Self.password))
        }
    }

    @Test func masksValueSplitAcrossWrites() throws {
        let fixture = try Self.fixture()
        let script = #"""
            printf %s "$PG_PASSWORD" | head -c 7; sleep 0.2; printf '%s\n' "$PG_PASSWORD" | tail -c +8
            printf 'user=%s' "$PG_USER" | head -c 9 >&2; sleep 0.2; printf '%s.\n' "$PG_USER" | tail -c +5 >&2
            """#
        let result = try fixture.coffer(["run", "--", "/bin/sh", "-c", script])
        #expect(result.code == 0)
        #expect(result.stdout == "****\n")
        #expect(result.stderr == "user=****.\n")
    }

    @Test func masksEncodedForms() throws {
        let fixture = try Self.fixture()
        let bytes = Array(Self.password.utf8)
        let base64 = Data(bytes).base64EncodedString()
        try #require(base64.contains("+") || base64.contains("/"), "pick a value whose base64 differs from base64url")
        let base64URL = String(base64.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let percent = bytes.map { byte -> String in
            let scalar = Unicode.Scalar(byte)
            let unreserved = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || "-._~".unicodeScalars.contains(scalar)
            return unreserved ? String(scalar) : String(format: "%%%02X", byte)
        }.joined()
        let forms = [
            base64, base64.replacingOccurrences(of: "=", with: ""), base64URL,
            base64URL.replacingOccurrences(of: "=", with: ""), hex, hex.uppercased(),
            percent, percent.lowercased(),  // The value's letters are lowercase already: only %XX changes.
        ]
        #expect(percent.contains("%2F") && percent != Self.password)
        let file = try fixture.write("encoded.txt", forms.map { "[\($0)]\n" }.joined())
        let masked = try fixture.coffer(["run", "--", "/bin/cat", file])
        #expect(masked.stdout == String(repeating: "[****]\n", count: forms.count), "\(masked.stdout)")
        let unmasked = try fixture.coffer(["run", "--no-mask", "--", "/bin/cat", file])
        #expect(unmasked.stdout == forms.map { "[\($0)]\n" }.joined())
    }

    /// On a terminal (given by `script`), output is not masked unless --mask asks for it.
    @Test func terminalDefaultsToUnmasked() throws {
        let fixture = try Self.fixture()
        func onTerminal(_ options: [String]) throws -> WorkflowResult {
            let command = ([WorkflowVault.binary, "run", "--vault", fixture.vault, "--passphrase-file", fixture.passphraseFile]
                + options + ["--", "/bin/sh", "-c", #"printf "%s\n" "$PG_USER""#]).map { "'\($0)'" }.joined(separator: " ")
            let script = try fixture.write("on-terminal.sh", "exec \(command)\n")
            return try WorkflowProcess.start(
                ["/usr/bin/script", "-qec", "/bin/sh \(script)", "/dev/null"], environment: fixture.environment
            ).finish()
        }
        let plain = try onTerminal([])
        #expect(plain.code == 0 && plain.stdout.contains(Self.user), "\(plain.stdout) \(plain.stderr)")
        let masked = try onTerminal(["--mask"])
        #expect(masked.code == 0 && masked.stdout.contains("****") && !masked.stdout.contains(Self.user))
    }
}
