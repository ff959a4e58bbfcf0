/// The formats `coffer edit` can show secrets in.
public enum EditFormat: String, CaseIterable, Sendable {
    case dotenv, yaml

    var importFormat: ImportFormat { self == .dotenv ? .dotenv : .yaml }
    /// The scratch file's extension, so that editors pick the right syntax.
    public var fileExtension: String { self == .dotenv ? "env" : "yaml" }
}

/// The text `coffer edit` opens: one scope's secrets as dotenv or YAML, and what an edited copy
/// changes. Values that cannot be shown (no-reveal, or not text the format carries exactly)
/// appear as `placeholder`, which, left in place, keeps the value.
public struct EditView {
    public static let placeholder = "<coffer: value kept>"

    public struct Secret {
        public var name: String
        public var value: [UInt8]
        public var hidden: Bool

        public init(name: String, value: [UInt8], hidden: Bool) {
            self.name = name
            self.value = value
            self.hidden = hidden
        }
    }

    /// What an edited text changes, by name; `renamed` pairs an old name with a new one holding the same value.
    public struct Changes {
        public var added: [(name: String, value: [UInt8])] = []
        public var changed: [(name: String, value: [UInt8])] = []
        public var removed: [String] = []
        public var renamed: [(from: String, to: String)] = []

        public var isEmpty: Bool { added.isEmpty && changed.isEmpty && removed.isEmpty && renamed.isEmpty }

        /// Names only, for the user: `added: a, b; changed: c; removed: d; renamed: e -> f`.
        public var summary: String {
            var parts: [String] = []
            if !added.isEmpty { parts.append("added: " + added.map(\.name).joined(separator: ", ")) }
            if !changed.isEmpty { parts.append("changed: " + changed.map(\.name).joined(separator: ", ")) }
            if !removed.isEmpty { parts.append("removed: " + removed.joined(separator: ", ")) }
            if !renamed.isEmpty { parts.append("renamed: " + renamed.map { "\($0.from) -> \($0.to)" }.joined(separator: ", ")) }
            return parts.joined(separator: "; ")
        }

        /// Overwrites the new values with zeros.
        public mutating func wipe() {
            for index in added.indices { added[index].value.wipe() }
            for index in changed.indices { changed[index].value.wipe() }
        }
    }

    public let format: EditFormat
    /// The secrets as shown, in order; `hidden` ones are shown as the placeholder.
    public private(set) var secrets: [Secret]

    /// A view of `secrets`. Any value the format would not give back byte for byte (checked by
    /// parsing the rendered text) is hidden too.
    public init(_ secrets: [Secret], format: EditFormat) {
        self.format = format
        self.secrets = secrets
        for index in self.secrets.indices where String(validating: self.secrets[index].value, as: UTF8.self) == nil {
            self.secrets[index].hidden = true
        }
        var text = render(header: [])
        defer { text.wipe() }
        let parsed = (try? SecretImport.parse(text, format: format.importFormat, path: "")) ?? []
        var back: [String: [UInt8]] = [:]
        for secret in parsed { back[secret.name] = secret.value }
        for index in self.secrets.indices where !self.secrets[index].hidden && back[self.secrets[index].name] != self.secrets[index].value {
            self.secrets[index].hidden = true
        }
        for index in back.keys.indices { back.values[index].wipe() }
    }

    /// The text to edit: `header` lines as comments, then one secret per line.
    public func render(header: [String]) -> [UInt8] {
        var out = header.map { "# " + $0 + "\n" }.joined()
        for secret in secrets {
            let text = secret.hidden ? Self.placeholder : String(decoding: secret.value, as: UTF8.self)
            switch format {
            case .dotenv: out += "\(secret.name)=\"\(SecretExport.dotenvEscaped(text))\"\n"
            case .yaml: out += "\(SecretExport.yamlQuoted(secret.name)): \(SecretExport.yamlQuoted(text))\n"
            }
        }
        return Array(out.utf8)
    }

    /// What `edited` changes against this view. Errors (`CofferError.malformedInput`) name the
    /// line and never quote a value: bad syntax, an invalid name, the placeholder under a name
    /// that had no value to keep.
    public func changes(in edited: [UInt8], path: String, scope: Scope) throws -> Changes {
        var parsed = try SecretImport.parse(edited, format: format.importFormat, path: path)
        defer { for index in parsed.indices { parsed[index].value.wipe() } }
        let original = Dictionary(secrets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let placeholder = Array(Self.placeholder.utf8)
        var changes = Changes()
        var seen: Set<String> = []
        for secret in parsed {
            do {
                try Vault.validate(name: secret.name, scope: scope)
            } catch CofferError.invalidArgument(let reason) {
                throw CofferError.malformedInput(path: path, line: secret.line, reason: reason)
            }
            seen.insert(secret.name)
            if let before = original[secret.name] {
                if secret.value == placeholder && before.hidden { continue }
                if secret.value != before.value { changes.changed.append((secret.name, secret.value)) }
            } else {
                guard secret.value != placeholder else {
                    throw CofferError.malformedInput(
                        path: path, line: secret.line, reason: "\(secret.name) is new: the placeholder keeps only an existing value")
                }
                changes.added.append((secret.name, secret.value))
            }
        }
        changes.removed = secrets.map(\.name).filter { !seen.contains($0) }
        // A removed name and an added one with the same value: a rename, which keeps the metadata.
        for removed in changes.removed {
            guard let old = original[removed], !old.hidden,
                  let match = changes.added.firstIndex(where: { $0.value == old.value })
            else { continue }
            changes.renamed.append((removed, changes.added[match].name))
            changes.added[match].value.wipe()
            changes.added.remove(at: match)
        }
        changes.removed.removeAll { name in changes.renamed.contains { $0.from == name } }
        return changes
    }

    /// Applies `changes` to `vault` in `scope` (the caller saves).
    public static func apply(_ changes: Changes, to vault: Vault, in scope: Scope) throws {
        for name in changes.removed { try vault.remove(name, in: scope) }
        for (from, to) in changes.renamed { try vault.move(from, in: scope, to: to, in: scope) }
        for (name, value) in changes.changed { try vault.set(name, value: value, in: scope, overwrite: true) }
        for (name, value) in changes.added { try vault.set(name, value: value, in: scope) }
    }

    public mutating func wipe() {
        for index in secrets.indices { secrets[index].value.wipe() }
    }
}
