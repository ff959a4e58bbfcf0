/// Reads the YAML that secrets files are written in into an `ImportTree`: one document of block
/// and flow maps and lists; plain, quoted and block scalars (`|`, `>`); anchors, aliases and
/// merge keys (`<<`); tags `!!str` and `!!null`. Explicit `?` keys, directives and several
/// documents are refused. Every error names its line, and none quotes a value.
struct YAMLParser {
    /// A parsed node; lists keep their items only so that `<<` can merge a list of maps.
    private indirect enum Node {
        case map([ImportTree.Entry])
        case text(String)
        case null
        case list([Node])

        var tree: ImportTree {
            switch self {
            case .map(let entries): .map(entries)
            case .text(let text): .text(text)
            case .null: .null
            case .list: .list
            }
        }
    }

    /// Where a node sits: a map's value, a list's item, or the whole document.
    private enum Context { case mapValue, listItem, document }

    private let path: String
    /// The document, line breaks (CR LF, CR) turned into LF.
    private let text: [Unicode.Scalar]
    private var index = 0
    private var line = 1
    private var lineStart = 0
    private var anchors: [String: (node: Node, values: Int)] = [:]
    /// Scalars produced so far, counting each alias at its full size.
    private var values = 0
    private var depth = 0
    /// The tag of the node being read, until a scalar takes it (`!!str` keeps `null` as text).
    private var pendingTag: String?

    /// Aliases may not expand the document beyond this many values ("billion laughs").
    private static let maxValues = 1_000_000
    private static let maxDepth = 256

    init(_ scalars: [Unicode.Scalar], path: String) {
        var text: [Unicode.Scalar] = []
        text.reserveCapacity(scalars.count)
        var iterator = scalars.drop { $0 == "\u{FEFF}" }.makeIterator()
        var previous: Unicode.Scalar?
        while let scalar = iterator.next() {
            if scalar == "\r" {
                text.append("\n")
            } else if !(scalar == "\n" && previous == "\r") {
                text.append(scalar)
            }
            previous = scalar
        }
        self.text = text
        self.path = path
    }

    /// The document's value and the line where it starts; nil for a document with no value.
    mutating func parse() throws -> (ImportTree, line: Int)? {
        guard var column = try nextContent() else { return nil }
        // Directives (%YAML, %TAG) change nothing this reader does; a document marker must follow.
        var directives = false
        while column == 0 && peek == "%" {
            while !Self.isBreakOrEnd(peek) { advance() }
            directives = true
            guard let next = try nextContent() else { throw failure("a directive must be followed by '---'") }
            column = next
        }
        if directives && !atDocumentMarker("-") { throw failure("a directive must be followed by '---'") }
        if atDocumentMarker("-") {
            advance(by: 3)
            // An explicit document with nothing in it holds null.
            guard let next = try nextContent() else { return (.null, line) }
            column = next
        }
        let start = line
        let node = try blockNode(parentIndent: -1, column: column, context: .document)
        while try nextContent() != nil {
            guard atDocumentMarker(".") else {
                throw failure(atDocumentMarker("-") ? "only one document per file is supported" : "unexpected text")
            }
            advance(by: 3)
        }
        return (node.tree, start)
    }

    // MARK: Reading

    private var peek: Unicode.Scalar? { index < text.count ? text[index] : nil }
    private func peek(_ offset: Int) -> Unicode.Scalar? { index + offset < text.count ? text[index + offset] : nil }
    private var column: Int { index - lineStart }

    private func failure(_ reason: String, line: Int? = nil) -> CofferError {
        .malformedInput(path: path, line: line ?? self.line, reason: "invalid YAML: \(reason)")
    }

    private mutating func advance() {
        guard let scalar = peek else { return }
        index += 1
        if scalar == "\n" {
            line += 1
            lineStart = index
        }
    }

    private mutating func advance(by count: Int) {
        for _ in 0..<count { advance() }
    }

