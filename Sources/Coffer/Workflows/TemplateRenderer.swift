/// Renders templates holding Kestra-style secret references: `{{ secret('NAME') }}`.
///
/// A reference is `{{`, `secret`, `(`, a name in single or double quotes, `)`, `}}`, with any
/// spaces or tabs between those parts, all on one line. Any other `{{ ... }}` expression that
/// calls `secret(` (a filter, whitespace control, a second argument) is an error naming the
/// line, never passed through; every other byte is left exactly as it is.
public enum TemplateRenderer {
    /// How a value is written into the template (`render --escape`).
    public enum Escape: String, CaseIterable, Sendable {
        /// Bytes as they are (as Kestra inserts them); in a .yml, .yaml or .json template a value
        /// that would break the quotes around its reference is refused.
        case none
        /// For a YAML double- or single-quoted scalar; a bare reference becomes a double-quoted one.
        case yaml
        /// For a JSON string; a bare reference becomes a quoted string.
        case json
        /// For a POSIX shell word; a bare reference becomes a single-quoted word.
        case shell
    }

    /// `template` with each reference replaced by the value `lookup` gives for its name, written
    /// as `escape` says. Each name is looked up once. A name `lookup` does not know (returns nil)
    /// throws `.malformedInput` with `path` and the 1-based line of the reference; nothing is
    /// returned then.
    public static func render(
        _ template: [UInt8], path: String, escape: Escape = .none, lookup: (String) throws -> [UInt8]?
    ) throws -> [UInt8] {
        let syntax = Syntax(path: path)
        var values: [String: [UInt8]] = [:]
        var out: [UInt8] = []
        out.reserveCapacity(template.count)
        var copied = 0
        try forEachReference(in: template, path: path) { range, name, line in
            if values[name] == nil {
                guard let value = try lookup(name) else {
                    throw CofferError.malformedInput(path: path, line: line, reason: "unknown secret \(name)")
                }
                values[name] = value
            }
            let quote = Quote(at: range.lowerBound, in: template, anywhere: escape == .shell)
            out += template[copied..<range.lowerBound]
            do {
                out += try written(values[name]!, escape: escape, quote: quote, syntax: syntax)
            } catch let reason as Refusal {
                throw CofferError.malformedInput(path: path, line: line, reason: "secret \(name): \(reason.text)")
            }
            copied = range.upperBound
        }
        out += template[copied...]
        return out
    }

    /// The names referenced in `template`, each once, in order of first appearance.
    /// (Up to the first unsupported `secret(` expression.)
    public static func referencedNames(in template: [UInt8]) -> [String] {
        var seen: Set<String> = []
        var names: [String] = []
        try? forEachReference(in: template, path: "") { _, name, _ in
            if seen.insert(name).inserted {
                names.append(name)
            }
        }
        return names
    }

    /// Calls `body` with the byte range, name and 1-based line of each reference, in order;
    /// throws for a `{{ ... }}` expression that calls `secret(` in any other form.
    private static func forEachReference(
        in template: [UInt8], path: String, _ body: (Range<Int>, String, Int) throws -> Void
    ) throws {
        var line = 1
        var index = 0
        while index < template.count {
            if template[index] == UInt8(ascii: "\n") {
                line += 1
            } else if let (end, name) = reference(in: template, at: index) {
                try body(index..<end, name, line)
                index = end
                continue
            } else if callsSecret(expressionAt: index, in: template) {
                throw CofferError.malformedInput(
                    path: path, line: line,
                    reason: "this secret() form is not supported: write {{ secret('NAME') }} alone (no filters, no - trimming, one argument)")
            }
            index += 1
        }
    }

    /// Whether a `{{` at `start` opens an expression (up to `}}` or the end of the line) that
    /// calls `secret(`.
    private static func callsSecret(expressionAt start: Int, in template: [UInt8]) -> Bool {
        guard start + 1 < template.count, template[start] == UInt8(ascii: "{"), template[start + 1] == UInt8(ascii: "{") else {
            return false
        }
        var index = start + 2
        // `{{{`: the expression opens one byte later, where it is checked.
        if index < template.count, template[index] == UInt8(ascii: "{") { return false }
        while index < template.count, template[index] != UInt8(ascii: "\n") {
            if template[index] == UInt8(ascii: "}"), index + 1 < template.count, template[index + 1] == UInt8(ascii: "}") { break }
            if template[index...].starts(with: "secret".utf8),
               index == 0 || !isIdentifierByte(template[index - 1]) {
                var after = index + 6
                while after < template.count, template[after] == UInt8(ascii: " ") || template[after] == UInt8(ascii: "\t") { after += 1 }
                if after < template.count, template[after] == UInt8(ascii: "(") { return true }
            }
            index += 1
        }
        return false
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "."):
            true
        default: false
        }
    }

    /// The end index and name of a reference starting at `start`, if one does.
    private static func reference(in template: [UInt8], at start: Int) -> (end: Int, name: String)? {
        var index = start
        func skipBlanks() {
            while index < template.count, template[index] == UInt8(ascii: " ") || template[index] == UInt8(ascii: "\t") {
                index += 1
            }
        }
        func expect(_ literal: String) -> Bool {
            for byte in literal.utf8 {
                guard index < template.count, template[index] == byte else { return false }
                index += 1
            }
            return true
        }
        guard template[index] == UInt8(ascii: "{"), expect("{{") else { return nil }
        skipBlanks()
        guard expect("secret") else { return nil }
        skipBlanks()
        guard expect("(") else { return nil }
        skipBlanks()
        guard index < template.count,
              template[index] == UInt8(ascii: "'") || template[index] == UInt8(ascii: "\"")
        else { return nil }
        let quote = template[index]
        index += 1
        let nameStart = index
        while index < template.count, template[index] != quote, template[index] != UInt8(ascii: "\n") {
            index += 1
        }
        guard index < template.count, template[index] == quote else { return nil }
        let name = String(decoding: template[nameStart..<index], as: UTF8.self)
        index += 1
        skipBlanks()
        guard expect(")") else { return nil }
        skipBlanks()
        guard expect("}}") else { return nil }
        return (index, name)
    }
}

