import Foundation
import Testing
import Yams
@testable import Coffer

@Suite struct WorkflowExportTests {
    @Test func dotenvReadsBackExactly() throws {
        let parsed = parseDotenv(try render(awkwardSecrets, .dotenv))
        #expect(parsed.map(\.0) == awkward.map { EnvironmentName.variableName(for: $0.name) })
        #expect(parsed.map(\.1) == awkward.map(\.text))
        #expect(parsed.first?.0 == "API_KEY" && parsed[1].0 == "DB_PASS" && parsed[7].0 == "_1_0")
    }

    @Test func dotenvRejectsVariableClashes() {
        #expect(throws: CofferError.conflict("secrets 'a.b' and 'a-b' both map to environment variable A_B")) {
            try SecretExport.render([("a.b", bytes("1")), ("a-b", bytes("2"))], format: .dotenv)
        }
    }

    /// Kestra's key is the name as it is (what `render` resolves too); a name Kestra cannot hold is
    /// refused with the name to use instead, never renamed silently.
    @Test func kestraRefusesNamesItCannotHold() throws {
        for name in ["pg.password", "api-key", "1x", "a b"] {
            #expect(throws: CofferError.self) { try SecretExport.render([(name, bytes("v"))], format: .kestra) }
        }
        #expect(throws: CofferError.invalidArgument(
            "Kestra cannot hold secret 'pg.password': its secrets are environment variables SECRET_<NAME> and templates "
                + "name them by NAME, so NAME must be letters, digits and _, not starting with a digit; store it as "
                + "PG_PASSWORD to export it to Kestra")) { try SecretExport.render([("pg.password", bytes("v"))], format: .kestra) }
        #expect(try render([("pg_password", bytes("v")), ("_1", [])], .kestra) == "SECRET_pg_password=dg==\nSECRET__1=\n")
    }

    @Test func kestraWritesBase64OfAnyBytes() throws {
        let secrets: [(name: String, value: [UInt8])] = awkwardSecrets.enumerated().map { ("S\($0.offset)", $0.element.value) }
            + [("binary_blob", [0, 0xFF, 0xFE, 10, 13])]
        let lines = try render(secrets, .kestra).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == secrets.count)
        for (line, secret) in zip(lines, secrets) {
            let (variable, encoded) = (line.prefix { $0 != "=" }, line.drop { $0 != "=" }.dropFirst())
            #expect(variable == "SECRET_" + secret.name)
            #expect(Data(base64Encoded: String(encoded)).map(Array.init) == secret.value)
        }
    }

    @Test func jsonParsesBackWithSortedKeys() throws {
        let text = try render(awkwardSecrets, .json)
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String]
        #expect(object == Dictionary(uniqueKeysWithValues: awkward.map { ($0.name, $0.text) }))
        let keyOrder = awkward.map(\.name).sorted().compactMap { text.range(of: "\n  \"\($0)\":")?.lowerBound }
        #expect(keyOrder.count == awkward.count && keyOrder == keyOrder.sorted())
    }

    @Test func yamlParsesBackExactly() throws {
        let everyScalar = String(String.UnicodeScalarView((0...0x3000).compactMap(Unicode.Scalar.init)))
        let secrets = awkwardSecrets + [("every.scalar", bytes(everyScalar))]
        let loaded = try Yams.load(yaml: try render(secrets, .yaml)) as? [String: String]
        #expect(loaded == Dictionary(uniqueKeysWithValues: secrets.map { ($0.name, String(decoding: $0.value, as: UTF8.self)) }))
    }

    @Test func k8sManifestParsesBack() throws {
        let secrets: [(name: String, value: [UInt8])] = awkwardSecrets + [("binary.blob", [0, 0xFF, 10])]
        let out = try SecretExport.render(secrets, format: .k8s, k8sName: "app.secrets-1", k8sNamespace: "prod")
        let text = String(decoding: out, as: UTF8.self)
        let manifest = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(manifest["apiVersion"] as? String == "v1")
        #expect(manifest["kind"] as? String == "Secret")
        #expect(manifest["type"] as? String == "Opaque")
        #expect(manifest["metadata"] as? [String: String] == ["name": "app.secrets-1", "namespace": "prod"])
        let data = try #require(manifest["data"] as? [String: String])
        #expect(data.count == secrets.count)
        for secret in secrets {
            #expect(data[secret.name].flatMap { Data(base64Encoded: $0) }.map(Array.init) == secret.value)
        }
        let bare = try Yams.load(yaml: try render([("k", [1])], .k8s)) as? [String: Any]
        #expect(bare?["metadata"] as? [String: String] == ["name": "coffer-secrets"])
    }

    @Test func emptyExportsAreValid() throws {
        #expect(try render([], .json) == "{}\n")
        #expect(try Yams.load(yaml: try render([], .yaml)) as? [String: String] == [:])
        let manifest = try Yams.load(yaml: try render([], .k8s)) as? [String: Any]
        #expect(manifest?["data"] as? [String: String] == [:])
        #expect(try SecretExport.render([], format: .dotenv).isEmpty)
        #expect(try SecretExport.render([], format: .kestra).isEmpty)
    }

    @Test func validatesKubernetesNames() throws {
        for name in ["a", "app.secrets-1", "0x", String(repeating: "a", count: 253)] {
            _ = try SecretExport.render([], format: .k8s, k8sName: name)
        }
        for name in ["", "App", "-a", "a-", "a..b", ".a", "a_b", "a b", String(repeating: "a", count: 254)] {
            #expect(throws: CofferError.self) { try SecretExport.render([], format: .k8s, k8sName: name) }
        }
        for namespace in ["a.b", "A", String(repeating: "a", count: 64)] {
            #expect(throws: CofferError.self) { try SecretExport.render([], format: .k8s, k8sNamespace: namespace) }
        }
        #expect(throws: CofferError.self) { try SecretExport.render([("bad/key", [1])], format: .k8s) }
    }

    @Test func textFormatsRejectNonUTF8WithoutShowingTheValue() throws {
        let secrets: [(name: String, value: [UInt8])] = [("ok", bytes("fine")), ("blob", [0x73, 0x65, 0xFF])]
        for format in [ExportFormat.dotenv, .json, .yaml] {
            do {
                _ = try SecretExport.render(secrets, format: format)
                Issue.record("expected \(format) to reject a non-UTF-8 value")
            } catch let CofferError.invalidArgument(message) {
                #expect(message.contains("'blob'") && message.contains("kestra") && message.contains("k8s"))
                #expect(!message.contains("fine"))
            }
        }
        _ = try SecretExport.render(secrets, format: .kestra)
        _ = try SecretExport.render(secrets, format: .k8s)
    }

    @Test func mapFormatsRejectDuplicateNames() {
        for format in [ExportFormat.json, .yaml, .k8s] {
            #expect(throws: CofferError.invalidArgument("secret name 'a' appears more than once")) {
                try SecretExport.render([("a", bytes("1")), ("a", bytes("2"))], format: format)
            }
        }
    }
}

