internal import CYAML

/// Reads the YAML that secrets files are written in into an `ImportTree`, through libyaml's
/// event parser: one document of maps, lists and scalars, anchors, aliases and merge keys (`<<`);
/// tags `!!str` and `!!null` are honoured, others leave the text as written. Explicit `?` keys
/// and several documents are refused. Every error names its line, and none quotes a value
/// (libyaml's messages name what it expected, never the text it read).
struct YAMLReader {
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

    /// What import needs of one libyaml event, copied out so that the event can be freed at once.
    private struct Event {
        enum Kind {
            case streamStart, streamEnd, documentStart, documentEnd, sequenceStart, sequenceEnd, mappingStart, mappingEnd
            case alias(String)
            case scalar(String, tag: String?, plain: Bool)
        }

        var kind: Kind
        var anchor: String?
        /// 1-based.
        var line: Int
        /// libyaml's mark: characters (not bytes) from the start of the input.
        var characterIndex: Int
    }

    /// Aliases may not expand the document beyond this many values ("billion laughs").
    private static let maxValues = 1_000_000
    private static let maxDepth = 256
    private static let strTag = "tag:yaml.org,2002:str"
    private static let nullTag = "tag:yaml.org,2002:null"
    private static let mergeTag = "tag:yaml.org,2002:merge"

    private let path: String
    /// The input, without a byte order mark.
    private let bytes: [UInt8]
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private var anchors: [String: (node: Node, values: Int)] = [:]
    /// Scalars produced so far, counting each alias at its full size.
    private var values = 0
    private var depth = 0
    /// A character index and the byte where that character starts, moved forward from key to key.
    private var cursor = (character: 0, byte: 0)

