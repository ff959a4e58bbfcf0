import Testing
@testable import Coffer

@Suite struct WorkflowTransformTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Suite struct EnvironmentNames {
        @Test(arguments: [
            ("pg.user", "PG_USER"), ("db1.host", "DB1_HOST"), ("api-key", "API_KEY"),
            ("Mixed.Case_9", "MIXED_CASE_9"), ("1password", "_1PASSWORD"), ("a b/c", "A_B_C"),
            ("caf\u{E9}", "CAF_"), ("", "_"),
        ])
        func mapsSecretNames(name: String, expected: String) {
            #expect(EnvironmentName.variableName(for: name) == expected)
            // The byte-wise forms a scan over a vault's names uses agree.
            var name = name, variable: [UInt8] = []
            name.withUTF8 { EnvironmentName.variableName(forUTF8: $0, into: &variable) }
            #expect(variable == Array(expected.utf8))
            #expect(name.withUTF8 { EnvironmentName.variableName(forUTF8: $0, is: Array(expected.utf8)) })
            for other in ["", "_", expected + "X", String(expected.dropLast()), "_" + expected] {
                #expect(name.withUTF8 { EnvironmentName.variableName(forUTF8: $0, is: Array(other.utf8)) } == (other == expected))
            }
        }

        @Test func prependsPrefixAsGiven() {
            #expect(EnvironmentName.variableName(for: "pg.user", prefix: "APP_") == "APP_PG_USER")
            #expect(EnvironmentName.variableName(for: "1x", prefix: "app_") == "app__1X")
        }

        @Test func validatesPrefixes() throws {
            for prefix in ["", "APP_", "_", "app1_", "X"] {
                try EnvironmentName.validatePrefix(prefix)
            }
            for prefix in ["1A", "A-B", "A B", "caf\u{E9}_", "A="] {
                #expect(throws: CofferError.self) { try EnvironmentName.validatePrefix(prefix) }
            }
        }

        @Test func environmentKeepsInputOrder() throws {
            let environment = try EnvironmentName.environment(
                for: [("z.last", bytes("1")), ("a.first", bytes("2"))], prefix: "P_")
            #expect(environment.map(\.variable) == ["P_Z_LAST", "P_A_FIRST"])
            #expect(environment.map(\.value) == [bytes("1"), bytes("2")])
        }

