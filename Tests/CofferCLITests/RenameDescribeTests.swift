import Foundation
import Testing

/// `mv`, `cp` and `describe`: values move with their metadata; descriptions and flags change
/// without the value.
@Suite struct RenameDescribeTests {
    private func entry(_ box: Sandbox, _ name: String, _ options: [String] = []) throws -> [String: Any]? {
        try box.listJSON(["--vault", box.vault] + options).first { $0["name"] as? String == name }
    }

    @Test func mvKeepsCreatedTimeDescriptionAndFlags() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("old.name", "moving-value-1", ["--description", "travels along", "--no-reveal"])
        let before = try #require(try entry(box, "old.name"))
        let result = box.unlocked(["mv", "old.name", "new.name"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try entry(box, "old.name") == nil)
        let after = try #require(try entry(box, "new.name"))
        for key in ["created", "updated", "description", "noReveal"] {
            #expect(String(describing: after[key]) == String(describing: before[key]), "\(key) changed")
        }
        // No-reveal: get refuses; run sees the value under the new name.
        let run = box.coffer([
            "run", "--vault", box.vault, "--passphrase-file", box.passphraseFile, "--only", "new.name", "--no-mask", "--",
            "/bin/sh", "-c", "printf %s \"$NEW_NAME\"",
        ])
        #expect(run.output == "moving-value-1")
    }

    @Test func mvAndCpAcrossScopesAndTheDestinationGuard() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("api.key", "dev-key-value", ["--project", "shop", "--domain", "dev", "--description", "the key"])
        box.store("api.key", "prod-key-value", ["--project", "shop", "--domain", "prod"])
        // The destination exists: refused, nothing changed, unless --overwrite.
        box.expectFailure(5) {
            box.unlocked(["cp", "api.key", "api.key", "--project", "shop", "--from-domain", "dev", "--to-domain", "prod"])
        }
        let copied = box.unlocked(["cp", "api.key", "api.key", "--project", "shop", "--from-domain", "dev", "--to-domain", "prod", "--overwrite"])
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(box.value("api.key", ["--project", "shop", "--domain", "prod"]) == "dev-key-value")
        #expect(box.value("api.key", ["--project", "shop", "--domain", "dev"]) == "dev-key-value")
        #expect(try entry(box, "api.key", ["--project", "shop", "--domain", "prod"])?["description"] as? String == "the key")

        let moved = box.unlocked(["mv", "api.key", "api.key", "--from-project", "shop", "--from-domain", "dev"])
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(box.value("api.key") == "dev-key-value")
        let scopes = try box.listJSON(["--vault", box.vault]).map { $0["scope"] as? String ?? "?" }
        #expect(scopes.sorted() == ["global", "project=shop,domain=prod"], "\(scopes)")
        // A missing source is "not found" before any key is asked for.
        box.expectFailure(2) { box.coffer(["mv", "nope", "other", "--vault", box.vault]) }
    }

    @Test func describeChangesTheDescriptionAndFlagsButNotTheValue() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("pg.password", "pg-secret-value", ["--description", "old text"])
        let updated = try #require(try entry(box, "pg.password"))["updated"] as? String
        #expect(box.unlocked(["describe", "pg.password", "new text"]).status == 0)
        var now = try #require(try entry(box, "pg.password"))
        #expect(now["description"] as? String == "new text")
        #expect(now["updated"] as? String == updated)
        #expect(box.value("pg.password") == "pg-secret-value")

        #expect(box.unlocked(["describe", "pg.password", "--no-reveal"]).status == 0)
        now = try #require(try entry(box, "pg.password"))
        #expect(now["noReveal"] as? Bool == true)
        #expect(now["description"] as? String == "new text")
        #expect(box.value("pg.password") == nil)

        // Revealing again needs --force without a terminal.
        let refused = box.expectFailure(1) { box.unlocked(["describe", "pg.password", "--reveal"]) }
        #expect(refused.stderr.contains("--force"))
        #expect(box.unlocked(["describe", "pg.password", "--reveal", "--force"]).status == 0)
        #expect(box.value("pg.password") == "pg-secret-value")
    }

    /// On a terminal, --reveal asks first: "n" leaves the secret no-reveal, "y" reveals it.
    @Test func revealOnATerminalAsksForConfirmation() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("token", "terminal-token-value", ["--no-reveal"])
        let command = "'\(CofferProcess.executable)' describe token --reveal --vault '\(box.vault)' --passphrase-file '\(box.passphraseFile)'; echo \"exit $?\""
        var declined = try TerminalPromptTests.OnTerminal(command, sandbox: box)
        try declined.type(Array("n\n".utf8))
        #expect(declined.text.contains("Make token (global) printable"), "\(declined.text)")
        #expect(declined.text.contains("exit 1"))
        #expect(try entry(box, "token")?["noReveal"] as? Bool == true)

        var accepted = try TerminalPromptTests.OnTerminal(command, sandbox: box)
        try accepted.type(Array("y\n".utf8))
        #expect(accepted.text.contains("exit 0"), "\(accepted.text)")
        #expect(box.value("token") == "terminal-token-value")
    }
}
