import Foundation
import Testing

/// Each command run as the built `coffer` binary: what it prints, what it stores, what it exits with.
@Suite struct CommandTests {
    // MARK: init

    @Test func initCreatesAPrivateVaultOnce() throws {
        let box = try Sandbox()
        let result = box.coffer(["init", "--vault", box.vault, "--passphrase-file", box.passphraseFile] + Sandbox.tinyKDF)
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "coffer: created \(box.vault)\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: box.vault)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(box.coffer(["list", "--vault", box.vault]).status == 0)

        box.expectFailure(5) {
            box.coffer(["init", "--vault", box.vault, "--passphrase-file", box.passphraseFile] + Sandbox.tinyKDF)
        }
    }

    @Test func initDefaultsToSecretsCofferInTheWorkingFolder() throws {
        let box = try Sandbox()
        #expect(box.coffer(["init", "--passphrase-file", box.passphraseFile] + Sandbox.tinyKDF).status == 0)
        #expect(FileManager.default.fileExists(atPath: box.vault))
    }

    @Test func initRejectsBadKDFOptionsAndWritesNothing() throws {
        let box = try Sandbox()
        for options in [["--kdf-ops", "1"], ["--kdf-ops", "0", "--kdf-memory", "8"], ["--kdf", "fast"]] {
            let result = box.expectFailure(1) {
                box.coffer(["init", "--vault", box.vault, "--passphrase-file", box.passphraseFile] + options)
            }
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: box.vault))
    }

    @Test func initRefusesAnEmptyPassphraseFile() throws {
        let box = try Sandbox()
        try box.write(box.root + "/empty", "\n")
        box.expectFailure(1) {
            box.coffer(["init", "--vault", box.vault, "--passphrase-file", box.root + "/empty"] + Sandbox.tinyKDF)
        }
        #expect(!FileManager.default.fileExists(atPath: box.vault))
    }

    // MARK: set and get

    @Test func setFromStdinDropsOneFinalNewlineAndGetPrintsExactBytes() throws {
        let box = try Sandbox()
        box.makeVault()
        #expect(box.unlocked(["set", "one"], stdin: Array("stdin-value-1\n".utf8)).status == 0)
        #expect(box.unlocked(["set", "two"], stdin: Array("line-a\nline-b\n\n".utf8)).status == 0)
        #expect(box.unlocked(["set", "crlf"], stdin: Array("crlf-value\r\n".utf8)).status == 0)
        #expect(box.unlocked(["set", "bare"], stdin: Array("no-newline".utf8)).status == 0)

        let one = box.unlocked(["get", "one"])
        #expect(one.status == 0)
        #expect(one.stdout == Array("stdin-value-1".utf8))
        #expect(one.stderr.isEmpty)
        #expect(box.unlocked(["get", "two"]).stdout == Array("line-a\nline-b\n".utf8))
        #expect(box.unlocked(["get", "crlf"]).stdout == Array("crlf-value".utf8))
        #expect(box.unlocked(["get", "bare"]).stdout == Array("no-newline".utf8))
    }

    @Test func setFromFileKeepsBinaryBytesExactly() throws {
        let box = try Sandbox()
        box.makeVault()
        let binary = (0...255).map(UInt8.init) + [0, 0x0A, 0x0D, 0x0A]
        try box.write(box.root + "/binary", binary)
        #expect(box.unlocked(["set", "blob", "--from-file", box.root + "/binary"]).status == 0)
        let result = box.unlocked(["get", "blob"])
        #expect(result.status == 0)
        #expect(result.stdout == binary)
    }

    @Test func setWithValueWarnsWithoutEchoingTheValue() throws {
        let box = try Sandbox()
        box.makeVault()
        box.remember("value-on-the-command-line")
        let result = box.unlocked(["set", "inline", "--value", "value-on-the-command-line"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("coffer: warning: --value"))
        box.expectNoSecrets(result.stderr)
        #expect(box.value("inline") == "value-on-the-command-line")
    }

    @Test func setOverwriteReplacesAndKeepsTheDescription() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("db.password", "first-secret-value", ["--description", "the main database"])
        box.expectFailure(5) { box.unlocked(["set", "db.password"], stdin: Array("second-secret-value".utf8)) }
        #expect(box.value("db.password") == "first-secret-value")

        box.store("db.password", "second-secret-value", ["--overwrite"])
        #expect(box.value("db.password") == "second-secret-value")
        let entry = try #require(box.listJSON(["--vault", box.vault]).first)
        #expect(entry["description"] as? String == "the main database")

        box.store("db.password", "third-secret-value", ["--overwrite", "--description", "moved"])
        #expect(try box.listJSON(["--vault", box.vault]).first?["description"] as? String == "moved")
    }

    @Test func noRevealSecretsAreNeverPrinted() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("hidden", "never-print-this-one", ["--no-reveal"])
        box.store("shown", "printable-value")

        let get = box.expectFailure(5) { box.unlocked(["get", "hidden"]) }
        #expect(get.stdout.isEmpty)
        #expect(get.stderr.contains("no-reveal"))

        let list = box.unlocked(["list", "--values"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.output.contains("printable-value"))
        #expect(list.output.contains("[no-reveal]"))
        #expect(!list.output.contains("never-print-this-one"))

        let json = box.unlocked(["list", "--values", "--json"])
        #expect(json.status == 0)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [[String: Any]])
        let hidden = try #require(entries.first { $0["name"] as? String == "hidden" })
        #expect(hidden["noReveal"] as? Bool == true)
        #expect(hidden["value"] == nil)
        #expect(!json.output.contains("never-print-this-one"))
    }

    @Test func setAtFileImportsTheWholeFile() throws {
        let box = try Sandbox()
        box.makeVault()
        try box.write(box.work + "/seed.env", "SEED_A=alpha-seed-value\nSEED_B=beta-seed-value\n")
        let result = box.unlocked(["set", "@seed.env"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("imported 2: 2 added, 0 replaced"))
        #expect(box.value("SEED_A") == "alpha-seed-value")
        #expect(box.value("SEED_B") == "beta-seed-value")
    }

    @Test func getHonoursScopes() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("token", "global-token-value")
        box.store("token", "project-token-value", ["--project", "billing"])
        box.store("token", "domain-token-value", ["--domain", "production"])
        box.store("token", "both-token-value", ["--project", "billing", "--domain", "production"])
        #expect(box.value("token") == "global-token-value")
        #expect(box.value("token", ["--project", "billing"]) == "project-token-value")
        #expect(box.value("token", ["--domain", "production"]) == "domain-token-value")
        #expect(box.value("token", ["--project", "billing", "--domain", "staging"]) == "project-token-value")
        #expect(box.value("token", ["--project", "billing", "--domain", "production"]) == "both-token-value")
        #expect(box.value("token", ["--project", "other", "--domain", "production"]) == "domain-token-value")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func getAddsANewlineOnlyOnATerminal() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("tty", "terminal-value")
        // script(1) gives the command a pseudo-terminal as stdout (which turns "\n" into "\r\n").
        let command = "\(CofferProcess.executable) get tty --vault \(box.vault) --passphrase-file \(box.passphraseFile)"
        let result = CofferProcess.runShell(
            "exec script -qec \"$1\" /dev/null", [command], environment: box.environment(), cwd: box.work)
        #expect(result.status == 0)
        #expect(result.output.hasSuffix("terminal-value\r\n"))
    }

    // MARK: list

    @Test func listNeedsNoPassphraseAndShowsNoValues() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("api.key", "list-secret-value", ["--description", "for the API"])
        box.store("zeta", "zeta-secret-value")
        let result = box.coffer(["list", "--vault", box.vault])
        #expect(result.status == 0)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("NAME"))
        #expect(lines[1].hasPrefix("api.key"))
        #expect(lines[1].contains("global"))
        #expect(lines[1].hasSuffix("for the API"))
        #expect(lines[2].hasPrefix("zeta"))
        box.expectNoSecrets(result.output)
        #expect(box.coffer(["ls", "--vault", box.vault]).stdout == result.stdout)
    }

    @Test func listOfAnEmptyVaultPrintsNothing() throws {
        let box = try Sandbox()
        box.makeVault()
        let result = box.coffer(["list", "--vault", box.vault])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(box.coffer(["list", "--json", "--vault", box.vault]).output == "[]\n")
    }

    @Test func listValuesNeedsTheKey() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("a", "value-of-a")
        box.store("b", "value-of-b")
        let result = box.unlocked(["list", "--values"])
        #expect(result.status == 0)
        #expect(result.output.contains("VALUE"))
        #expect(result.output.contains("value-of-a"))
        #expect(result.output.contains("value-of-b"))
        box.expectFailure(3) { box.coffer(["list", "--values", "--vault", box.vault]) }
    }

    @Test func listJSONParsesBack() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("pg.user", "json-user-value", ["--description", #"say "hi" \ ünïcode"#])
        box.store("pg.user", "json-staging-value", ["--domain", "staging"])
        try box.write(box.root + "/binary", [0xFF, 0x00, 0x41])
        #expect(box.unlocked(["set", "raw", "--from-file", box.root + "/binary"]).status == 0)

        // Entries come sorted by scope, then name.
        let plain = try box.listJSON(["--vault", box.vault])
        try #require(plain.count == 3)
        #expect(plain.map { $0["name"] as? String } == ["pg.user", "raw", "pg.user"])
        #expect(plain.map { $0["scope"] as? String } == ["global", "global", "domain=staging"])
        #expect(plain[0]["description"] as? String == #"say "hi" \ ünïcode"#)
        #expect(plain[2]["domain"] as? String == "staging")
        #expect(plain[2]["project"] as? String == "")
        #expect(plain[0]["noReveal"] as? Bool == false)
        #expect((plain[0]["created"] as? String)?.hasSuffix("Z") == true)
        #expect(plain.allSatisfy { $0["value"] == nil && $0["valueHex"] == nil })

        let result = box.unlocked(["list", "--values", "--json"])
        #expect(result.status == 0)
        let valued = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [[String: Any]])
        try #require(valued.count == 3)
        #expect(valued.map { $0["value"] as? String } == ["json-user-value", nil, "json-staging-value"])
        #expect(valued[1]["valueHex"] as? String == "ff0041")
    }

    @Test func listWithAScopeShowsTheResolvedView() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("url", "global-url-value")
        box.store("url", "project-url-value", ["--project", "web"])
        box.store("url", "domain-url-value", ["--domain", "production"])
        box.store("only.global", "only-global-value")
        box.store("only.other", "other-project-value", ["--project", "other"])

        let resolved = try box.listJSON(["--vault", box.vault, "--project", "web", "--domain", "production"])
        #expect(resolved.map { $0["name"] as? String } == ["only.global", "url"])
        #expect(resolved.map { $0["scope"] as? String } == ["global", "project=web"])

        let domainOnly = try box.listJSON(["--vault", box.vault, "--domain", "production"])
        #expect(domainOnly.map { $0["scope"] as? String } == ["global", "domain=production"])

        let values = box.unlocked(["list", "--values", "--project", "web"])
        #expect(values.status == 0)
        #expect(values.output.contains("project-url-value"))
        #expect(!values.output.contains("global-url-value"))
        #expect(!values.output.contains("other-project-value"))
    }

    // MARK: delete

    @Test func deleteRemovesSeveralNames() throws {
        let box = try Sandbox()
        box.makeVault()
        for name in ["a", "b", "c"] { box.store(name, "delete-value-\(name)") }
        let result = box.unlocked(["delete", "a", "c"])
        #expect(result.status == 0)
        #expect(result.stderr == "coffer: deleted 2\n")
        #expect(try box.names() == ["b"])
        #expect(box.unlocked(["rm", "b"]).status == 0)
        #expect(try box.names() == [])
    }

    @Test func deleteWithAnUnknownNameDeletesNothing() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("keep1", "keep-value-1")
        box.store("keep2", "keep-value-2")
        let result = box.expectFailure(2) { box.unlocked(["delete", "keep1", "ghost", "keep2"]) }
        #expect(result.stderr.contains("ghost"))
        #expect(try box.names() == ["keep1", "keep2"])
        box.expectFailure(1) { box.unlocked(["delete"]) }
    }

    @Test func deleteOnlyTouchesTheGivenScope() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("key", "global-key-value")
        box.store("key", "scoped-key-value", ["--project", "p"])
        #expect(box.unlocked(["delete", "key", "--project", "p"]).status == 0)
        #expect(try box.listJSON(["--vault", box.vault]).map { $0["scope"] as? String } == ["global"])
        box.expectFailure(2) { box.unlocked(["delete", "key", "--project", "p"]) }
    }

    // MARK: import

    @Test func importYAMLFlattensNestedKeys() throws {
        let box = try Sandbox()
        box.makeVault()
        try box.write(box.work + "/secrets.yaml", """
            pg:
              user: yaml-user-value
              password: "yaml-password-value"
              replica:
                host: yaml-host-value
            api_key: yaml-api-value
            """)
        let result = box.unlocked(["import", "secrets.yaml"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "coffer: imported 4: 4 added, 0 replaced\n")
        #expect(try box.names() == ["api_key", "pg.password", "pg.replica.host", "pg.user"])
        #expect(box.value("pg.replica.host") == "yaml-host-value")
        #expect(box.value("pg.password") == "yaml-password-value")
    }

    @Test func importJSONAndDotenv() throws {
        let box = try Sandbox()
        box.makeVault()
        try box.write(box.work + "/secrets.json", #"{"aws": {"id": "json-id-value", "secret": "json-\u00e9-value"}, "n": "42"}"#)
        #expect(box.unlocked(["import", "secrets.json"]).status == 0)
        #expect(box.value("aws.secret") == "json-é-value")
        #expect(box.value("n") == "42")

        try box.write(box.work + "/prod.env", """
            # a comment
            export DOTENV_A=plain-dotenv-value
            DOTENV_B='single $HOME quoted'
            DOTENV_C="double\\nline"

            """)
        let result = box.unlocked(["import", "prod.env", "--domain", "production"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("3 added, 0 replaced"))
        #expect(box.value("DOTENV_A", ["--domain", "production"]) == "plain-dotenv-value")
        #expect(box.value("DOTENV_B", ["--domain", "production"]) == "single $HOME quoted")
        #expect(box.value("DOTENV_C", ["--domain", "production"]) == "double\nline")
        #expect(box.value("DOTENV_A") == nil)

        // --format overrides the file name.
        try box.write(box.work + "/vars.txt", "FROM_TXT=txt-value\n")
        box.expectFailure(1) { box.unlocked(["import", "vars.txt"]) }
        #expect(box.unlocked(["import", "vars.txt", "--format", "dotenv"]).status == 0)
        #expect(box.value("FROM_TXT") == "txt-value")
    }

    @Test func importClashNamesTheLineAndChangesNothingUnlessOverwrite() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("B", "existing-b-value")
        try box.write(box.work + "/more.env", "A=new-a-value\nB=new-b-value\nC=new-c-value\n")
        box.remember("new-b-value")

        let clash = box.expectFailure(5) { box.unlocked(["import", "more.env"]) }
        #expect(clash.stderr.contains("more.env:2:"))
        #expect(clash.stderr.contains("B already exists"))
        #expect(try box.names() == ["B"])

        let result = box.unlocked(["import", "more.env", "--overwrite"])
        #expect(result.status == 0)
        #expect(result.stderr == "coffer: imported 3: 2 added, 1 replaced\n")
        #expect(box.value("B") == "new-b-value")
        #expect(try box.names() == ["A", "B", "C"])
    }

    // MARK: generate

    @Test func generateStoresARandomValueWithoutPrintingIt() throws {
        let box = try Sandbox()
        box.makeVault()
        let result = box.unlocked(["generate", "session.key"])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "coffer: generated session.key (32 alnum characters)\n")
        let value = try #require(box.value("session.key"))
        #expect(value.count == 32)
        #expect(value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        #expect(!result.stderr.contains(value))

        let hex = box.unlocked(["generate", "hex.key", "--length", "64", "--charset", "hex", "--description", "made"])
        #expect(hex.status == 0)
        let hexValue = try #require(box.value("hex.key"))
        #expect(hexValue.count == 64)
        #expect(hexValue.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(!hex.stderr.contains(hexValue))

        #expect(box.unlocked(["generate", "ascii.key", "--length", "200", "--charset", "ascii"]).status == 0)
        let ascii = try #require(box.value("ascii.key"))
        #expect(ascii.count == 200 && ascii.unicodeScalars.allSatisfy { (33...126).contains($0.value) })

        #expect(box.unlocked(["generate", "b64.key", "--length", "7", "--charset", "base64"]).status == 0)
        #expect(box.value("b64.key")?.count == 7)
        #expect(box.value("session.key") != box.value("b64.key"))

        box.expectFailure(5) { box.unlocked(["generate", "session.key"]) }
        box.expectFailure(1) { box.unlocked(["generate", "zero", "--length", "0"]) }
        box.expectFailure(1) { box.unlocked(["generate", "odd", "--charset", "emoji"]) }
        #expect(box.unlocked(["generate", "session.key", "--overwrite"]).status == 0)
        #expect(box.value("session.key") != value)
    }

    // MARK: inspect and verify

    @Test func inspectShowsTheStructureButNoSecret() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("one", "inspect-secret-one")
        box.store("two", "inspect-secret-two", ["--description", "described"])
        let result = box.coffer(["inspect", "--vault", box.vault])
        #expect(result.status == 0)
        let text = result.output
        #expect(text.contains("format            1.1"))
        #expect(text.contains("entries           2"))
        #expect(text.contains("slots             1"))
        #expect(text.contains("generation        3"))
        #expect(text.contains("passphrase argon2id ops=1 mem=8MiB scope=global"))
        #expect(text.contains("file size         \(box.bytes(box.vault).count) bytes"))
        box.expectNoSecrets(text)
        box.expectNoSecrets(result.stderr)
    }

    @Test func verifyChecksTheSignatureAloneOrEverythingWithAKey() throws {
        let box = try Sandbox()
        box.makeVault()
        box.store("x", "verify-value-x")
        box.store("y", "verify-value-y", ["--no-reveal"])

        let signatureOnly = box.coffer(["verify", "--vault", box.vault])
        #expect(signatureOnly.status == 0)
        #expect(signatureOnly.output == "signature ok (generation 3, 2 entries); values not checked: no key given\n")

        let full = box.unlocked(["verify"])
        #expect(full.status == 0)
        #expect(full.output == "signature ok (generation 3); 2 of 2 values open and verify\n")

        try box.write(box.root + "/wrong", "not the passphrase\n")
        box.expectFailure(3) {
            box.coffer(["verify", "--vault", box.vault, "--passphrase-file", box.root + "/wrong"])
        }
    }
}
