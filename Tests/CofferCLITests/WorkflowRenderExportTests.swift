import Foundation
import Testing
import Yams
#if canImport(Glibc)
import Glibc
#endif

/// `coffer render`, `coffer export`, and no-reveal secrets across commands.
@Suite struct WorkflowRenderExportTests {
    /// Awkward but valid text values, by name.
    static let secrets: [(name: String, value: String)] = [
        ("api-key", "k-12345"),
        ("pg.password", #"pa"ss\word $HOME ${X} 'q'"#),
        ("pg.user", "alice"),
        ("tls.note", "line one\nline two\tend"),
        ("unicode", "héllo ✓ 日本"),
    ]

    static func fixture() throws -> WorkflowVault {
        let fixture = try WorkflowVault()
        for secret in secrets { try fixture.set(secret.name, secret.value) }
        return fixture
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    // MARK: render

    @Test func rendersToStdoutAndFile() throws {
        let fixture = try Self.fixture()
        try fixture.set("pg.user", "web-alice", project: "web")
        try fixture.set("hidden", "no-reveal-value", noReveal: true)
        let template = try fixture.write("app.conf.tpl", """
            user={{ secret('pg.user') }}
            pass={{secret("pg.password")}} again={{ secret( 'pg.password' ) }}
            hidden={{ secret('hidden') }} other={{ env('X') }}

            """)
        let expected = """
            user=web-alice
            pass=\(Self.secrets[1].value) again=\(Self.secrets[1].value)
            hidden=no-reveal-value other={{ env('X') }}

            """
        let printed = try fixture.coffer(["render", template, "--project", "web"])
        #expect(printed.code == 0 && printed.stdout == expected, "\(printed.stderr)")

        let output = try fixture.write("app.conf", "old contents\n")
        chmod(output, 0o644)
        let written = try fixture.coffer(["render", template, "-o", output, "--project", "web"])
        #expect(written.code == 0 && written.output.isEmpty)
        #expect(fixture.read("app.conf") == expected)
        #expect(Self.mode(output) == 0o600)

        let global = try fixture.coffer(["render", template])
        #expect(global.stdout.hasPrefix("user=alice\n"))
    }

    @Test func unknownNameFailsWithLineAndWritesNothing() throws {
        let fixture = try Self.fixture()
        let template = try fixture.write("bad.tpl", "a={{ secret('pg.user') }}\n\nb={{ secret('nope') }}\n")
        let fresh = fixture.folder + "/fresh.out"
        let failed = try fixture.coffer(["render", template, "-o", fresh])
        #expect(failed.code == 1 && failed.stderr.contains("bad.tpl:3: unknown secret nope"), "\(failed.stderr)")
        #expect(access(fresh, F_OK) != 0)

        let existing = try fixture.write("existing.out", "keep me\n")
        #expect(try fixture.coffer(["render", template, "-o", existing]).code == 1)
        #expect(fixture.read("existing.out") == "keep me\n")
        let printed = try fixture.coffer(["render", template])
        #expect(printed.code == 1 && printed.output.isEmpty && !printed.stderr.contains("alice"))
        // Leftover temporary files: none.
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.folder)
        #expect(!files.contains { $0.contains(".coffer-") || $0.contains(".tmp-") })
    }

    // MARK: export

    /// Runs an export to stdout and with -o, checks both give the same bytes, and returns them.
    private func export(_ fixture: WorkflowVault, _ arguments: [String]) throws -> String {
        let printed = try fixture.coffer(["export"] + arguments)
        #expect(printed.code == 0, "\(printed.stderr)")
        let path = fixture.folder + "/export.out"
        let written = try fixture.coffer(["export"] + arguments + ["-o", path])
        #expect(written.code == 0 && written.output.isEmpty)
        #expect(fixture.read("export.out") == printed.stdout)
        #expect(Self.mode(path) == 0o600)
        return printed.stdout
    }

    private var expectedValues: [String: String] {
        Dictionary(uniqueKeysWithValues: Self.secrets.map { ($0.name, $0.value) })
    }

    private static func variable(_ name: String) -> String {
        name.uppercased().replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_")
    }

    @Test func jsonParsesBack() throws {
        let fixture = try Self.fixture()
        let text = try export(fixture, ["--format", "json"])
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String] == expectedValues)
        let only = try export(fixture, ["--format", "json", "--only", "pg.user", "api-key"])
        #expect(try JSONSerialization.jsonObject(with: Data(only.utf8)) as? [String: String]
            == ["pg.user": "alice", "api-key": "k-12345"])
    }

    @Test func yamlParsesBack() throws {
        let fixture = try Self.fixture()
        let text = try export(fixture, ["--format", "yaml"])
        #expect(try Yams.load(yaml: text) as? [String: String] == expectedValues)
    }

    @Test func dotenvDecodesBack() throws {
        let fixture = try Self.fixture()
        let text = try export(fixture, ["--format", "dotenv"])
        var decoded: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let variable = String(line.prefix { $0 != "=" })
            let quoted = line.dropFirst(variable.count + 1)
            try #require(quoted.first == "\"" && quoted.last == "\"", "\(line)")
            var value = "", escaped = false
            for character in quoted.dropFirst().dropLast() {
                if escaped {
                    value.append(character == "n" ? "\n" : character == "r" ? "\r" : character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else {
                    value.append(character)
                }
            }
            decoded[variable] = value
        }
        #expect(decoded == Dictionary(uniqueKeysWithValues: Self.secrets.map { (Self.variable($0.name), $0.value) }))
    }

    /// One naming rule for render and Kestra: a secret is SECRET_<its name>, and
    /// `{{ secret('<its name>') }}` renders it in both; names Kestra cannot hold are refused.
    @Test func kestraDecodesBackUnderTheNamesRenderUses() throws {
        let fixture = try WorkflowVault()
        for secret in Self.secrets { try fixture.set(Self.variable(secret.name), secret.value) }
        let text = try export(fixture, ["--format", "kestra"])
        var decoded: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let variable = String(line.prefix { $0 != "=" })
            let data = try #require(Data(base64Encoded: String(line.dropFirst(variable.count + 1))))
            decoded[variable] = String(decoding: data, as: UTF8.self)
        }
        #expect(decoded == Dictionary(uniqueKeysWithValues: Self.secrets.map { ("SECRET_" + Self.variable($0.name), $0.value) }))
        let template = try fixture.write("flow.tpl", "u={{ secret('PG_USER') }}\n")
        #expect(try fixture.coffer(["render", template]).stdout == "u=alice\n")

        let dotted = try Self.fixture()
        let refused = try dotted.coffer(["export", "--format", "kestra"])
        #expect(refused.code == 1 && refused.stderr.contains("Kestra cannot hold secret 'api-key'") && refused.stdout.isEmpty, "\(refused.stderr)")
    }

    @Test func k8sManifestParsesBack() throws {
        let fixture = try Self.fixture()
        try fixture.set("pg.user", "prod-alice", domain: "prod")
        let text = try export(
            fixture, ["--format", "k8s", "--domain", "prod", "--k8s-name", "app-secrets", "--k8s-namespace", "payments"])
        let manifest = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(manifest["apiVersion"] as? String == "v1")
        #expect(manifest["kind"] as? String == "Secret")
        #expect(manifest["type"] as? String == "Opaque")
        #expect(manifest["metadata"] as? [String: String] == ["name": "app-secrets", "namespace": "payments"])
        let data = try #require(manifest["data"] as? [String: String])
        var expected = expectedValues
        expected["pg.user"] = "prod-alice"
        #expect(data.mapValues { Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) } } == expected)

        let bad = try fixture.coffer(["export", "--format", "k8s", "--k8s-name", "Not_Valid"])
        #expect(bad.code == 1 && bad.output.isEmpty)
    }

    @Test func refusesTerminalWithoutForce() throws {
        let fixture = try Self.fixture()
        func onTerminal(_ options: [String]) throws -> WorkflowResult {
            let command = ([WorkflowVault.binary, "export", "--vault", fixture.vault, "--passphrase-file", fixture.passphraseFile,
                            "--format", "json", "--only", "pg.user"] + options).map { "'\($0)'" }.joined(separator: " ")
            let script = try fixture.write("on-terminal.sh", "exec \(command)\n")
            return try WorkflowProcess.start(
                ["/usr/bin/script", "-qec", "/bin/sh \(script)", "/dev/null"], environment: fixture.environment
            ).finish()
        }
        let refused = try onTerminal([])
        #expect(refused.code == 1 && refused.stdout.contains("--force") && !refused.stdout.contains("alice"))
        let forced = try onTerminal(["--force"])
        #expect(forced.code == 0 && forced.stdout.contains("\"pg.user\": \"alice\""))
        let toFile = try onTerminal(["-o", fixture.folder + "/tty.json"])
        #expect(toFile.code == 0 && fixture.read("tty.json")?.contains("alice") == true)
    }

    // MARK: no-reveal

    @Test func noRevealIsUsedButNeverShown() throws {
        let fixture = try Self.fixture()
        let value = "never-printed-value"
        try fixture.set("hidden", value, noReveal: true)

        let get = try fixture.coffer(["get", "hidden"])
        #expect(get.code == 5 && get.output.isEmpty && get.stderr.contains("no-reveal"))
        let list = try fixture.coffer(["list", "--values"])
        #expect(list.code == 0 && list.stdout.contains("alice") && list.stdout.contains("[no-reveal]") && !list.stdout.contains(value))
        for format in ["dotenv", "json", "yaml", "kestra", "k8s"] {
            let refused = try fixture.coffer(["export", "--format", format])
            #expect(refused.code == 5 && refused.output.isEmpty && refused.stderr.contains("hidden"), "\(format)")
        }
        let onlyHidden = try fixture.coffer(["export", "--format", "json", "--only", "hidden"])
        #expect(onlyHidden.code == 5 && onlyHidden.output.isEmpty)
        #expect(try fixture.coffer(["export", "--format", "json", "--only", "pg.user"]).code == 0)

        let run = try fixture.coffer(["run", "--no-mask", "--", "/bin/sh", "-c", #"printf %s "$HIDDEN""#])
        #expect(run.code == 0 && run.stdout == value)
        let template = try fixture.write("hidden.tpl", "{{ secret('hidden') }}")
        #expect(try fixture.coffer(["render", template]).stdout == value)
    }
}