        @Test func clashNamesBothSecretsButNoValue() {
            do {
                _ = try EnvironmentName.environment(
                    for: [("db.url", bytes("first-value")), ("other", bytes("x")), ("db-url", bytes("second-value"))],
                    prefix: "")
                Issue.record("expected a conflict")
            } catch let CofferError.conflict(message) {
                #expect(message.contains("db.url") && message.contains("db-url") && message.contains("DB_URL"))
                #expect(!message.contains("first-value") && !message.contains("second-value"))
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }

        @Test func environmentRejectsBadPrefix() {
            #expect(throws: CofferError.self) {
                try EnvironmentName.environment(for: [("a", bytes("v"))], prefix: "9")
            }
        }
    }

    @Suite struct Templates {
        private let secrets = ["A": bytes("alpha"), "db.pass": bytes("p@ss\n{{ secret('A') }}"), "B": [0, 255, 10]]

        private func render(_ template: String) throws -> [UInt8] {
            try TemplateRenderer.render(bytes(template), path: "t.tpl") { secrets[$0] }
        }

        @Test(arguments: [
            "{{ secret('A') }}", "{{secret(\"A\")}}", "{{  secret( 'A' )  }}", "{{\tsecret\t(\t\"A\"\t)\t}}",
            "{{secret ('A')}}",
        ])
        func replacesReferenceVariants(template: String) throws {
            #expect(try render("x=" + template + ";") == bytes("x=alpha;"))
        }

        @Test func insertsValueBytesVerbatimAndOnce() throws {
            let out = try render("[{{ secret('db.pass') }}][{{ secret('B') }}]")
            #expect(out == bytes("[p@ss\n{{ secret('A') }}][") + [0, 255, 10] + bytes("]"))
        }

        @Test(arguments: [
            "{{ other }}", "{ secret('A') }", "{{ SECRET('A') }}", "{{ secrets('A') }}", "{{ vars.secret }}",
            "{{ my_secret('A') }}", "{{", "}}", "",
        ])
        func leavesOtherBytesUntouched(template: String) throws {
            let text = "a\n\(template)\tz {{ x }}"
            #expect(try render(text) == bytes(text))
        }

        /// Forms of secret() that render does not implement are errors naming the line, never
        /// passed through to the output.
        @Test(arguments: [
            "{{ secret(A) }}", "{{ secret('A\") }}", "{{ secret('A') | upper }}", "{{ secret('A')", "{{ secret('A'\n) }}",
            "{{ secret('A') } }", "{{- secret('A') -}}", "{{ secret('A') | trim }}", "{{ secret('A', namespace='y') }}",
            "{{ 'x' ~ secret('A') }}",
        ])
        func refusesUnsupportedSecretForms(template: String) throws {
            #expect(throws: CofferError.self) { try render("a\n\(template)\tz {{ x }}") }
            do {
                _ = try render("a\n\(template)")
            } catch let CofferError.malformedInput(path, line, reason) {
                #expect(path == "t.tpl" && line == 2 && reason.contains("not supported"))
            }
        }

        @Test func escapesForTheQuotesAroundEachReference() throws {
            let value = bytes("a\"b'c\\d\n$x")
            func rendered(_ template: String, _ escape: TemplateRenderer.Escape, path: String = "t.tpl") throws -> String {
                String(decoding: try TemplateRenderer.render(bytes(template), path: path, escape: escape) { _ in value }, as: UTF8.self)
            }
            #expect(try rendered("k: \"{{ secret('v') }}\"", .yaml) == #"k: "a\"b'c\\d\n$x""#)
            #expect(try rendered("k: {{ secret('v') }}", .json) == #"k: "a\"b'c\\d\n$x""#)
            #expect(try rendered("export K={{ secret('v') }}", .shell) == "export K='a\"b'\\''c\\d\n$x'")
            #expect(try rendered("export K=\"pre {{ secret('v') }}\"", .shell) == "export K=\"pre a\\\"b'c\\\\d\n\\$x\"")
            #expect(throws: CofferError.self) { try rendered("k: 'it {{ secret('v') }}'", .yaml) }
            // Unescaped, a YAML or JSON template whose quoting the value would break is refused, naming the line.
            #expect(throws: CofferError.malformedInput(
                path: "flow.yml", line: 2,
                reason: "secret v: its value holds \" or \\; choose --escape yaml or json, or --escape none in a file not named .yml/.yaml/.json")
            ) { try rendered("a: 1\nb: \"Bearer {{ secret('v') }}\"", .none, path: "flow.yml") }
            #expect(try rendered("b: \"{{ secret('v') }}\"", .none) == "b: \"a\"b'c\\d\n$x\"")
        }

        @Test func mixesReferencesAndOtherExpressions() throws {
            let out = try render("{{{ secret('A') }}} {{ inputs.x }}{{secret('A')}}\r\n{{ secret('B') }}")
            #expect(out == bytes("{alpha} {{ inputs.x }}alpha\r\n") + [0, 255, 10])
        }

        @Test func unknownNameReportsPathAndLine() {
            #expect(throws: CofferError.malformedInput(path: "t.tpl", line: 3, reason: "unknown secret NOPE")) {
                try render("{{ secret('A') }}\n{{ other }}\nkey: {{ secret(\"NOPE\") }}\n{{ secret('ALSO_MISSING') }}")
            }
        }

        @Test func looksUpEachNameOnceAndPropagatesErrors() throws {
            var calls: [String] = []
            let out = try TemplateRenderer.render(bytes("{{ secret('A') }}{{ secret('A') }}"), path: "p") { name in
                calls.append(name)
                return bytes("v")
            }
            #expect(out == bytes("vv") && calls == ["A"])
            #expect(throws: CofferError.keyUnavailable("scope")) {
                try TemplateRenderer.render(bytes("{{ secret('A') }}"), path: "p") { _ in
                    throw CofferError.keyUnavailable("scope")
                }
            }
        }

        @Test func listsReferencedNamesOnceInOrder() {
            let template = bytes(
                "{{ secret('b') }} {{ secret(\"a\") }} {{ other('c') }} {{secret('b')}} {{ secret('c') }}")
            #expect(TemplateRenderer.referencedNames(in: template) == ["b", "a", "c"])
            #expect(TemplateRenderer.referencedNames(in: []) == [])
        }
    }
}
