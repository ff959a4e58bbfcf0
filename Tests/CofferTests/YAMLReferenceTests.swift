import Testing
import Yams
@testable import Coffer

/// Coffer's YAML reader against libyaml (through Yams, a test-only dependency): on every document
/// here both must agree on the secrets (names, values, lines), or both must refuse it.
@Suite struct YAMLReferenceTests {
    static let documents: [String] = [
        // Scalars, quoting and escapes.
        "a: plain text\nb: 'single ''quoted'''\nc: \"double \\\"quoted\\\" \\t tab \\u00e9 \\x41 \\U0001F600\"\n",
        "a: \"esc \\\\ \\/ \\0 \\a \\b \\e \\f \\v \\N \\_ \\L \\P\"\n",
        "url: http://example.com:8080/path?x=1#frag\ntime: 12:30:45\nhash: a#b\n",
        "a: value # comment\nb: 'quoted' # comment\nc: \"dq\"   # comment\n# last\n",
        "a:\tafter tab\nb: trailing spaces   \n",
        "unicode: héllo wörld ✓\nemoji: 😀\n",
        "n1: ~\n", "n2: null\n", "n3: Null\n", "n4: NULL\n", "n5:\n", "n6: !!null x\n",
        "s1: !!str\n", "s2: !!str null\n", "s3: !!str 123\n", "i: !!int 42\n", "b: true\nf: 1.5e3\noct: 0o17\n",
        "key with spaces: 1\n'quoted key': 2\n\"dq key\": 3\n",
        "a: -1\nb: -x\nc: - \n",
        "a: [1, 2]\n", "a: []\n", "a: {}\n", "a: {x: 1, y: {z: 2}}\n", "a: {x: , y: 2}\n", "a: {x}\n",
        "a: {x: 1,\n  y: 2,\n  z: [3,\n   4]}\n",
        "a: {x: 'q', \"y\": \"r\", z: s t}\n",
        "a: {url: http://x:1/y}\n",
        // Multi-line scalars.
        "a: first\n  second\n  third\nb: 2\n",
        "a: first\n\n  after blank\nb: 2\n",
        "a: 'one\n  two\n\n  three'\n",
        "a: \"one\n  two\\\n  three\"\n",
        "a: \"trailing   \n  next\"\n",
        // Block scalars.
        "a: |\n  one\n  two\nb: 1\n",
        "a: |-\n  one\n  two\n\n\nb: 1\n",
        "a: |+\n  one\n  two\n\n\nb: 1\n",
        "a: >\n  one\n  two\n\n  three\n    indented\n  four\nb: 1\n",
        "a: >-\n  folded\n  text\n",
        "a: >+\n  keep\n\n",
        "a: |2\n    four spaces\n  two\n",
        "a: |\n\n  after empty\n",
        "a: |\n  no final break",
        "a: |\n  # not a comment\n  x\n",
        "a: |  # header comment\n  x\n",
        "outer:\n  inner: |\n    deep\n    text\n  next: 1\n",
        "a: |\nb: 1\n",
        // Structure.
        "a:\n  b:\n    c:\n      d: deep\n  e: 1\nf: 2\n",
        "list:\n- a\n- b\nafter: 1\n",
        "list:\n  - a\n  - b\n",
        "list:\n  - k: v\n    k2: v2\n  - - nested\n",
        "- a\n- b\n",
        "--- \na: 1\n",
        "---\na: 1\n...\n",
        "# only comments\n# here\n",
        "",
        "a: 1\n\n\n# c\n\nb: 2\n",
        "a: &x value\nb: *x\n",
        "base: &b {u: 1, h: 2}\nprod:\n  <<: *b\n  h: 3\n",
        "a: &a\n  x: 1\nb: &b\n  y: 2\nc:\n  <<: [*a, *b]\n  z: 3\n",
        "a: &a {x: 1}\nc: {<<: *a, y: 2}\n",
        "a: &s scalar\nb:\n  <<: *s\n",
        "\u{FEFF}a: bom\n",
        "a: 1\r\nb: 2\r\n",
        "a: 1\rb: 2\r",
        // Found by comparing the two on random documents.
        "---\n", "---\n# only a comment\n", "a: 1\n...\n\n...\n", "k: |-\n\n   \n  # c\n",
        "k: {a: 1,\n    k: v\n  x\"\n  }\n", "  <<: &m {p: 1}\n  <<: {x: 1}\n", "c: {a: 1, c:{x: y}}\n",
        "b: 1\n\tx\n", "'q':>\n  x\n", "a: }\n", "a: {b: >+}\n", "x: {a: 1,\n---\n}\n", "k: {a: 1,\n  t\nb: c}\n",
        // Documents both must refuse.
        "a: b: c\n", "a: 1\n  b: 2\n", "a: 1\n---\nb: 2\n", "a: *nope\n", "a: 'open\n",
        "a: \"open\n", "a: [1, 2\n", "a: {x: 1\n", "\tindent: 1\n", "a:\n\tb: 1\n", "a: 1\na: 2\n",
        "a: \"bad \\q escape\"\n", "a: @reserved\n", "a: `reserved\n", "%YAML 1.2\n---\na: 1\n",
        "a: 1\n- b\n", "- a\nb: 1\n", "[a, b]: 1\n", "a: {[x]: 1}\n", "a: [x: 1]\n",
    ]