private extension WorkflowExportTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Text values chosen to break naive quoting in every format.
    var awkward: [(name: String, text: String)] { [
        ("api-key", "plain"),
        ("db.pass", "a\"b\\c'd $HOME ${HOME} `x` #not-a-comment = : - [x] {y} &a *b !c |d >e %f @g"),
        ("multi.line", "line1\nline2\r\nline3\ttabbed\n"),
        ("spaces", "  leading and trailing  "),
        ("empty", ""),
        ("null", "null"),
        ("true", "~"),
        ("1.0", "0x1F"),
        ("unicode", "h\u{E9}llo \u{2713} \u{1F511} \u{0}\u{1}\u{7}\u{8}\u{B}\u{C}\u{1B}\u{7F}"
            + "\u{85}\u{A0}\u{2028}\u{2029}\u{FEFF}\u{FFFE}"),
    ] }

    var awkwardSecrets: [(name: String, value: [UInt8])] { awkward.map { ($0.name, bytes($0.text)) } }

    func render(_ secrets: [(name: String, value: [UInt8])], _ format: ExportFormat) throws -> String {
        let out = try SecretExport.render(secrets, format: format)
        #expect(out.last == UInt8(ascii: "\n"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses `VAR="escaped"` lines as python-dotenv reads double-quoted values.
    func parseDotenv(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").map { line in
            let (variable, quoted) = (line.prefix { $0 != "=" }, line.drop { $0 != "=" }.dropFirst())
            #expect(quoted.first == "\"" && quoted.last == "\"")
            var value = ""
            var escaped = false
            for character in quoted.dropFirst().dropLast() {
                if escaped {
                    value.append(["n": "\n", "r": "\r", "\\": "\\", "\"": "\""][character] ?? "?")
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else {
                    value.append(character)
                }
            }
            return (String(variable), value)
        }
    }
}
