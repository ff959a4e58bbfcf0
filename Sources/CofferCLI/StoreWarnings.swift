import Coffer

/// Warnings `set` and `import` give about what they stored: names that `run` and `export` would
/// put in one variable (an error there), and values too short for `run` to mask.
enum StoreWarnings {
    /// The warnings for `stored` (name and value length) in `vault` after the change.
    static func lines(for stored: [(name: String, length: Int)], in vault: Vault) -> [String] {
        var reported: Set<[String]> = []
        // Only names that map to a stored name's variable can collide: found by a pass over the
        // names alone, not by decoding every entry.
        let variables = Set(stored.map { Array(EnvironmentName.variableName(for: $0.name).utf8) })
        var variable: [UInt8] = []
        let related = vault.entryNames { name in
            EnvironmentName.variableName(forUTF8: name, into: &variable)
            return variables.contains(variable)
        }
        let collisions = EnvironmentName.collisions(of: stored.map(\.name), among: related)
            .filter { reported.insert([$0.name, $0.other].sorted()).inserted }
            .map { "'\($0.name)' and '\($0.other)' both map to variable \($0.variable): run and export will refuse both together" }
        let short = stored.filter { $0.length < SecretMasker.defaultMinimumLength }
            .map { "'\($0.name)' is shorter than \(SecretMasker.defaultMinimumLength) bytes: run will not mask it in output" }
        return collisions + short
    }
}
