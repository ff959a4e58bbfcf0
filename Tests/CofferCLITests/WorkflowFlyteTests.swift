import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `coffer run --flyte` and `--flyte-files`: flytekit's variables and files.
@Suite struct WorkflowFlyteTests {
    static let password = "s3cr3t/pa+ss?w0rd>"

    static func fixture() throws -> WorkflowVault {
        let fixture = try WorkflowVault()
        try fixture.set("pg.password", password)
        try fixture.set("api.Token-v2", "tok")
        return fixture
    }

    private func run(_ fixture: WorkflowVault, _ options: [String], _ script: String, environment: [String: String] = [:]) throws -> WorkflowResult {
        try run(fixture, options, command: ["/bin/sh", "-c", script], environment: environment)
    }

    private func run(_ fixture: WorkflowVault, _ options: [String], command: [String], environment: [String: String] = [:]) throws -> WorkflowResult {
        let arguments = [WorkflowVault.binary, "run", "--vault", fixture.vault, "--passphrase-file", fixture.passphraseFile, "--no-mask"]
            + options + ["--"] + command
        return try WorkflowProcess.start(arguments, environment: fixture.environment.merging(environment) { $1 }).finish()
    }

    @Test func secretsBecomeFlyteVariables() throws {
        let fixture = try Self.fixture()
        let shown = try run(fixture, ["--flyte"], #"printf '%s|%s' "${_FSEC_PG_PASSWORD-unset}" "${PG_PASSWORD-unset}""#)
        #expect(shown.code == 0 && shown.stdout == "\(Self.password)|unset", "\(shown.stderr)")
        // A name no shell can hold is still in the environment flytekit (Python's os.environ) reads;
        // sh would drop it, env shows it.
        let listed = try run(fixture, ["--flyte"], command: ["/usr/bin/env"])
        #expect(listed.code == 0 && listed.stdout.split(separator: "\n").contains("_FSEC_API_TOKEN-V2=tok"), "\(listed.stderr)")

        let prefixed = try run(fixture, ["--flyte", "--only", "pg.password"], #"printf '%s|%s' "${MY_PG_PASSWORD-unset}" "${_FSEC_PG_PASSWORD-unset}""#,
                               environment: ["FLYTE_SECRETS_ENV_PREFIX": "MY_"])
        #expect(prefixed.code == 0 && prefixed.stdout == "\(Self.password)|unset", "\(prefixed.stderr)")

        let mapped = try run(fixture, ["--flyte", "--env", "DB_PASSWORD=pg.password"], #"printf '%s|%s' "${DB_PASSWORD-unset}" "${_FSEC_PG_PASSWORD-unset}""#)
        #expect(mapped.code == 0 && mapped.stdout == "\(Self.password)|unset", "\(mapped.stderr)")
    }

    @Test func namesWithoutAGroupAreRefusedBeforeTheCommandStarts() throws {
        let fixture = try Self.fixture()
        try fixture.set("PLAIN", "plain-value")
        let refused = try run(fixture, ["--flyte"], "echo started")
        #expect(refused.code == 1 && refused.stdout.isEmpty)
        #expect(refused.stderr.contains("'PLAIN'") && refused.stderr.contains("group.key"))
        #expect(!refused.stderr.contains("plain-value"))
        // Selected away, it is no obstacle.
        let selected = try run(fixture, ["--flyte", "--only", "pg.password"], #"printf %s "$_FSEC_PG_PASSWORD""#)
        #expect(selected.code == 0 && selected.stdout == Self.password)
        let prefix = try run(fixture, ["--flyte", "--prefix", "APP_"], "echo started")
        #expect(prefix.code == 1 && prefix.stdout.isEmpty)
    }

    @Test func secretFilesArePrivateAndRemovedAfterwards() throws {
        let fixture = try Self.fixture()
        let script = #"""
            d="$FLYTE_SECRETS_DEFAULT_DIR"
            printf '%s\n' "$d" "$(cat "$d/pg/password")" "$(cat "$d/api/token-v2")" "$(stat -c %a "$d" "$d/pg" "$d/pg/password" | tr '\n' ' ')" "${_FSEC_PG_PASSWORD-unset}"
            """#
        let result = try run(fixture, ["--flyte-files"], script)
        #expect(result.code == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try #require(lines.count >= 5)
        #expect(lines[0].hasPrefix(fixture.folder + "/runtime/coffer-flyte-"))
        #expect(lines[1] == Self.password && lines[2] == "tok")
        #expect(lines[3] == "700 700 400 ")
        #expect(lines[4] == Self.password)
        #expect(access(lines[0], F_OK) != 0, "the secrets folder is left behind")
        #expect((try FileManager.default.contentsOfDirectory(atPath: fixture.folder + "/runtime")).filter { $0.hasPrefix("coffer-flyte-") }.isEmpty)
    }

    /// The folder's path is no secret: masked output shows it (it used to be masked like a value),
    /// while the secret read from a file in it is masked.
    @Test func secretFolderPathIsNotMaskedButTheSecretsAre() throws {
        let fixture = try Self.fixture()
        let arguments = [WorkflowVault.binary, "run", "--vault", fixture.vault, "--passphrase-file", fixture.passphraseFile, "--mask",
                         "--flyte-files", "--", "/bin/sh", "-c", #"echo "dir=$FLYTE_SECRETS_DEFAULT_DIR"; cat "$FLYTE_SECRETS_DEFAULT_DIR/pg/password""#]
        let finished = try WorkflowProcess.start(arguments, environment: fixture.environment).finish()
        #expect(finished.code == 0, "\(finished.stderr)")
        let lines = finished.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 2, "\(finished.stdout)")
        #expect(lines[0].hasPrefix("dir=\(fixture.folder)/runtime/coffer-flyte-"), "\(lines[0])")
        #expect(lines[1] == "****")
    }

    @Test func secretFilesNeedTheRuntimeFolder() throws {
        let fixture = try Self.fixture()
        var environment = fixture.environment
        environment["XDG_RUNTIME_DIR"] = nil
        let arguments = [WorkflowVault.binary, "run", "--vault", fixture.vault, "--passphrase-file", fixture.passphraseFile,
                         "--flyte-files", "--", "/bin/sh", "-c", "echo started"]
        let refused = try WorkflowProcess.start(arguments, environment: environment).finish()
        #expect(refused.code == 1 && refused.stdout.isEmpty && refused.stderr.contains("XDG_RUNTIME_DIR"))
    }

    @Test func secretFilesAreRemovedWhenCofferIsTerminated() throws {
        let fixture = try Self.fixture()
        let ready = fixture.folder + "/ready"
        let arguments = [WorkflowVault.binary, "run", "--vault", fixture.vault, "--passphrase-file", fixture.passphraseFile,
                         "--no-mask", "--flyte-files", "--", "/bin/sh", "-c",
                         #"printf %s "$FLYTE_SECRETS_DEFAULT_DIR" > "$1.tmp"; mv "$1.tmp" "$1"; exec sleep 30"#, "sh", ready]
        let process = try WorkflowProcess.start(arguments, environment: fixture.environment)
        let deadline = Date().addingTimeInterval(30)
        while access(ready, F_OK) != 0 && Date() < deadline { usleep(10_000) }
        let folder = try #require(fixture.read("ready"))
        #expect(access(folder + "/pg/password", F_OK) == 0)
        kill(process.pid, SIGTERM)
        let ended = process.finish()
        #expect(ended.code == 128 + SIGTERM)
        #expect(access(folder, F_OK) != 0, "the secrets folder outlived a SIGTERM")
    }

    /// A SIGTERM before the command starts (here while the masker is built for 3,000 secrets,
    /// after the files are written) also removes the files: coffer ends by that signal.
    @Test func secretFilesAreRemovedWhenCofferIsTerminatedBeforeTheCommandStarts() throws {
        let fixture = try WorkflowVault()
        let lines = (0..<3000).map { "g.k\($0)=\(String(repeating: "x", count: 40))\($0)" }
        let env = try fixture.write("many.env", lines.joined(separator: "\n") + "\n")
        let imported = try fixture.coffer(["import", env])
        try #require(imported.code == 0, "\(imported.stderr)")
        let runtime = fixture.folder + "/runtime"
        let process = try fixture.start(["run", "--mask", "--flyte-files", "--", "/bin/true"])
        func written() -> Int {
            guard let folder = try? FileManager.default.contentsOfDirectory(atPath: runtime).first(where: { $0.hasPrefix("coffer-flyte-") })
            else { return 0 }
            return (try? FileManager.default.contentsOfDirectory(atPath: runtime + "/" + folder + "/g").count) ?? 0
        }
        let deadline = Date().addingTimeInterval(60)
        while written() < 3000 && Date() < deadline && kill(process.pid, 0) == 0 { usleep(5_000) }
        kill(process.pid, SIGTERM)
        let ended = process.finish()
        // Ended by the signal, or (on a fast machine) the command had already run: either way no file is left.
        #expect(ended.code == 128 + SIGTERM || ended.code == 0, "\(ended.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: runtime).filter { $0.hasPrefix("coffer-flyte-") }.isEmpty)
    }
}
