import Yams

/// Reads a YAML document with Yams into an `ImportTree`.
enum YAMLTree {
    /// Composes the single document in `yaml`; nil when it holds none (empty or only comments).
    /// Returns the tree and the line where the document's top-level value starts.
    static func compose(_ yaml: String, path: String) throws -> (ImportTree, line: Int)? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml, .default, .default, .utf8)
        } catch let error as YamlError {
            throw malformed(error, path: path)
        }
        guard let root else { return nil }
        return (try tree(root, path: path), root.mark?.line ?? 0)
    }

    private static func tree(_ node: Node, path: String) throws -> ImportTree {
        switch node {
        case .scalar(let scalar):
            return isTagged(node, .null) ? .null : .text(scalar.string)
        case .mapping(let mapping):
            return .map(try entries(mapping, path: path))
        case .sequence:
            return .list
        case .alias:
            throw CofferError.malformedInput(path: path, line: node.mark?.line ?? 0, reason: "unresolved YAML alias")
        }
    }

    /// A map's entries; keys merged in with `<<` come after the map's own keys, which win over them.
    private static func entries(_ mapping: Node.Mapping, path: String) throws -> [ImportTree.Entry] {
        var own: [ImportTree.Entry] = []
        var merged: [ImportTree.Entry] = []
        for (key, value) in mapping {
            let line = key.mark?.line ?? 0
            if isTagged(key, .merge) {
                let sources = value.sequence.map(Array.init) ?? [value]
                for source in sources {
                    guard let sourceMapping = source.mapping else {
                        throw CofferError.malformedInput(path: path, line: line, reason: "'<<' must merge a map or a list of maps")
                    }
                    merged += try entries(sourceMapping, path: path)
                }
            } else {
                guard case .scalar(let keyScalar) = key else {
                    throw CofferError.malformedInput(path: path, line: line, reason: "a key must be a single value, not a map or list")
                }
                own.append(ImportTree.Entry(key: keyScalar.string, line: line, value: try tree(value, path: path)))
            }
        }
        var taken = Set(own.map(\.key))
        return own + merged.filter { taken.insert($0.key).inserted }
    }

    /// Whether the node's tag, explicit or resolved from its text, is `name`.
    private static func isTagged(_ node: Node, _ name: Tag.Name) -> Bool {
        node.tag.rawValue == name.rawValue
    }

    /// Turns a Yams error into `malformedInput`, keeping libyaml's message but never its snippet of the source.
    private static func malformed(_ error: YamlError, path: String) -> CofferError {
        let line: Int
        let reason: String
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            line = mark.line
            reason = [context?.text, problem].compactMap { $0 }.joined(separator: ": ")
        case .duplicatedKeysInMapping(let duplicates, let context):
            line = context.mark.line
            reason = "duplicate key \(duplicates.joined(separator: ", ")) in one map (first defined on line \(line))"
        case .reader(let problem, let offset, _, let yaml):
            line = offset.map { yaml.prefix($0).count(where: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) + 1 } ?? 0
            reason = problem
        default:
            line = 0
            reason = "unreadable YAML"
        }
        return .malformedInput(path: path, line: line, reason: "invalid YAML: \(reason)")
    }
}
