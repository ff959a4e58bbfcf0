import Coffer

/// Warnings `set` and `import` give about what they stored: names that `run` and `export` would
/// put in one variable (an error there), and values too short for `run` to mask.
enum StoreWarnings {
    /// The warnings for `stored` (name and value length) in `vault` after the change.
    static func lines(for stored: [(name: String, length: Int)], in vault: Vault) -> [String] {
        var reported: Set<[String]> = []
        // Only names that map to a stored name's variable can collide: found by a pass over the
        // names alone, not by decoding every entry. A few stored names (`set`) are compared
        // with each name byte by byte, which mostly stops within a few bytes; many (`import`)
        // are looked up in a set.
        let variables = stored.map { Array(EnvironmentName.variableName(for: $0.name).utf8) }
        let lookup = Set(variables.count > 8 ? variables : [])
        var variable: [UInt8] = []
        let related = vault.entryNames { name in
            guard lookup.isEmpty else {
                EnvironmentName.variableName(forUTF8: name, into: &variable)
                return lookup.contains(variable)
            }
            return variables.contains { EnvironmentName.variableName(forUTF8: name, is: $0) }
        }
        let collisions = EnvironmentName.collisions(of: stored.map(\.name), among: related)
            .filter { reported.insert([$0.name, $0.other].sorted()).inserted }
            .map { "'\($0.name)' and '\($0.other)' both map to variable \($0.variable): run and export will refuse both together" }
        let short = stored.filter { $0.length < SecretMasker.defaultMinimumLength }
            .map { "'\($0.name)' is shorter than \(SecretMasker.defaultMinimumLength) bytes: run will not mask it in output" }
        return collisions + short
    }
}
