import Foundation
import Testing
@testable import Coffer

// MARK: - Helpers

private func secret(_ name: String, _ value: String, _ line: Int) -> ImportedSecret {
    ImportedSecret(name: name, value: Array(value.utf8), line: line)
}

private func parse(_ text: String, _ format: ImportFormat) throws -> [ImportedSecret] {
    try SecretImport.parse(Array(text.utf8), format: format, path: "input")
}

/// The line and reason of the `malformedInput` error that parsing `bytes` throws; records an issue otherwise.
private func failure(
    _ bytes: [UInt8], _ format: ImportFormat, sourceLocation: SourceLocation = #_sourceLocation
) -> (line: Int, reason: String)? {
    do {
        let secrets = try SecretImport.parse(bytes, format: format, path: "input")
        Issue.record("expected an error, got \(secrets.count) secret(s)", sourceLocation: sourceLocation)
    } catch CofferError.malformedInput(let path, let line, let reason) {
        #expect(path == "input", sourceLocation: sourceLocation)
        return (line, reason)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

private func failure(
    _ text: String, _ format: ImportFormat, sourceLocation: SourceLocation = #_sourceLocation
) -> (line: Int, reason: String)? {
    failure(Array(text.utf8), format, sourceLocation: sourceLocation)
}

/// Each `NAME.env` fixture has a hand-written `NAME.expected.json` beside it, holding either
/// `{"secrets": [[name, value, line], ...]}` or `{"error": {"line": N, "reason": part, "hidden": part}}`,
/// where the reason must contain `reason` and must not contain `hidden`.
private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/dotenv")

private let fixtureNames: [String] = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path))
    .map { $0.filter { $0.hasSuffix(".env") }.sorted() } ?? []

@Suite struct ImportTests {
    // MARK: - Format inference

    @Test(arguments: [
        ("secrets.yml", ImportFormat.yaml), ("a/b/Config.YAML", .yaml), ("dir/x.json", .json),
        (".env", .dotenv), ("app/.env.local", .dotenv), (".env.production", .dotenv), ("prod.env", .dotenv),
    ])
    func inferFormat(path: String, format: ImportFormat) {
        #expect(ImportFormat(inferringFrom: path) == format)
    }

    @Test(arguments: ["notes.txt", ".envrc", "env", "yaml", "", "dir/"])
    func inferNoFormat(path: String) {
        #expect(ImportFormat(inferringFrom: path) == nil)
    }

    // MARK: - dotenv fixtures

    @Test func enoughFixtures() {
        #expect(fixtureNames.count >= 10)
    }

