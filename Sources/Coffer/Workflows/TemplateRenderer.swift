/// Renders templates holding Kestra-style secret references: `{{ secret('NAME') }}`.
///
/// A reference is `{{`, `secret`, `(`, a name in single or double quotes, `)`, `}}`, with any
/// spaces or tabs between those parts, all on one line. Every other byte, including any other
/// `{{ ... }}` expression, is left exactly as it is.
public enum TemplateRenderer {
    /// `template` with each reference replaced by the value `lookup` gives for its name.
    /// Each name is looked up once. A name `lookup` does not know (returns nil) throws
    /// `.malformedInput` with `path` and the 1-based line of the reference; nothing is returned then.
    public static func render(
        _ template: [UInt8], path: String, lookup: (String) throws -> [UInt8]?
    ) throws -> [UInt8] {
        var values: [String: [UInt8]] = [:]
        var out: [UInt8] = []
        out.reserveCapacity(template.count)
        var copied = 0
        try forEachReference(in: template) { range, name, line in
            if values[name] == nil {
                guard let value = try lookup(name) else {
                    throw CofferError.malformedInput(path: path, line: line, reason: "unknown secret \(name)")
                }
                values[name] = value
            }
            out += template[copied..<range.lowerBound]
            out += values[name]!
            copied = range.upperBound
        }
        out += template[copied...]
        return out
    }

    /// The names referenced in `template`, each once, in order of first appearance.
    public static func referencedNames(in template: [UInt8]) -> [String] {
        var seen: Set<String> = []
        var names: [String] = []
        forEachReference(in: template) { _, name, _ in
            if seen.insert(name).inserted {
                names.append(name)
            }
        }
        return names
    }

    /// Calls `body` with the byte range, name and 1-based line of each reference, in order.
    private static func forEachReference(
        in template: [UInt8], _ body: (Range<Int>, String, Int) throws -> Void
    ) rethrows {
        var line = 1
        var index = 0
        while index < template.count {
            if template[index] == UInt8(ascii: "\n") {
                line += 1
            } else if let (end, name) = reference(in: template, at: index) {
                try body(index..<end, name, line)
                index = end
                continue
            }
            index += 1
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
