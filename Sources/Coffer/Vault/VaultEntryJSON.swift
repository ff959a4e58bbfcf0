import CofferCodec

extension VaultEntry {
    /// The entry's metadata as JSON object members (`"name":"pg.password"`, ...), in the order
    /// of `coffer list --json`; the CLI and the C library's list share them.
    public var jsonFields: [String] {
        [
            "\"name\":\(SecretExport.jsonQuoted(name))",
            "\"project\":\(SecretExport.jsonQuoted(scope.project))",
            "\"domain\":\(SecretExport.jsonQuoted(scope.domain))",
            "\"scope\":\(SecretExport.jsonQuoted(scope.description))",
            "\"created\":\(SecretExport.jsonQuoted(Timestamp.rfc3339(created)))",
            "\"updated\":\(SecretExport.jsonQuoted(Timestamp.rfc3339(updated)))",
            "\"description\":\(SecretExport.jsonQuoted(description))",
            "\"noReveal\":\(isNoReveal)",
        ]
    }

    /// Entries' metadata as a JSON array, one object per line.
    public static func json(_ entries: [VaultEntry]) -> String {
        "[" + entries.map { "{" + $0.jsonFields.joined(separator: ",") + "}" }.joined(separator: ",\n") + "]\n"
    }
}