    @Test(arguments: fixtureNames)
    func dotenvFixture(name: String) throws {
        let input = try [UInt8](Data(contentsOf: fixtures.appendingPathComponent(name)))
        let expectedURL = fixtures.appendingPathComponent(name.dropLast(4) + ".expected.json")
        let expected = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: expectedURL)) as? [String: Any])
        if let rows = expected["secrets"] as? [[Any]] {
            let want = try rows.map { row in
                ImportedSecret(
                    name: try #require(row[0] as? String),
                    value: Array(try #require(row[1] as? String).utf8),
                    line: try #require(row[2] as? Int)
                )
            }
            #expect(try SecretImport.parse(input, format: .dotenv, path: "input") == want)
        } else {
            let error = try #require(expected["error"] as? [String: Any])
            let got = try #require(failure(input, .dotenv))
            #expect(got.line == error["line"] as? Int)
            #expect(got.reason.contains(try #require(error["reason"] as? String)))
            #expect(!got.reason.contains(try #require(error["hidden"] as? String)))
        }
    }

    // MARK: - dotenv cases beside the fixtures

    @Test func dotenvNameWithoutEqualsIsAnError() {
        #expect(failure("A=1\nFLAG # no value\n", .dotenv)?.line == 2)
        #expect(failure("A=1\n\nFOO bar\n", .dotenv)?.line == 3)
        #expect(failure("export ONLY_NAME", .dotenv)?.line == 1)
    }

    @Test func dotenvBadQuotedNames() {
        #expect(failure("''=value\n", .dotenv)?.line == 1)
        #expect(failure("OK=1\n'unterminated=value\n", .dotenv)?.line == 2)
        #expect(failure("export \n", .dotenv)?.line == 1)
    }

    @Test func dotenvDollarIsLiteral() throws {
        let text = "A=$B\nB=\"${A}-$(id)\"\nC='$A'\n"
        #expect(try parse(text, .dotenv) == [secret("A", "$B", 1), secret("B", "${A}-$(id)", 2), secret("C", "$A", 3)])
    }

    @Test func dotenvCommentRightAfterQuote() throws {
        #expect(try parse("A=\"x\"#c\nB='y'   # c\n", .dotenv) == [secret("A", "x", 1), secret("B", "y", 2)])
    }

    @Test func dotenvCRLFNeverLeavesCR() throws {
        let secrets = try parse("A=1 \r\nB=\"x\r\ny\"\r\nC='p\r\nq'\r\n", .dotenv)
        #expect(secrets == [secret("A", "1", 1), secret("B", "x\ny", 2), secret("C", "p\nq", 4)])
        #expect(!secrets.contains { $0.value.contains(13) || $0.name.utf8.contains(13) })
    }

    @Test func dotenvLineNumbersAfterMultilineValues() {
        let text = "A=\"1\n2\n3\"\nB='x\ny'\nA=again\n"
        #expect(failure(text, .dotenv)?.reason == "A defined on lines 1 and 6")
    }

    // MARK: - YAML

    @Test func yamlNestedAndScalarsAsWritten() throws {
        let yaml = """
            # comment
            pg:
              user: alice
              port: 5432
              ssl: true
              ratio: 1.50
              hex: 0x1F
            api_key: "s3cret"
            quoted_null: "null"
            block: |
              line one
              line two
            folded: >
              a
              b
            empty_string: ""
            nested: {a: {b: deep}}
            dollar: $HOME
            """
        #expect(try parse(yaml, .yaml) == [
            secret("pg.user", "alice", 3), secret("pg.port", "5432", 4), secret("pg.ssl", "true", 5),
            secret("pg.ratio", "1.50", 6), secret("pg.hex", "0x1F", 7), secret("api_key", "s3cret", 8),
            secret("quoted_null", "null", 9), secret("block", "line one\nline two\n", 10),
            secret("folded", "a b\n", 13), secret("empty_string", "", 16), secret("nested.a.b", "deep", 17),
            secret("dollar", "$HOME", 18),
        ])
    }

    @Test func yamlEmptyDocumentHasNoSecrets() throws {
        #expect(try parse("", .yaml).isEmpty)
        #expect(try parse("# only a comment\n", .yaml).isEmpty)
        #expect(try parse("empty: {}\n", .yaml).isEmpty)
    }

    @Test func yamlBOMAndCRLF() throws {
        let yaml = "\u{FEFF}a: 1\r\nb: |\r\n  x\r\n  y\r\n"
        #expect(try parse(yaml, .yaml) == [secret("a", "1", 1), secret("b", "x\ny\n", 2)])
    }

    @Test func yamlAliasesAndMergeKeys() throws {
        let yaml = """
            base: &base
              user: alice
              host: db
            prod:
              <<: *base
              host: prod-db
            copy: *base
            """
        #expect(try parse(yaml, .yaml) == [
            secret("base.user", "alice", 2), secret("base.host", "db", 3),
            secret("prod.host", "prod-db", 6), secret("prod.user", "alice", 2),
            secret("copy.user", "alice", 2), secret("copy.host", "db", 3),
        ])
    }

    @Test func yamlMergeListEarlierMapsWin() throws {
        let yaml = "a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc:\n  <<: [*a, *b]\n  x: 0\n"
        #expect(try parse(yaml, .yaml).filter { $0.name.hasPrefix("c.") } == [
            secret("c.x", "0", 5), secret("c.y", "2", 1), secret("c.z", "4", 2),
        ])
        #expect(failure("a: 1\nb:\n  <<: 1\n", .yaml)?.line == 3)
    }

    @Test func yamlNullAndListsAreErrors() {
        #expect(failure("a: 1\nb:\n", .yaml).map { [$0.line == 2, $0.reason.contains("b")] } == [true, true])
        #expect(failure("a: 1\npg:\n  user: ~\n", .yaml).map { [$0.line == 3, $0.reason.contains("pg.user")] } == [true, true])
        #expect(failure("a: 1\nlist:\n  - x\n", .yaml).map { [$0.line == 2, $0.reason.contains("list")] } == [true, true])
        #expect(failure("list: [1, 2]\n", .yaml)?.line == 1)
    }

    @Test func yamlTopLevelMustBeAMap() {
        #expect(failure("# intro\n- a\n- b\n", .yaml)?.line == 2)
        #expect(failure("just text\n", .yaml)?.line == 1)
    }

    @Test func yamlSameNameTwice() {
        #expect(failure("a.b: 1\nx: 2\na:\n  b: 3\n", .yaml)?.reason == "a.b defined on lines 1 and 4")
        let duplicateKey = failure("a: s3cret\nb: 2\na: 3\n", .yaml)
        #expect(duplicateKey?.line == 1)
        #expect(duplicateKey?.reason.contains("duplicate key a") == true)
        #expect(duplicateKey?.reason.contains("s3cret") == false)
    }

    @Test func yamlSyntaxErrorsNameTheLineButNoValue() throws {
        let unterminated = try #require(failure("a: 1\nb: \"s3cret\nc: 2\n", .yaml))
        #expect(unterminated.line == 4)
        #expect(!unterminated.reason.contains("s3cret"))
        #expect(failure("a: 1\n  b: s3cret\n", .yaml)?.line == 2)
        #expect(failure("a: 1\n---\nb: 2\n", .yaml)?.line == 2)
        #expect(failure("? [a, b]\n: 1\n", .yaml)?.line == 1)
        #expect(failure("a: *missing\n", .yaml)?.line == 1)
    }

    @Test func yamlErrorsAreLibyamlsOnOneLine() throws {
        let unterminated = try #require(failure("a: 1\nb: \"s3cret\nc: 2\n", .yaml))
        #expect(unterminated.reason == "invalid YAML: found unexpected end of stream (while scanning a quoted scalar starting on line 2)")
        #expect(failure("a: 1\nb: c: d\n", .yaml).map { [$0.line == 2, $0.reason == "invalid YAML: mapping values are not allowed in this context"] } == [true, true])
        // libyaml's reader reports a byte offset, not a line: the line is counted from it.
        #expect(failure("a: 1\nb: \u{1}\n", .yaml).map { [$0.line == 2, $0.reason == "invalid YAML: control characters are not allowed"] } == [true, true])
    }

    /// "Billion laughs": nine levels of ten aliases each would expand to 10^9 values.
    @Test func yamlAliasExpansionIsBounded() throws {
        var yaml = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            yaml += "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let refused = try #require(failure(yaml, .yaml))
        #expect(refused.line == 6)
        #expect(refused.reason == "invalid YAML: aliases expand to more than 1000000 values")
    }

    @Test func yamlDeepNestingIsRefused() {
        #expect(failure("a: " + String(repeating: "[", count: 100_000), .yaml)?.reason == "invalid YAML: nested too deeply")
        #expect(failure(String(repeating: "{a: ", count: 300) + "x" + String(repeating: "}", count: 300), .yaml)?.reason == "invalid YAML: nested too deeply")
    }

    @Test func invalidUTF8NamesTheLine() {
        for format in ImportFormat.allCases {
            #expect(failure([0x61, 0x3A, 0x0A, 0x62, 0xC3, 0x28], format)?.line == 2)
        }
    }

    // MARK: - JSON

    @Test func jsonNestedAndNumbersAsWritten() throws {
        let json = #"""
            {
              "pg": {
                "user": "alice",
                "port": 5432,
                "ratio": 1.50,
                "big": 12345678901234567890,
                "exp": -1.5e+10,
                "ssl": true,
                "off": false
              },
              "escaped": "a\"b\\c\/d\n\u00e9\ud83d\udd11\t$HOME",
              "a.b": "x", "empty": {}, "zero": -0
            }
            """#
        #expect(try parse(json, .json) == [
            secret("pg.user", "alice", 3), secret("pg.port", "5432", 4), secret("pg.ratio", "1.50", 5),
            secret("pg.big", "12345678901234567890", 6), secret("pg.exp", "-1.5e+10", 7),
            secret("pg.ssl", "true", 8), secret("pg.off", "false", 9),
            secret("escaped", "a\"b\\c/d\n\u{E9}\u{1F511}\t$HOME", 11), secret("a.b", "x", 12), secret("zero", "-0", 12),
        ])
    }

    @Test func jsonBOMAndCompactInput() throws {
        #expect(try parse("\u{FEFF}{\"a\":{\"b\":\"c\"}}", .json) == [secret("a.b", "c", 1)])
    }

    @Test func jsonNullListsAndTopLevel() {
        #expect(failure("{\n\"a\": 1,\n\"b\": null}", .json).map { [$0.line == 3, $0.reason.contains("b")] } == [true, true])
        #expect(failure("{\"a\": {\n  \"list\": [1, {\"x\": null}]}}", .json)?.line == 2)
        #expect(failure("\n[{\"a\": 1}]", .json)?.line == 2)
        #expect(failure("\"text\"", .json)?.line == 1)
    }

    @Test func jsonSameNameTwice() {
        #expect(failure("{\n\"a\": 1,\n\"a\": 2\n}", .json)?.reason == "a defined on lines 2 and 3")
        #expect(failure("{\"a.b\": 1,\n\"a\": {\n\"b\": 2}}", .json)?.reason == "a.b defined on lines 1 and 3")
    }

    @Test(arguments: [
        ("", 1), ("{", 1), ("{\"a\": 1,}", 1), ("{\"a\": 1}\nx", 2), ("{\"a\" 1}", 1), ("{a: 1}", 1),
        ("{\"a\": 01}", 1), ("{\"a\": 1.}", 1), ("{\"a\": +1}", 1), ("{\"a\": .5}", 1), ("{\"a\": -}", 1),
        ("{\"a\": tru}", 1), ("{\"a\": \"x\\q\"}", 1), ("{\"a\": \"\\ud800\"}", 1), ("{\"a\": \"\\udc00\"}", 1),
        ("{\"a\": \"\\u12\"}", 1), ("{\n\"a\": \"line\nbreak\"}", 2), ("{\"a\": 1} // comment", 1),
    ])
    func jsonSyntaxErrors(json: String, line: Int) {
        #expect(failure(json, .json)?.line == line)
    }

    @Test func jsonErrorsNeverQuoteValues() throws {
        let unterminated = try #require(failure("{\"password\": \"s3cret", .json))
        #expect(!unterminated.reason.contains("s3cret"))
        let badEscape = try #require(failure("{\"password\": \"s3cret\\x\"}", .json))
        #expect(!badEscape.reason.contains("s3cret"))
    }

    @Test func jsonDeepNestingIsRefused() {
        #expect(failure(String(repeating: "[", count: 100_000), .json)?.reason.contains("deeply") == true)
    }
}