    private static func isBlank(_ scalar: Unicode.Scalar?) -> Bool { scalar == " " || scalar == "\t" }
    private static func isBreakOrEnd(_ scalar: Unicode.Scalar?) -> Bool { scalar == nil || scalar == "\n" }
    private static func isSpaceOrEnd(_ scalar: Unicode.Scalar?) -> Bool { isBlank(scalar) || isBreakOrEnd(scalar) }
    private static func isFlowIndicator(_ scalar: Unicode.Scalar?) -> Bool {
        scalar == "," || scalar == "[" || scalar == "]" || scalar == "{" || scalar == "}"
    }

    /// `---` (marker `-`) or `...` (marker `.`) at the start of a line, alone or followed by a blank.
    private func atDocumentMarker(_ marker: Unicode.Scalar) -> Bool {
        column == 0 && peek == marker && peek(1) == marker && peek(2) == marker && Self.isSpaceOrEnd(peek(3))
    }

    private var atDocumentBoundary: Bool { atDocumentMarker("-") || atDocumentMarker(".") }

    /// `-` followed by a space or a line break: a block list item.
    private var atListItem: Bool { peek == "-" && Self.isSpaceOrEnd(peek(1)) }

    private mutating func skipBlanks() {
        while Self.isBlank(peek) { advance() }
    }

    /// Skips a comment (`#` at the start of a line or after a blank) up to the line break.
    private mutating func skipComment() {
        guard peek == "#", index == lineStart || Self.isSpaceOrEnd(text[index - 1]) else { return }
        while !Self.isBreakOrEnd(peek) { advance() }
    }

    /// Finishes the current line (only blanks and a comment may follow) and skips empty and
    /// comment lines. Stops at the first character of the next line with content and returns its
    /// column, or nil at the end of the document.
    private mutating func nextContent() throws -> Int? {
        if text[lineStart..<index].contains(where: { $0 != " " }) {
            skipBlanks()
            skipComment()
            guard Self.isBreakOrEnd(peek) else { throw failure("unexpected text after a value") }
        }
        while true {
            while peek == " " { advance() }
            if peek == "\t" {
                skipBlanks()
                skipComment()
                guard Self.isBreakOrEnd(peek) else { throw failure("tabs cannot indent YAML") }
            }
            skipComment()
            guard let scalar = peek else { return nil }
            if scalar != "\n" { return column }
            advance()
        }
    }

    // MARK: Block structure

