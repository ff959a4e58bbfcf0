import Foundation
import Testing

/// `coffer run` on a terminal (a pseudo-terminal from `script`): with masking on, the job runs under
/// a pseudo-terminal of coffer's, so it still sees a terminal, and what it writes there is masked.
@Suite struct WorkflowTerminalTests {
    static let user = "alice-the-user"

    /// Runs `coffer run OPTIONS -- /bin/sh -c JOB` inside `script`, after `setup` (shell commands
    /// run on the terminal first), with `environment` added, and `input` typed.
    func onTerminal(
        _ options: [String], job: String, setup: String = "", environment extra: [String: String] = [:], input: String = ""
    ) throws -> WorkflowResult {
        let fixture = try WorkflowVault()
        try fixture.set("pg.user", Self.user)
        let command = ([WorkflowVault.binary, "run", "--vault", fixture.vault, "--passphrase-file", fixture.passphraseFile]
            + options + ["--", "/bin/sh", "-c", job]).map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
        let script = try fixture.write("on-terminal.sh", "\(setup)\nexec \(command)\n")
        return try WorkflowProcess.start(
            ["/usr/bin/script", "-qec", "/bin/sh \(script)", "/dev/null"],
            environment: fixture.environment.merging(extra) { $1 }, input: Array(input.utf8)
        ).finish()
    }

    /// Which of its standard streams are terminals, then the secret on stdout and on stderr.
    static let showTerminal = #"[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-terminals; printf '[%s]\n' "$PG_USER"; printf '[%s]\n' "$PG_USER" >&2"#

    /// Whether `output` (all a terminal shows, in any order) says the job had terminals and printed the secret masked, twice.
    func maskedOnTerminals(_ output: String) -> Bool {
        output.contains("all-terminals") && output.components(separatedBy: "[****]").count == 3 && !output.contains(Self.user)
    }

    @Test func jobSeesATerminalAndItsOutputIsMasked() throws {
        let masked = try onTerminal(["--mask"], job: Self.showTerminal)
        #expect(masked.code == 0, "\(masked.stderr)")
        #expect(maskedOnTerminals(masked.stdout), "\(masked.stdout)")
        // The same job without masking: coffer stays out of the way.
        let plain = try onTerminal([], job: Self.showTerminal)
        #expect(plain.stdout.contains("all-terminals") && plain.stdout.contains("[\(Self.user)]"), "\(plain.stdout)")
    }

    @Test func ciMasksUnderATerminal() throws {
        let result = try onTerminal([], job: Self.showTerminal, environment: ["CI": "true"])
        #expect(result.code == 0 && maskedOnTerminals(result.stdout), "\(result.stdout)")
    }

    @Test func windowSizeAndKeysReachTheJob() throws {
        let result = try onTerminal(
            ["--mask"], job: #"stty size; IFS= read -r line; printf 'got:%s\n' "$line""#, setup: "stty rows 31 cols 97",
            input: "typed here\n")
        #expect(result.code == 0, "\(result.stderr)")
        #expect(result.stdout.contains("31 97") && result.stdout.contains("got:typed here"), "\(result.stdout)")
    }

    @Test func exitCodeAndSignalsPassThroughTheTerminal() throws {
        #expect(try onTerminal(["--mask"], job: "exit 7").code == 7)
        #expect(try onTerminal(["--mask"], job: "kill -TERM $$").code == 128 + 15)
    }
}