// MARK: Escaping

extension TemplateRenderer {
    /// The file type a template's name says, for the quoting check of `Escape.none`.
    enum Syntax {
        case yaml, json, other

        init(path: String) {
            let lowered = path.lowercased()
            if lowered.hasSuffix(".yml") || lowered.hasSuffix(".yaml") {
                self = .yaml
            } else if lowered.hasSuffix(".json") {
                self = .json
            } else {
                self = .other
            }
        }
    }

    /// The quotes a reference stands in, from its line up to it. In YAML and JSON a quote opens
    /// a string only where a value starts (line start, after a blank, `:`, `,`, `[`, `{` or
    /// `-`); in a shell word (`anywhere`) at any place.
    enum Quote {
        case double, single, bare

        init(at position: Int, in template: [UInt8], anywhere: Bool) {
            var start = position
            while start > 0, template[start - 1] != UInt8(ascii: "\n") { start -= 1 }
            var state = Quote.bare
            var index = start
            while index < position {
                let byte = template[index]
                switch state {
                case .double:
                    if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "\"") { state = .bare }
                case .single:
                    if byte == UInt8(ascii: "'") { state = .bare }
                case .bare:
                    let opens = anywhere || index == start || " \t:,[{-".utf8.contains(template[index - 1])
                    if opens && byte == UInt8(ascii: "\"") { state = .double }
                    if opens && byte == UInt8(ascii: "'") { state = .single }
                }
                index += 1
            }
            self = state
        }
    }

    struct Refusal: Error {
        let text: String
    }

    /// `value` as `escape` writes it where `quote` opens; a value that cannot be written there
    /// safely is a `Refusal`.
    static func written(_ value: [UInt8], escape: Escape, quote: Quote, syntax: Syntax) throws -> [UInt8] {
        switch escape {
        case .none:
            if let problem = brokenQuoting(value, quote: quote, syntax: syntax) {
                throw Refusal(text: "its value \(problem); choose --escape yaml or json, or --escape none in a file not named .yml/.yaml/.json")
            }
            return value
        case .json, .yaml:
            guard String(validating: value, as: UTF8.self) != nil else {
                throw Refusal(text: "its value is not UTF-8 text, which \(escape.rawValue) cannot hold")
            }
            switch quote {
            case .double: return doubleQuotedEscapes(value)
            case .bare: return [UInt8(ascii: "\"")] + doubleQuotedEscapes(value) + [UInt8(ascii: "\"")]
            case .single:
                guard escape == .yaml else { throw Refusal(text: "JSON has no single-quoted strings") }
                guard !value.contains(where: { $0 < 0x20 }) else {
                    throw Refusal(text: "its value holds a line break or control character, which single quotes cannot hold; use double quotes")
                }
                return value.flatMap { $0 == UInt8(ascii: "'") ? [$0, $0] : [$0] }
            }
        case .shell:
            switch quote {
            case .single: return shellSingleQuoted(value)
            case .bare: return [UInt8(ascii: "'")] + shellSingleQuoted(value) + [UInt8(ascii: "'")]
            case .double:
                return value.flatMap { byte -> [UInt8] in
                    "$`\"\\".utf8.contains(byte) ? [UInt8(ascii: "\\"), byte] : [byte]
                }
            }
        }
    }

    /// Why `value`, inserted raw, would end or bend the quoting around it in a YAML or JSON
    /// file; nil when it is safe (or the file is neither).
    static func brokenQuoting(_ value: [UInt8], quote: Quote, syntax: Syntax) -> String? {
        guard syntax != .other else { return nil }
        switch quote {
        case .double:
            if value.contains(UInt8(ascii: "\"")) || value.contains(UInt8(ascii: "\\")) { return "holds \" or \\" }
            if value.contains(where: { $0 < 0x20 }) { return "holds a line break or control character" }
        case .single where syntax == .yaml:
            if value.contains(UInt8(ascii: "'")) { return "holds '" }
            if value.contains(where: { $0 < 0x20 }) { return "holds a line break or control character" }
        case .single, .bare:
            if syntax == .yaml, value.contains(where: { $0 == 0x0A || $0 == 0x0D }) { return "holds a line break" }
        }
        return nil
    }

    /// JSON's string escapes (which YAML's double-quoted scalars share) for `"`, `\` and controls.
    static func doubleQuotedEscapes(_ value: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(value.count)
        for byte in value {
            switch byte {
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
            case 0x0A: out += Array(#"\n"#.utf8)
            case 0x0D: out += Array(#"\r"#.utf8)
            case 0x09: out += Array(#"\t"#.utf8)
            case ..<0x20, 0x7F:
                let hex = String(byte, radix: 16)
                out += Array(("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            default: out.append(byte)
            }
        }
        return out
    }

    /// Inside POSIX single quotes: each `'` becomes `'\''`.
    static func shellSingleQuoted(_ value: [UInt8]) -> [UInt8] {
        value.flatMap { $0 == UInt8(ascii: "'") ? Array("'\\''".utf8) : [$0] }
    }
}
