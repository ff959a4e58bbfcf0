import Coffer

/// Warnings `set` and `import` give about what they stored: names that `run` and `export` would
/// put in one variable (an error there), and values too short for `run` to mask.
enum StoreWarnings {
    /// The warnings for `stored` (name and value length) in `vault` after the change.
    static func lines(for stored: [(name: String, length: Int)], in vault: Vault) -> [String] {
        var reported: Set<[String]> = []
        let collisions = EnvironmentName.collisions(of: stored.map(\.name), among: vault.entries.map(\.name))
            .filter { reported.insert([$0.name, $0.other].sorted()).inserted }
            .map { "'\($0.name)' and '\($0.other)' both map to variable \($0.variable): run and export will refuse both together" }
        let short = stored.filter { $0.length < SecretMasker.defaultMinimumLength }
            .map { "'\($0.name)' is shorter than \(SecretMasker.defaultMinimumLength) bytes: run will not mask it in output" }
        return collisions + short
    }
}