    /// The node whose first character is at `column` on the current line.
    private mutating func blockNode(parentIndent: Int, column: Int, context: Context) throws -> Node {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw failure("nested too deeply") }
        if atListItem { return try blockList(column: column) }
        if peek == "?" && Self.isSpaceOrEnd(peek(1)) { throw failure("explicit keys (?) are not supported") }
        if try startsMapEntry() { return try blockMap(column: column) }
        return try value(parentIndent: parentIndent, context: context)
    }

    /// Whether the current line, from here, reads `key:` followed by a blank or a line break.
    private mutating func startsMapEntry() throws -> Bool {
        let saved = (index, line, lineStart)
        defer { (index, line, lineStart) = saved }
        switch peek {
        case "\"", "'":
            _ = try quoted()
        case "[", "{", "*", "&", "!", "|", ">", "#", "@", "`", "%":
            return false
        default:
            while !Self.isBreakOrEnd(peek) {
                if peek == ":" && Self.isSpaceOrEnd(peek(1)) { return true }
                if peek == "#" && Self.isBlank(text[index - 1]) { return false }
                advance()
            }
            return false
        }
        skipBlanks()
        return peek == ":" && Self.isSpaceOrEnd(peek(1))
    }

    private mutating func blockMap(column: Int) throws -> Node {
        var builder = MapBuilder()
        while true {
            let keyLine = line
            if atListItem { throw failure("a list item where a key was expected") }
            if peek == "?" && Self.isSpaceOrEnd(peek(1)) { throw failure("explicit keys (?) are not supported") }
            let (key, isMerge) = try blockKey()
            advance()
            let node = try mapValue(keyIndent: column)
            try builder.add(key: key, isMerge: isMerge, line: keyLine, value: node, parser: self)
            guard let next = try nextContent(), next >= column, !atDocumentBoundary else { break }
            guard next == column else { throw failure("this line is indented more than the key before it") }
        }
        return .map(builder.entries)
    }

    /// A key on a block map's line, up to (not including) its `:`.
    private mutating func blockKey() throws -> (String, isMerge: Bool) {
        switch peek {
        case "\"", "'":
            let key = try quoted()
            skipBlanks()
            guard peek == ":" && Self.isSpaceOrEnd(peek(1)) else { throw failure("expected ': ' after a key") }
            return (key, false)
        case "[", "{":
            throw failure("a key must be a single value, not a map or list")
        case "&", "!", "*":
            throw failure("anchors, tags and aliases on keys are not supported")
        default:
            var key = String.UnicodeScalarView()
            while !(peek == ":" && Self.isSpaceOrEnd(peek(1))) {
                guard let scalar = peek, scalar != "\n" else { throw failure("expected 'name: value'") }
                key.append(scalar)
                advance()
            }
            let trimmed = String(key).trimmingCharacters()
            return (trimmed, trimmed == "<<")
        }
    }

    /// The value after `key:`: on the same line, on the lines below (more indented, or a list at
    /// the key's own indentation), or none (null).
    private mutating func mapValue(keyIndent: Int) throws -> Node {
        try withProperties { parser in
            parser.skipBlanks()
            parser.skipComment()
            guard Self.isBreakOrEnd(parser.peek) else { return try parser.value(parentIndent: keyIndent, context: .mapValue) }
            let saved = (parser.index, parser.line, parser.lineStart)
            guard let next = try parser.nextContent() else { return parser.null() }
            if next > keyIndent || (next == keyIndent && parser.atListItem) {
                return try parser.blockNode(parentIndent: keyIndent, column: next, context: .mapValue)
            }
            (parser.index, parser.line, parser.lineStart) = saved
            return parser.null()
        }
    }

    private mutating func blockList(column: Int) throws -> Node {
        var items: [Node] = []
        while true {
            advance()
            let item = try withProperties { parser in
                parser.skipBlanks()
                parser.skipComment()
                if Self.isBreakOrEnd(parser.peek) {
                    let saved = (parser.index, parser.line, parser.lineStart)
                    if let next = try parser.nextContent(), next > column {
                        return try parser.blockNode(parentIndent: column, column: next, context: .listItem)
                    }
                    (parser.index, parser.line, parser.lineStart) = saved
                    return parser.null()
                }
                return try parser.blockNode(parentIndent: column, column: parser.column, context: .listItem)
            }
            items.append(item)
            guard let next = try nextContent(), next >= column, atListItem || next > column else { break }
            guard next == column else { throw failure("this line is indented more than the list item before it") }
        }
        return .list(items)
    }

    /// Parses optional `&anchor` and `!tag` before a node, then the node; applies both.
    private mutating func withProperties(_ parse: (inout YAMLParser) throws -> Node) throws -> Node {
        skipBlanks()
        var anchor: String?
        var tag: String?
        while peek == "&" || peek == "!" {
            let isAnchor = peek == "&"
            let propertyLine = line
            advance()
            var name = String.UnicodeScalarView()
            while let scalar = peek, !Self.isSpaceOrEnd(scalar), !Self.isFlowIndicator(scalar) {
                name.append(scalar)
                advance()
            }
            if isAnchor {
                guard !name.isEmpty else { throw failure("an anchor needs a name", line: propertyLine) }
                anchor = String(name)
            } else {
                tag = String(name)
            }
            skipBlanks()
        }
        let before = values
        pendingTag = tag
        var node = try parse(&self)
        pendingTag = nil
        if case .null = node, Self.isStringTag(tag) { node = .text("") }
        if tag == "!null" || tag == "<tag:yaml.org,2002:null>" { node = .null }
        if let anchor { anchors[anchor] = (node, values - before) }
        return node
    }

    /// A value that starts on the current line: an alias, a flow collection, a quoted, block or
    /// plain scalar.
    private mutating func value(parentIndent: Int, context: Context) throws -> Node {
        switch peek {
        case "*":
            return try alias()
        case "[", "{":
            return try flowNode()
        case "\"", "'":
            return try count(.text(quoted()))
        case "|", ">":
            return try count(.text(blockScalar(parentIndent: parentIndent)))
        case "@", "`", "%", ",", "]", "}":
            throw failure("a value cannot start with '\(peek!)'; quote it")
        case "-" where Self.isSpaceOrEnd(peek(1)):
            throw failure(context == .mapValue ? "a list must start on the line after its key" : "unexpected list item")
        case "?" where Self.isSpaceOrEnd(peek(1)):
            throw failure("explicit keys (?) are not supported")
        default:
            return try plain(parentIndent: parentIndent)
        }
    }

    private static func isStringTag(_ tag: String?) -> Bool { tag == "!str" || tag == "<tag:yaml.org,2002:str>" }

    /// Whether plain `text` is null: `~`, `null`, `Null`, `NULL` or nothing, unless tagged `!!str`.
    private mutating func isNull(_ text: String) -> Bool {
        defer { pendingTag = nil }
        return !Self.isStringTag(pendingTag) && ["", "~", "null", "Null", "NULL"].contains(text)
    }

    private mutating func null() -> Node {
        values += 1
        return .null
    }

    private mutating func count(_ node: Node) throws -> Node {
        values += 1
        guard values <= Self.maxValues else { throw failure("more than \(Self.maxValues) values") }
        return node
    }

    private mutating func alias() throws -> Node {
        advance()
        var name = String.UnicodeScalarView()
        while let scalar = peek, !Self.isSpaceOrEnd(scalar), !Self.isFlowIndicator(scalar) {
            name.append(scalar)
            advance()
        }
        guard let anchored = anchors[String(name)] else { throw failure("unknown alias *\(String(name))") }
        values += anchored.values
        guard values <= Self.maxValues else { throw failure("aliases expand to more than \(Self.maxValues) values") }
        return anchored.node
    }

    // MARK: Scalars

    /// A plain scalar in block context; lines below that are indented more than `parentIndent`
    /// continue it (one line break becomes a space, each empty line a line break).
    private mutating func plain(parentIndent: Int) throws -> Node {
        var result = try plainLine()
        let isNull = isNull(result)
        var continued = false
        while true {
            let saved = (index, line, lineStart)
            var breaks = 0
            while !Self.isBreakOrEnd(peek) && Self.isBlank(peek) { advance() }
            guard peek == "\n" else { break }
            advance()
            while true {
                while peek == " " { advance() }
                if peek == "\t" {
                    skipBlanks()
                    guard Self.isBreakOrEnd(peek) || peek == "#" else { throw failure("tabs cannot indent YAML") }
                }
                guard peek == "\n" else { break }
                breaks += 1
                advance()
            }
            guard peek != nil, peek != "#", column > parentIndent, !atDocumentBoundary else {
                (index, line, lineStart) = saved
                break
            }
            let segment = try plainLine()
            result += breaks == 0 ? " " : String(repeating: "\n", count: breaks)
            result += segment
            continued = true
        }
        return try count(isNull && !continued ? .null : .text(result))
    }

    /// The rest of a plain scalar's line: up to a comment or the line break, blanks trimmed.
    private mutating func plainLine() throws -> String {
        var text = TrimmedText()
        while let scalar = peek, scalar != "\n" {
            if scalar == ":" && Self.isSpaceOrEnd(peek(1)) { throw failure("a ': ' inside a value; quote the value") }
            if scalar == "#" && text.hasPendingBlanks { break }
            text.append(scalar)
            advance()
        }
        return text.string
    }

    /// A single- or double-quoted scalar, which may span lines (folded as in plain scalars).
    private mutating func quoted() throws -> String {
        let quote = peek!
        let startLine = line
        advance()
        var text = TrimmedText()
        while true {
            guard let scalar = peek else {
                throw failure("a value quoted on line \(startLine) is not closed")
            }
            if scalar == quote {
                if quote == "'" && peek(1) == "'" {
                    text.appendVerbatim("'")
                    advance(by: 2)
                    continue
                }
                advance()
                text.keepBlanks()
                return text.string
            }
            if scalar == "\n" {
                text.dropBlanks()
                advance()
                var breaks = 0
                while true {
                    while Self.isBlank(peek) { advance() }
                    guard peek == "\n" else { break }
                    breaks += 1
                    advance()
                }
                if atDocumentBoundary {
                    throw failure("a value quoted on line \(startLine) is not closed")
                }
                text.appendVerbatim(breaks == 0 ? " " : String(repeating: "\n", count: breaks))
                continue
            }
            if quote == "\"" && scalar == "\\" {
                if let escaped = try escape() { text.appendVerbatim(String(escaped)) } else { text.keepBlanks() }
                continue
            }
            text.append(scalar)
            advance()
        }
    }

    /// One escape in a double-quoted scalar, the backslash at `index`: the character it stands
    /// for, or nil for an escaped line break (which joins the lines).
    private mutating func escape() throws -> Unicode.Scalar? {
        advance()
        guard let code = peek else { throw failure("a quoted value is not closed") }
        advance()
        let simple: [Unicode.Scalar: Unicode.Scalar] = [
            "0": "\0", "a": "\u{07}", "b": "\u{08}", "t": "\t", "\t": "\t", "n": "\n", "v": "\u{0B}", "f": "\u{0C}",
            "r": "\r", "e": "\u{1B}", " ": " ", "\"": "\"", "/": "/", "\\": "\\", "N": "\u{85}", "_": "\u{A0}",
            "L": "\u{2028}", "P": "\u{2029}",
        ]
        if let replacement = simple[code] { return replacement }
        switch code {
        case "\n":
            while Self.isBlank(peek) { advance() }
            return nil
        case "x", "u", "U":
            let digits = code == "x" ? 2 : code == "u" ? 4 : 8
            var value: UInt32 = 0
            for _ in 0..<digits {
                guard let digit = peek, digit.isASCII, let nibble = UInt32(String(digit), radix: 16) else {
                    throw failure("invalid escape in a quoted value")
                }
                value = value << 4 | nibble
                advance()
            }
            guard let scalar = Unicode.Scalar(value) else { throw failure("invalid escape in a quoted value") }
            return scalar
        default:
            throw failure("invalid escape in a quoted value")
        }
    }

    /// A literal (`|`) or folded (`>`) block scalar, its header at `index`.
    private mutating func blockScalar(parentIndent: Int) throws -> String {
        let folded = peek == ">"
        advance()
        var chomping: Unicode.Scalar = " "
        var explicitIndent: Int?
        for _ in 0..<2 {
            if let scalar = peek, scalar == "+" || scalar == "-", chomping == " " {
                chomping = scalar
                advance()
            } else if let scalar = peek, ("1"..."9").contains(scalar), explicitIndent == nil {
                explicitIndent = Int(scalar.value - 48)
                advance()
            }
        }
        skipBlanks()
        skipComment()
        guard Self.isBreakOrEnd(peek) else { throw failure("unexpected text after a block scalar's '|' or '>'") }
        advance()

        var indent = explicitIndent.map { max(parentIndent, 0) + $0 }
        var lines: [String.UnicodeScalarView] = []
        var endsWithBreak = false
        var leadingSpaces = 0
        while peek != nil {
            let saved = (index, line, lineStart)
            var spaces = 0
            while peek == " " && (indent == nil || spaces < indent!) {
                spaces += 1
                advance()
            }
            if indent == nil && Self.isBreakOrEnd(peek) { leadingSpaces = max(leadingSpaces, spaces) }
            if !Self.isBreakOrEnd(peek) {
                // Detected as libyaml does: the deepest of the leading empty lines and the first text.
                if indent == nil { indent = max(spaces, leadingSpaces, parentIndent + 1, 1) }
                guard let indent, spaces >= indent, !atDocumentBoundary else {
                    (index, line, lineStart) = saved
                    break
                }
            }
            var content = String.UnicodeScalarView()
            while let scalar = peek, scalar != "\n" {
                content.append(scalar)
                advance()
            }
            lines.append(content)
            endsWithBreak = peek == "\n"
            advance()
        }

        // Between two lines with content: literal keeps every line break; folded turns one break
        // between two unindented lines into a space and keeps the breaks of empty lines.
        var result = String.UnicodeScalarView()
        var previousFoldable: Bool?
        var emptyLines = 0
        for content in lines {
            if content.isEmpty {
                emptyLines += 1
                continue
            }
            let foldable = folded && !Self.isBlank(content.first)
            if let previousFoldable {
                let breaks = previousFoldable && foldable ? emptyLines : emptyLines + 1
                result.append(contentsOf: (breaks == 0 ? " " : String(repeating: "\n", count: breaks)).unicodeScalars)
            } else {
                result.append(contentsOf: String(repeating: "\n", count: emptyLines).unicodeScalars)
            }
            result.append(contentsOf: content)
            previousFoldable = foldable
            emptyLines = 0
        }
        // Chomping: clip keeps the final line break, strip (-) drops it, keep (+) keeps the empty lines too.
        let finalBreak = previousFoldable != nil && (endsWithBreak || emptyLines > 0)
        switch chomping {
        case "-":
            break
        case "+":
            let breaks = previousFoldable == nil ? max(emptyLines - (endsWithBreak ? 0 : 1), 0) : emptyLines + (endsWithBreak ? 1 : 0)
            result.append(contentsOf: String(repeating: "\n", count: breaks).unicodeScalars)
        default:
            if finalBreak { result.append("\n") }
        }
        return String(result)
    }

    // MARK: Flow collections

    private mutating func skipFlowSpace() throws {
        while true {
            skipBlanks()
            skipComment()
            guard peek == "\n" else { return }
            advance()
            if atDocumentBoundary { throw failure("a '[' or '{' is not closed before the document ends") }
        }
    }

    /// A node inside `[...]` or `{...}`, or the collection a block value starts with.
    private mutating func flowNode() throws -> Node {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw failure("nested too deeply") }
        try skipFlowSpace()
        return try withProperties { parser in
            try parser.skipFlowSpace()
            switch parser.peek {
            case "[": return try parser.flowList()
            case "{": return try parser.flowMap()
            case "*": return try parser.alias()
            case "\"", "'": return try parser.count(.text(parser.quoted()))
            case ",", "]", "}", nil: return parser.null()
            case "|", ">", "@", "`", "%":
                throw parser.failure("a value in '[...]' or '{...}' cannot start with '\(parser.peek!)'; quote it")
            case "-" where Self.isSpaceOrEnd(parser.peek(1)):
                throw parser.failure("a value in '[...]' or '{...}' cannot start with '- '; quote it")
            default:
                let text = try parser.flowPlain()
                return try parser.count(parser.isNull(text) ? .null : .text(text))
            }
        }
    }

    /// A plain scalar inside a flow collection: up to `,`, a bracket, `: ` or a comment. Line
    /// breaks inside a value fold as in block context; a key is one line.
    private mutating func flowPlain(isKey: Bool = false) throws -> String {
        var text = TrimmedText()
        func endsHere(_ parser: YAMLParser) -> Bool {
            guard let scalar = parser.peek else { return true }
            return Self.isFlowIndicator(scalar) || (scalar == ":" && (Self.isSpaceOrEnd(parser.peek(1)) || Self.isFlowIndicator(parser.peek(1))))
        }
        while !endsHere(self), let scalar = peek {
            if scalar == "#" && (text.hasPendingBlanks || index == lineStart) { break }
            if scalar == "\n" {
                let saved = (index, line, lineStart)
                var breaks = 0
                while peek == "\n" {
                    breaks += 1
                    advance()
                    skipBlanks()
                }
                guard !isKey, !endsHere(self), peek != "#", !atDocumentBoundary, !text.isEmpty else {
                    (index, line, lineStart) = saved
                    break
                }
                text.dropBlanks()
                text.appendVerbatim(breaks == 1 ? " " : String(repeating: "\n", count: breaks - 1))
                continue
            }
            text.append(scalar)
            advance()
        }
        if peek == ":" && Self.isFlowIndicator(peek(1)) { throw failure("a ':' must be followed by a space") }
        return text.string
    }

    private mutating func flowList() throws -> Node {
        advance()
        var items: [Node] = []
        while true {
            try skipFlowSpace()
            if peek == "]" {
                advance()
                return .list(items)
            }
            items.append(try flowNode())
            try skipFlowSpace()
            if peek == ":" { throw failure("a 'key: value' pair inside a list is not supported") }
            try endOfFlowItem(closing: "]")
        }
    }

    private mutating func flowMap() throws -> Node {
        advance()
        var builder = MapBuilder()
        while true {
            try skipFlowSpace()
            if peek == "}" {
                advance()
                return .map(builder.entries)
            }
            let keyLine = line
            let key: String
            var isMerge = false
            switch peek {
            case "\"", "'":
                key = try quoted()
            case "[", "{":
                throw failure("a key must be a single value, not a map or list")
            case "?":
                throw failure("explicit keys (?) are not supported")
            case "&", "!", "*":
                throw failure("anchors, tags and aliases on keys are not supported")
            default:
                key = try flowPlain(isKey: true)
                isMerge = key == "<<"
            }
            try skipFlowSpace()
            let node: Node
            if peek == ":" {
                advance()
                node = try flowNode()
            } else {
                node = null()
            }
            try builder.add(key: key, isMerge: isMerge, line: keyLine, value: node, parser: self)
            try skipFlowSpace()
            try endOfFlowItem(closing: "}")
        }
    }

    private mutating func endOfFlowItem(closing: Unicode.Scalar) throws {
        switch peek {
        case ",": advance()
        case closing: break
        case nil: throw failure("a '\(closing == "]" ? "[" : "{")' is not closed")
        default: throw failure("expected ',' or '\(closing)'")
        }
    }

    /// A scalar's text as it is read: blanks are held back until something follows them, so
    /// that those at the end of a line can be dropped.
    private struct TrimmedText {
        private var scalars = String.UnicodeScalarView()
        private var blanks = String.UnicodeScalarView()

        var hasPendingBlanks: Bool { !blanks.isEmpty }
        var isEmpty: Bool { scalars.isEmpty }
        var string: String { String(scalars) }

        mutating func append(_ scalar: Unicode.Scalar) {
            if YAMLParser.isBlank(scalar) {
                blanks.append(scalar)
            } else {
                keepBlanks()
                scalars.append(scalar)
            }
        }

        /// Appends `text` as it is (escapes, folded line breaks), after any blanks held back.
        mutating func appendVerbatim(_ text: String) {
            keepBlanks()
            scalars.append(contentsOf: text.unicodeScalars)
        }

        mutating func keepBlanks() {
            scalars.append(contentsOf: blanks)
            blanks.removeAll()
        }

        mutating func dropBlanks() { blanks.removeAll() }
    }

    // MARK: Maps

    /// A map's entries: its own keys in order, then keys merged in with `<<` that it lacks
    /// (earlier merged maps win over later ones).
    private struct MapBuilder {
        private var own: [ImportTree.Entry] = []
        private var merged: [ImportTree.Entry] = []
        private var lines: [String: Int] = [:]

        var entries: [ImportTree.Entry] {
            var taken = Set(own.map(\.key))
            return own + merged.filter { taken.insert($0.key).inserted }
        }

        mutating func add(key: String, isMerge: Bool, line: Int, value: Node, parser: YAMLParser) throws {
            if let first = lines[key] {
                throw parser.failure("duplicate key \(key) in one map (lines \(first) and \(line))", line: first)
            }
            lines[key] = line
            if isMerge {
                let sources: [Node]
                if case .list(let items) = value { sources = items } else { sources = [value] }
                for source in sources {
                    guard case .map(let entries) = source else {
                        throw parser.failure("'<<' must merge a map or a list of maps", line: line)
                    }
                    merged += entries
                }
                return
            }
            own.append(ImportTree.Entry(key: key, line: line, value: value.tree))
        }
    }
}
