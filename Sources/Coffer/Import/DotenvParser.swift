/// Reads a `.env` file the way python-dotenv's `dotenv_values(path, interpolate=False)` does,
/// except that anything python-dotenv would skip or read as None is an error here, and so is a
/// name given twice. `$` is always literal.
struct DotenvParser {
    private let path: String
    private let text: [Unicode.Scalar]
    private var index = 0
    private var line = 1

    /// Drops a leading byte order mark and turns CRLF and lone CR into LF, as Python's text mode does.
    init(_ scalars: [Unicode.Scalar], path: String) {
        var text: [Unicode.Scalar] = []
        text.reserveCapacity(scalars.count)
        var previous: Unicode.Scalar?
        for scalar in scalars.first == "\u{FEFF}" ? scalars.dropFirst() : scalars[...] {
            defer { previous = scalar }
            if scalar == "\n" && previous == "\r" { continue }
            text.append(scalar == "\r" ? "\n" : scalar)
        }
        self.text = text
        self.path = path
    }

    mutating func parse() throws -> [ImportedSecret] {
        var secrets: [ImportedSecret] = []
        var lineOfName: [String: Int] = [:]
        while let secret = try nextBinding() {
            if let first = lineOfName[secret.name] {
                throw failure("\(secret.name) defined on lines \(first) and \(secret.line)", line: secret.line)
            }
            lineOfName[secret.name] = secret.line
            secrets.append(secret)
        }
        return secrets
    }

    /// Python's whitespace (`str.isspace`): Unicode White_Space plus the separators U+001C...U+001F.
    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || ("\u{1C}"..."\u{1F}").contains(scalar)
    }

    /// Whitespace that does not end a line.
    private static func isBlank(_ scalar: Unicode.Scalar) -> Bool {
        scalar != "\n" && isSpace(scalar)
    }

    private var peek: Unicode.Scalar? { index < text.count ? text[index] : nil }

    private func failure(_ reason: String, line: Int) -> CofferError {
        .malformedInput(path: path, line: line, reason: reason)
    }

    private mutating func next() -> Unicode.Scalar? {
        guard let scalar = peek else { return nil }
        index += 1
        if scalar == "\n" { line += 1 }
        return scalar
    }

    /// Skips scalars matching `predicate`; returns whether it skipped any.
    @discardableResult
    private mutating func skip(while predicate: (Unicode.Scalar) -> Bool) -> Bool {
        let start = index
        while let scalar = peek, predicate(scalar) { _ = next() }
        return index > start
    }

    private mutating func read(while predicate: (Unicode.Scalar) -> Bool) -> [Unicode.Scalar] {
        let start = index
        skip(while: predicate)
        return Array(text[start..<index])
    }

    /// Skips `export` when blanks follow it; `export=1` names a variable `export`.
    private mutating func skipExport() {
        let word = "export".unicodeScalars
        let after = index + word.count
        guard text[index...].starts(with: word), after < text.count, Self.isBlank(text[after]) else { return }
        index = after
        skip(while: Self.isBlank)
    }

    /// Reads the next binding, skipping blank lines and comments; nil at the end of the file.
    private mutating func nextBinding() throws -> ImportedSecret? {
        while true {
            skip(while: Self.isSpace)
            guard peek != nil else { return nil }
            skipExport()
            if peek == "#" {
                skip(while: { $0 != "\n" })
                continue
            }
            let nameLine = line
            let name = try readName()
            skip(while: Self.isBlank)
            guard next() == "=" else {
                throw failure("expected NAME=value; this line has no '=' (write NAME= for an empty value)", line: nameLine)
            }
            let spaced = skip(while: Self.isBlank)
            let value: [Unicode.Scalar]
            if spaced && peek == "#" {
                value = []
            } else {
                value = try readValue(name: name, line: nameLine)
            }
            try endLine(name: name)
            var bytes: [UInt8] = []
            for scalar in value { UTF8.encode(scalar) { bytes.append($0) } }
            return ImportedSecret(name: string(name), value: bytes, line: nameLine)
        }
    }

    /// An unquoted name runs up to whitespace, `=` or `#`; a single-quoted one is taken literally.
    private mutating func readName() throws -> [Unicode.Scalar] {
        let nameLine = line
        if peek == "'" {
            _ = next()
            let name = read(while: { $0 != "'" })
            guard next() == "'", !name.isEmpty else {
                throw failure("a quoted name is empty or has no closing quote", line: nameLine)
            }
            return name
        }
        let name = read(while: { $0 != "=" && $0 != "#" && !Self.isSpace($0) })
        guard !name.isEmpty else { throw failure("expected a NAME at the start of the line", line: nameLine) }
        return name
    }

    private mutating func readValue(name: [Unicode.Scalar], line nameLine: Int) throws -> [Unicode.Scalar] {
        switch peek {
        case "'":
            return try readQuoted(name: name, line: nameLine, escapes: ["\\": "\\", "'": "'"])
        case "\"":
            return try readQuoted(name: name, line: nameLine, escapes: [
                "\\": "\\", "'": "'", "\"": "\"", "a": "\u{7}", "b": "\u{8}",
                "f": "\u{C}", "n": "\n", "r": "\r", "t": "\t", "v": "\u{B}",
            ])
        default:
            return unquotedValue(read(while: { $0 != "\n" }))
        }
    }

    /// Reads a quoted value, which may span lines. A backslash always takes the next scalar with it;
    /// the pair becomes the character `escapes` gives, or stays as written.
    private mutating func readQuoted(
        name: [Unicode.Scalar], line nameLine: Int, escapes: [Unicode.Scalar: Unicode.Scalar]
    ) throws -> [Unicode.Scalar] {
        let quote = next()
        var value: [Unicode.Scalar] = []
        while true {
            guard let scalar = next() else {
                throw failure("the quoted value of \(string(name)) has no closing quote", line: nameLine)
            }
            if scalar == quote { return value }
            guard scalar == "\\" else {
                value.append(scalar)
                continue
            }
            guard let escaped = next() else {
                throw failure("the quoted value of \(string(name)) has no closing quote", line: nameLine)
            }
            if let decoded = escapes[escaped] {
                value.append(decoded)
            } else {
                value += ["\\", escaped]
            }
        }
    }

    /// Cuts an inline comment (whitespace then `#`) and trailing whitespace off an unquoted value.
    private func unquotedValue(_ raw: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var end = raw.count
        if let hash = raw.indices.first(where: { $0 > 0 && raw[$0] == "#" && Self.isSpace(raw[$0 - 1]) }) {
            end = hash
        }
        while end > 0 && Self.isSpace(raw[end - 1]) { end -= 1 }
        return Array(raw[..<end])
    }

    /// After a value only whitespace and a `#` comment may follow before the line ends.
    private mutating func endLine(name: [Unicode.Scalar]) throws {
        skip(while: Self.isBlank)
        if peek == "#" { skip(while: { $0 != "\n" }) }
        guard peek == nil || next() == "\n" else {
            throw failure("unexpected text after the value of \(string(name))", line: line)
        }
    }

    private func string(_ scalars: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
