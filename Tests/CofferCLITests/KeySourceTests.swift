import Foundation
import Testing

/// Keys found without --identity: $COFFER_IDENTITY (a CI secret) and the default identity files.
@Suite struct KeySourceTests {
    /// A sandbox with a vault holding `db.password`, and an identity made by `coffer keygen -o`.
    private func vaultWithIdentity(_ sandbox: Sandbox, at path: String) throws -> String {
        sandbox.makeVault()
        sandbox.store("db.password", "hunter2-ci")
        let made = sandbox.coffer(["keygen", "-o", path])
        #expect(made.status == 0, "\(made.stderr)")
        let recipient = made.output.trimmingCharacters(in: .newlines)
        let added = sandbox.unlocked(["slots", "add-recipient", recipient])
        #expect(added.status == 0, "\(added.stderr)")
        return recipient
    }

    @Test func identityTextFromTheEnvironmentOpensTheVaultAndIsNeverShown() throws {
        let sandbox = try Sandbox()
        let path = sandbox.root + "/ci-key.txt"
        _ = try vaultWithIdentity(sandbox, at: path)
        let keyText = String(decoding: sandbox.bytes(path), as: UTF8.self)
        sandbox.remember(keyText)
        // Pin lines (issue 19) are comments here.
        let secret = "# coffer-pin: 0123456789abcdef\n" + keyText
        let read = sandbox.coffer(["get", "db.password", "-v"], environment: ["COFFER_IDENTITY": secret])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.output == "hunter2-ci")
        #expect(read.stderr.contains("opened with $COFFER_IDENTITY"))
        let secretLine = keyText.split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") }!
        #expect(!read.stderr.contains(secretLine))

        // The child of `run` gets the secrets, never the key.
        let child = sandbox.coffer(
            ["run", "--no-mask", "--", "/bin/sh", "-c", #"printf '%s|%s' "${COFFER_IDENTITY-unset}" "$DB_PASSWORD""#],
            environment: ["COFFER_IDENTITY": secret])
        #expect(child.status == 0, "\(child.stderr)")
        #expect(child.output == "unset|hunter2-ci")
    }

    @Test func malformedIdentityTextIsRefusedWithoutQuotingIt() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("x", "y")
        let bad = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"
        let read = sandbox.coffer(["get", "x"], environment: ["COFFER_IDENTITY": bad])
        #expect(read.status == 1)
        #expect(read.stderr.contains("$COFFER_IDENTITY, line 1"))
        #expect(!read.stderr.contains("QQQQ"))
    }

    @Test func keygenDefaultFileIsTheFirstDefaultIdentity() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("db.password", "from-default")
        let made = sandbox.coffer(["keygen"])
        #expect(made.status == 0, "\(made.stderr)")
        let written = sandbox.dataHome + "/coffer/identity.txt"
        #expect(made.stderr.contains(written))
        #expect(sandbox.unlocked(["slots", "add-recipient", made.output.trimmingCharacters(in: .newlines)]).status == 0)

        let read = sandbox.coffer(["get", "db.password", "-v"])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.output == "from-default")
        #expect(read.stderr.contains("opened with identity \(written) (slot "))

        // Turned off: no key, and no terminal to ask on.
        let flagged = sandbox.coffer(["get", "db.password", "--no-default-identities"])
        #expect(flagged.status == 3)
        let variable = sandbox.coffer(["get", "db.password"], environment: ["COFFER_NO_DEFAULT_IDENTITIES": "1"])
        #expect(variable.status == 3)
    }

    @Test func defaultIdentitiesAreTriedInOrderAndOnlyThoseWithASlotOpen() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("db.password", "from-sops")
        let coffer = sandbox.dataHome + "/coffer/identity.txt"
        let sops = sandbox.root + "/config/sops/age/keys.txt"
        try FileManager.default.createDirectory(atPath: sandbox.root + "/config/sops/age", withIntermediateDirectories: true)
        // The Coffer identity exists but has no slot; the sops one does.
        #expect(sandbox.coffer(["keygen"]).status == 0)
        let sopsKey = sandbox.coffer(["keygen", "-o", sops])
        #expect(sandbox.unlocked(["slots", "add-recipient", sopsKey.output.trimmingCharacters(in: .newlines)]).status == 0)
        let environment = ["XDG_CONFIG_HOME": sandbox.root + "/config"]

        let read = sandbox.coffer(["get", "db.password", "-v"], environment: environment)
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.output == "from-sops")
        #expect(read.stderr.contains("default identity \(coffer) has no slot in this vault"))
        #expect(read.stderr.contains("opened with identity \(sops)"))

        // A default identity that is not a key file is skipped with a warning, not fatal.
        try sandbox.write(coffer, "not a key\n")
        let skipped = sandbox.coffer(["get", "db.password"], environment: environment)
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stderr.contains("warning: skipped default identity \(coffer), line 1"))

        // An explicit key source wins over the defaults.
        let explicit = sandbox.coffer(
            ["get", "db.password", "-v", "--passphrase-file", sandbox.passphraseFile], environment: environment)
        #expect(explicit.status == 0)
        #expect(explicit.stderr.contains("opened with a passphrase"))
        #expect(!explicit.stderr.contains("default identity"))
    }

    @Test func aProtectedDefaultIdentityWaitsUntilAfterTheSession() throws {
        let sandbox = try Sandbox()
        sandbox.makeVault()
        sandbox.store("db.password", "after-session")
        let pass = sandbox.root + "/identity-pass"
        try sandbox.write(pass, "tiger lily\n")
        let made = sandbox.coffer(["keygen", "--protect", "--work-factor", "10", "--new-passphrase-file", pass])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(sandbox.unlocked(["slots", "add-recipient", made.output.trimmingCharacters(in: .newlines)]).status == 0)
        let runtime = sandbox.root + "/run"
        #expect(mkdir(runtime, 0o700) == 0)
        let unlocked = sandbox.coffer(
            ["unlock", "--raw", "--vault", sandbox.vault, "--passphrase-file", sandbox.passphraseFile],
            environment: ["XDG_RUNTIME_DIR": runtime])
        #expect(unlocked.status == 0, "\(unlocked.stderr)")
        let token = unlocked.output.trimmingCharacters(in: .newlines)

        // The session opens the vault; the protected default is not asked for (there is no
        // terminal here: asking would fail).
        let read = sandbox.coffer(
            ["get", "db.password", "-v", "--vault", sandbox.vault],
            environment: ["XDG_RUNTIME_DIR": runtime, "COFFER_SESSION": token])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.output == "after-session")
        #expect(read.stderr.contains("skipped default identity \(sandbox.dataHome)/coffer/identity.txt: the identity is passphrase-protected"))
        #expect(read.stderr.contains("opened with a session"))

        // Without a session and without a terminal: no key (exit 3), nothing blocks.
        let none = sandbox.coffer(["get", "db.password", "--vault", sandbox.vault], environment: ["XDG_RUNTIME_DIR": runtime])
        #expect(none.status == 3)
    }
}
