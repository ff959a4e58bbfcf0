/// A parsed YAML or JSON document, reduced to what import needs.
enum ImportTree {
    /// One key of a map and the 1-based line it is written on (0 when unknown).
    struct Entry {
        var key: String
        var line: Int
        var value: ImportTree
    }

    case map([Entry])
    /// A scalar's text: strings as they are, numbers and booleans as written.
    case text(String)
    case null
    case list

    /// Flattens a top-level map into secrets, joining nested keys with dots.
    /// `line` is where the document's top-level value starts.
    func flattened(line: Int, path: String) throws -> [ImportedSecret] {
        guard case .map(let entries) = self else {
            throw CofferError.malformedInput(path: path, line: line, reason: "the top level must be a map of names to values")
        }
        var secrets: [ImportedSecret] = []
        var lineOfName: [String: Int] = [:]

        func collect(_ entries: [Entry], prefix: String) throws {
            for entry in entries {
                let name = prefix + entry.key
                func failure(_ reason: String) -> CofferError {
                    .malformedInput(path: path, line: entry.line, reason: reason)
                }
                switch entry.value {
                case .map(let children):
                    try collect(children, prefix: name + ".")
                case .text(let text):
                    if let first = lineOfName[name] {
                        throw failure("\(name) defined on lines \(first) and \(entry.line)")
                    }
                    lineOfName[name] = entry.line
                    secrets.append(ImportedSecret(name: name, value: Array(text.utf8), line: entry.line))
                case .null:
                    throw failure("\(name) has no value (null)")
                case .list:
                    throw failure("\(name) is a list; only maps and single values can be imported")
                }
            }
        }
        try collect(entries, prefix: "")
        return secrets
    }
}