    /// Valid YAML that Coffer refuses on purpose, with a message naming the line.
    @Test(arguments: ["? a\n: 1\n", "? [a, b]\n: 1\n", "a: {? x: 1}\n"])
    func explicitKeysAreRefused(_ document: String) throws {
        #expect(throws: CofferError.self) { try SecretImport.parse(Array(document.utf8), format: .yaml, path: "input") }
    }

    @Test(arguments: documents)
    func agreesWithLibyaml(_ document: String) {
        let reference = Self.reference(document)
        let ours = Result { try SecretImport.parse(Array(document.utf8), format: .yaml, path: "input") }
        switch (reference, ours) {
        case let (.success(expected), .success(actual)):
            #expect(actual == expected)
        case (.failure, .failure):
            break
        case let (.success(expected), .failure(error)):
            Issue.record("libyaml reads \(expected), Coffer refuses: \(error)")
        case let (.failure(error), .success(actual)):
            Issue.record("libyaml refuses (\(error)), Coffer reads \(actual)")
        }
    }

    // MARK: - The reference: libyaml's node graph, flattened as import does

    private struct Refused: Error { let reason: String }

    private static func reference(_ document: String) -> Result<[ImportedSecret], Error> {
        Result {
            var text = document
            if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
            guard let root = try Yams.compose(yaml: text, .default, .default, .utf8) else { return [] }
            return try tree(root).flattened(line: root.mark?.line ?? 0, path: "input")
        }
    }

    private static func tree(_ node: Node) throws -> ImportTree {
        switch node {
        case .scalar(let scalar):
            return node.tag.rawValue == Tag.Name.null.rawValue ? .null : .text(scalar.string)
        case .mapping(let mapping):
            return .map(try entries(mapping))
        case .sequence:
            return .list
        case .alias:
            throw Refused(reason: "alias")
        }
    }

    private static func entries(_ mapping: Node.Mapping) throws -> [ImportTree.Entry] {
        var own: [ImportTree.Entry] = []
        var merged: [ImportTree.Entry] = []
        for (key, value) in mapping {
            if key.tag.rawValue == Tag.Name.merge.rawValue {
                for source in value.sequence.map(Array.init) ?? [value] {
                    guard let sourceMapping = source.mapping else { throw Refused(reason: "merge of a non-map") }
                    merged += try entries(sourceMapping)
                }
            } else {
                guard case .scalar(let keyScalar) = key else { throw Refused(reason: "complex key") }
                own.append(ImportTree.Entry(key: keyScalar.string, line: key.mark?.line ?? 0, value: try tree(value)))
            }
        }
        var taken = Set(own.map(\.key))
        return own + merged.filter { taken.insert($0.key).inserted }
    }
}
