import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `coffer run`'s boundary: the job gets the secrets it was given, no way to the vault's keys,
/// and no variable that steers the loader, a shell or a runtime from an entry's own name.
@Suite struct WorkflowBoundaryTests {
    static let password = WorkflowRunTests.password

    /// pg.user and pg.password (no-reveal), as for the other run tests.
    static func fixture() throws -> WorkflowVault { try WorkflowRunTests.fixture() }

    /// The attack: a job started with --only pg.user tries every key source it might reach to read
    /// pg.password. coffer was given a session, a passphrase file, identity variables and the vault
    /// through the environment.
    @Test func jobCannotReachAnyKeySource() throws {
        let fixture = try Self.fixture()
        let token = try fixture.coffer(["unlock", "--raw"])
        try #require(token.code == 0, "\(token.stderr)")
        var environment = fixture.environment
        environment["COFFER_SESSION"] = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        environment["COFFER_PASSPHRASE_FILE"] = fixture.passphraseFile
        environment["COFFER_IDENTITY_FILE"] = fixture.folder + "/no-such.key"
        environment["COFFER_IDENTITY"] = "AGE-SECRET-KEY-1NOTAREALKEY"
        environment["COFFER_VAULT"] = fixture.vault
        // Not a key: the vault's pin (a malformed pin would be refused, Specs/vault-format.md §8).
        let pin = try WorkflowProcess.start([WorkflowVault.binary, "pin", "--vault", fixture.vault], environment: fixture.environment).finish()
        try #require(pin.code == 0, "\(pin.stderr)")
        environment["COFFER_VAULT_PIN"] = pin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let job = #"""
            printf 'env:%s\n' "$(env | sed -n 's/^\(COFFER_[A-Z_]*\)=.*/\1/p' | sort | tr '\n' ' ')"
            if cat /proc/$PPID/environ >/dev/null 2>&1; then echo parent-environ:read; else echo parent-environ:closed; fi
                        tr '\0' '\n' < /proc/$$/environ | grep -q '^PG_USER=' && echo own-environ:read
            "$1" run --vault "$2" --only pg.password -- printenv PG_PASSWORD </dev/null; echo "unlock:$?"
            """#
        // As root, the job runs without capabilities: CAP_SYS_PTRACE would open any process's /proc files.
        let asJob = getuid() == 0 ? ["/usr/bin/setpriv", "--bounding-set=-all", "--inh-caps=-all"] : []
        let result = try WorkflowProcess.start(
            [WorkflowVault.binary, "run", "--no-mask", "--only", "pg.user", "--"] + asJob + ["/bin/sh", "-c", job, "job",
             WorkflowVault.binary, fixture.vault],
            environment: environment
        ).finish()
        #expect(result.code == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // Only the harmless variable is passed on; coffer's environment is closed; the job's own is
        // not (execve gave it the normal dumpable state back); the job's own coffer finds no key.
        #expect(lines == ["env:COFFER_VAULT_PIN ", "parent-environ:closed", "own-environ:read", "unlock:3"],
                "\(result.stdout) \(result.stderr)")
        #expect(!result.stdout.contains(Self.password) && !result.stderr.contains(Self.password))

        // --pass-env hands one on by name.
        let passed = try WorkflowProcess.start(
            [WorkflowVault.binary, "run", "--no-mask", "--only", "pg.user", "--pass-env", "COFFER_VAULT", "--", "/bin/sh", "-c",
             #"printf '%s|%s' "${COFFER_VAULT-unset}" "${COFFER_SESSION-unset}""#],
            environment: environment
        ).finish()
        #expect(passed.code == 0 && passed.stdout == "\(fixture.vault)|unset", "\(passed.stderr)")
    }

    /// Variables each entry name below would set; every one steers the loader, a shell or a runtime.
    static let dangerousNames = [
        "LD_PRELOAD", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "BASH_ENV", "ENV", "BASH_FUNC_X", "SHELLOPTS", "BASHOPTS",
        "PS4", "PROMPT_COMMAND", "IFS", "PATH", "HOME", "SHELL", "PYTHONPATH", "PYTHONSTARTUP", "NODE_OPTIONS", "PERL5OPT",
        "RUBYOPT", "JAVA_TOOL_OPTIONS",
    ]

    /// The attack: whoever gets an entry into the vault names it after a variable that runs code
    /// in `coffer run -- ./deploy.sh`. run refuses before starting the command, naming the entry.
    @Test func dangerousNamesAreRefusedUnlessMapped() throws {
        let fixture = try Self.fixture()
        let lines = Self.dangerousNames.map { "\($0)=planted-value-\($0.count)" }.joined(separator: "\n") + "\n"
        let imported = try fixture.coffer(["import", try fixture.write("planted.env", lines)])
        try #require(imported.code == 0, "\(imported.stderr)")
        try fixture.set("ld.preload", "/tmp/evil.so")  // Lowercase and dotted: still LD_PRELOAD.
        let marker = fixture.folder + "/started"
        for name in Self.dangerousNames + ["ld.preload"] {
            let refused = try fixture.coffer(["run", "--only", name, "--", "/bin/sh", "-c", #": > "$0""#, marker])
            #expect(refused.code == 1 && refused.stderr.contains("'\(name)'"), "\(name): \(refused.stderr)")
            #expect(access(marker, F_OK) != 0, "\(name): the command was started")
        }
        // Every entry, as run passes them by default: refused too.
        #expect(try fixture.coffer(["run", "--", "/bin/true"]).code == 1)
        // Mapped explicitly, the user asked for it.
        let mapped = try fixture.coffer(["run", "--no-mask", "--env", "PS4=PS4", "--env", "PATH=PATH", "--", "/bin/sh", "-c",
                                         #"printf '%s|%s' "$PS4" "$PATH""#])
        #expect(mapped.code == 0 && mapped.stdout == "planted-value-3|planted-value-4", "\(mapped.stderr)")
        // A prefix makes them ordinary names.
        let prefixed = try fixture.coffer(["run", "--no-mask", "--prefix", "APP_", "--only", "PATH", "--", "/bin/sh", "-c",
                                           #"printf %s "$APP_PATH""#])
        #expect(prefixed.code == 0 && prefixed.stdout == "planted-value-4")
    }

    @Test func collidingNamesWarnOnSetAndImportAndFailRunAndExport() throws {
        let fixture = try Self.fixture()
        let first = try fixture.coffer(["set", "api_key"], input: "first-api-value")
        #expect(first.code == 0 && !first.stderr.contains("warning"))
        let second = try fixture.coffer(["set", "API_KEY"], input: "second-api-value")
        #expect(second.code == 0 && second.stderr.contains("warning") && second.stderr.contains("'API_KEY' and 'api_key'"),
                "\(second.stderr)")
        let imported = try fixture.coffer(["import", try fixture.write("more.json", #"{"api.key": "third-api-value"}"#)])
        #expect(imported.code == 0 && imported.stderr.contains("'api.key' and 'API_KEY'")
                && imported.stderr.contains("'api.key' and 'api_key'"), "\(imported.stderr)")

        let run = try fixture.coffer(["run", "--only", "api_key", "API_KEY", "--", "/bin/true"])
        #expect(run.code == 5 && run.stderr.contains("'api_key'") && run.stderr.contains("'API_KEY'"), "\(run.stderr)")
        let export = try fixture.coffer(["export", "--format", "dotenv", "--only", "api.key", "api_key"])
        #expect(export.code == 5 && export.stderr.contains("'api.key'") && export.stderr.contains("'api_key'"), "\(export.stderr)")
        for result in [second, imported, run, export] {
            #expect(!result.stderr.contains("api-value"))
        }
    }

    @Test func shortValuesAreNamedBySetImportAndRunMask() throws {
        let fixture = try Self.fixture()
        let set = try fixture.coffer(["set", "tiny"], input: "abc")
        #expect(set.code == 0 && set.stderr.contains("'tiny' is shorter than 4 bytes"), "\(set.stderr)")
        let imported = try fixture.coffer(["import", try fixture.write("short.env", "PORT=80\nLONGER=long-enough\n")])
        #expect(imported.code == 0 && imported.stderr.contains("'PORT'") && !imported.stderr.contains("LONGER"))
        let run = try fixture.coffer(["run", "--mask", "--only", "tiny", "pg.user", "--", "/bin/true"])
        #expect(run.code == 0 && run.stderr.contains("TINY is shorter than 4 bytes") && !run.stderr.contains("PG_USER"))
        #expect(!(set.stderr + imported.stderr + run.stderr).contains("abc"))
    }
}