    /// The document's value and the line where it starts; nil for a file with no document.
    /// `bytes` must be valid UTF-8.
    static func read(_ bytes: [UInt8], path: String) throws -> (ImportTree, line: Int)? {
        let text = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        guard !text.isEmpty else { return nil }
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else { throw CofferError.malformedInput(path: path, line: 1, reason: "out of memory") }
        defer { yaml_parser_delete(parser) }
        return try text.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
            var reader = YAMLReader(path: path, bytes: text, parser: parser)
            return try reader.document()
        }
    }

    private init(path: String, bytes: [UInt8], parser: UnsafeMutablePointer<yaml_parser_t>) {
        self.path = path
        self.bytes = bytes
        self.parser = parser
    }

    private mutating func document() throws -> (ImportTree, line: Int)? {
        _ = try next()  // the stream's start
        let start = try next()
        guard case .documentStart = start.kind else { return nil }
        let rootEvent = try next()
        let root = try node(rootEvent)
        _ = try next()  // the document's end
        let after = try next()
        if case .documentStart = after.kind { throw failure("only one document per file is supported", line: after.line) }
        return (root.tree, rootEvent.line)
    }

    // MARK: Events

    private func failure(_ reason: String, line: Int) -> CofferError {
        .malformedInput(path: path, line: line, reason: "invalid YAML: \(reason)")
    }

    /// libyaml's error: its problem, and the construct it was reading when that started elsewhere.
    private func parserFailure() -> CofferError {
        let state = parser.pointee
        var problem = state.problem.map { String(cString: $0) } ?? "unreadable"
        // libyaml's own cap (1000 levels, which its look-ahead over `[[[...` reaches before any event).
        if problem.hasPrefix("Maximum nesting level reached") { problem = "nested too deeply" }
        guard state.error != YAML_READER_ERROR else {
            // The reader counts bytes, not lines (a control character, say).
            let line = bytes.prefix(state.problem_offset).count(where: { $0 == 0x0A }) + 1
            return failure(problem, line: line)
        }
        let line = state.problem_mark.line + 1
        guard let context = state.context.map({ String(cString: $0) }), state.context_mark.line + 1 != line else {
            return failure(problem, line: line)
        }
        return failure("\(problem) (\(context) starting on line \(state.context_mark.line + 1))", line: line)
    }

    private mutating func next() throws -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw parserFailure() }
        defer { yaml_event_delete(&event) }
        func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? { pointer.map { String(cString: $0) } }
        let kind: Event.Kind
        var anchor: String?
        switch event.type {
        case YAML_STREAM_START_EVENT: kind = .streamStart
        case YAML_DOCUMENT_START_EVENT: kind = .documentStart
        case YAML_DOCUMENT_END_EVENT: kind = .documentEnd
        case YAML_SEQUENCE_START_EVENT:
            kind = .sequenceStart
            anchor = text(event.data.sequence_start.anchor)
        case YAML_SEQUENCE_END_EVENT: kind = .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            kind = .mappingStart
            anchor = text(event.data.mapping_start.anchor)
        case YAML_MAPPING_END_EVENT: kind = .mappingEnd
        case YAML_ALIAS_EVENT: kind = .alias(text(event.data.alias.anchor) ?? "")
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let value = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            kind = .scalar(value, tag: text(scalar.tag), plain: scalar.style == YAML_PLAIN_SCALAR_STYLE)
            anchor = text(scalar.anchor)
        default: kind = .streamEnd
        }
        return Event(kind: kind, anchor: anchor, line: event.start_mark.line + 1, characterIndex: event.start_mark.index)
    }

    // MARK: Nodes

    /// The node that `event` starts, read to its end.
    private mutating func node(_ event: Event) throws -> Node {
        let before = values
        let node: Node
        switch event.kind {
        case .alias(let name):
            guard let anchored = anchors[name] else { throw failure("unknown alias *\(name)", line: event.line) }
            values += anchored.values
            guard values <= Self.maxValues else {
                throw failure("aliases expand to more than \(Self.maxValues) values", line: event.line)
            }
            return anchored.node
        case let .scalar(text, tag, plain):
            values += 1
            guard values <= Self.maxValues else { throw failure("more than \(Self.maxValues) values", line: event.line) }
            node = Self.isNull(text, tag: tag, plain: plain) ? .null : .text(text)
        case .sequenceStart:
            try enterCollection(line: event.line)
            var items: [Node] = []
            while true {
                let item = try next()
                if case .sequenceEnd = item.kind { break }
                items.append(try self.node(item))
            }
            depth -= 1
            node = .list(items)
        case .mappingStart:
            try enterCollection(line: event.line)
            node = .map(try mapEntries())
            depth -= 1
        default:
            throw failure("unexpected structure", line: event.line)
        }
        if let anchor = event.anchor { anchors[anchor] = (node, values - before) }
        return node
    }

    private mutating func enterCollection(line: Int) throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("nested too deeply", line: line) }
    }

    /// `~`, `null`, `Null`, `NULL` or nothing, written plain and untagged, or anything tagged `!!null`.
    private static func isNull(_ text: String, tag: String?, plain: Bool) -> Bool {
        switch tag {
        case nil: plain && ["", "~", "null", "Null", "NULL"].contains(text)
        case nullTag: true
        default: false
        }
    }

    /// A map's entries, up to its end event.
    private mutating func mapEntries() throws -> [ImportTree.Entry] {
        var builder = MapBuilder()
        while true {
            let keyEvent = try next()
            let key: String, isMerge: Bool
            switch keyEvent.kind {
            case .mappingEnd:
                return builder.entries
            case let .scalar(text, tag, plain):
                key = text
                isMerge = plain && text == "<<" && (tag == nil || tag == Self.mergeTag)
            case .alias:
                throw failure("aliases on keys are not supported", line: keyEvent.line)
            default:
                throw failure("a key must be a single value, not a map or list", line: keyEvent.line)
            }
            if isExplicitKey(keyEvent) { throw failure("explicit keys (?) are not supported", line: keyEvent.line) }
            if let anchor = keyEvent.anchor { anchors[anchor] = (.text(key), 1) }
            let value = try node(try next())
            try builder.add(key: key, isMerge: isMerge, line: keyEvent.line, value: value, reader: self)
        }
    }

    /// Whether a `?` indicator comes before the key `event` starts (libyaml reports explicit and
    /// implicit keys alike): only blanks may lie between them.
    private mutating func isExplicitKey(_ event: Event) -> Bool {
        if event.characterIndex < cursor.character { cursor = (0, 0) }
        while cursor.character < event.characterIndex && cursor.byte < bytes.count {
            cursor.byte += 1
            while cursor.byte < bytes.count && bytes[cursor.byte] & 0xC0 == 0x80 { cursor.byte += 1 }
            cursor.character += 1
        }
        var before = cursor.byte - 1
        while before >= 0 && (bytes[before] == UInt8(ascii: " ") || bytes[before] == UInt8(ascii: "\t")) { before -= 1 }
        return before >= 0 && bytes[before] == UInt8(ascii: "?")
    }

    /// A map's entries: its own keys in order, then keys merged in with `<<` that it lacks
    /// (earlier merged maps win over later ones).
    private struct MapBuilder {
        private var own: [ImportTree.Entry] = []
        private var merged: [ImportTree.Entry] = []
        private var lines: [String: Int] = [:]

        var entries: [ImportTree.Entry] {
            guard !merged.isEmpty else { return own }
            var taken = Set(own.map(\.key))
            return own + merged.filter { taken.insert($0.key).inserted }
        }

        mutating func add(key: String, isMerge: Bool, line: Int, value: Node, reader: YAMLReader) throws {
            if let first = lines[key] {
                throw reader.failure("duplicate key \(key) in one map (lines \(first) and \(line))", line: first)
            }
            lines[key] = line
            guard isMerge else {
                own.append(ImportTree.Entry(key: key, line: line, value: value.tree))
                return
            }
            let sources: [Node]
            if case .list(let items) = value { sources = items } else { sources = [value] }
            for source in sources {
                guard case .map(let entries) = source else {
                    throw reader.failure("'<<' must merge a map or a list of maps", line: line)
                }
                merged += entries
            }
        }
    }
}
