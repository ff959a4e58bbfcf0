/// Secrets for workflows: a process environment, rendered templates, exports.
/// All of them read the resolved view of a scope: for each name, its most specific entry.
extension Vault {
    /// The entries named in `names` (each once, in order), or every resolved entry (sorted by
    /// name) when `names` is nil. A name `scope` does not see throws `entryMissing`. Needs no key.
    public func resolvedEntries(for scope: Scope, only names: [String]?) throws -> [VaultEntry] {
        guard let names else { return resolvedEntries(for: scope) }
        var seen: Set<String> = []
        return try names.filter { seen.insert($0).inserted }.map { name in
            guard let entry = resolve(name, for: scope) else {
                throw CofferError.entryMissing(name: name, scope: scope.description)
            }
            return entry
        }
    }

    /// The entry a reader selecting `scope` gets for `name`, checked to be revealable (`get`):
    /// `entryMissing` or `notRevealable` before any key is needed.
    public func revealableEntry(_ name: String, for scope: Scope) throws -> VaultEntry {
        guard let entry = resolve(name, for: scope) else {
            throw CofferError.entryMissing(name: name, scope: scope.description)
        }
        if entry.isNoReveal { throw CofferError.notRevealable(name: name) }
        return entry
    }

    /// The decrypted values of `resolvedEntries(for:only:)`, no-reveal entries included
    /// (for `run` and `render`, which use values without printing them).
    public func secrets(for scope: Scope, only names: [String]? = nil) throws -> [(name: String, value: [UInt8])] {
        try resolvedEntries(for: scope, only: names).map { ($0.name, try value(for: $0.name, in: $0.scope)) }
    }

    /// Environment variables for a child process. Each secret in `names` (all resolved secrets
    /// when `names` is nil and there are no `mappings`) becomes `prefix` + its `EnvironmentName`;
    /// each mapping puts the secret `name` in `variable` exactly, without the prefix. A name-derived
    /// variable that `RunBoundary.isDangerous` throws `invalidArgument` naming the secret (a mapping
    /// may set it). Two secrets landing in one variable throw `conflict` naming both; a value holding a NUL byte, which an
    /// environment cannot carry, throws `invalidArgument`.
    public func environment(
        for scope: Scope, only names: [String]? = nil, mappings: [(variable: String, name: String)] = [],
        prefix: String = ""
    ) throws -> [(variable: String, value: [UInt8])] {
        try EnvironmentName.validatePrefix(prefix)
        for mapping in mappings where mapping.variable.isEmpty || (try? EnvironmentName.validatePrefix(mapping.variable)) == nil {
            throw CofferError.invalidArgument(
                "environment variable '\(mapping.variable)' must start with a letter or '_' and contain only letters, digits and '_'")
        }
        let byName = names ?? (mappings.isEmpty ? nil : [])
        let wanted = byName.map { $0 + mappings.map(\.name) }
        let secrets = try secrets(for: scope, only: wanted)
        let values = Dictionary(uniqueKeysWithValues: secrets.map { ($0.name, $0.value) })
        let named = byName.map { Set($0) }
        let automatic = secrets.filter { named?.contains($0.name) ?? true }
            .map { (variable: EnvironmentName.variableName(for: $0.name, prefix: prefix), name: $0.name) }
        if let dangerous = automatic.first(where: { RunBoundary.isDangerous($0.variable) }) {
            throw CofferError.invalidArgument(
                "secret '\(dangerous.name)' would set \(dangerous.variable), which steers the loader, a shell or a runtime; "
                    + "map it explicitly (--env \(dangerous.variable)=\(dangerous.name)) if that is meant")
        }
        let assignments = automatic + mappings

        var owners: [String: String] = [:]
        var environment: [(variable: String, value: [UInt8])] = []
        for (variable, name) in assignments {
            if let owner = owners.updateValue(name, forKey: variable) {
                if owner == name { continue }
                throw CofferError.conflict("secrets '\(owner)' and '\(name)' both map to environment variable \(variable)")
            }
            let value = values[name]!
            guard !value.contains(0) else {
                throw CofferError.invalidArgument("secret '\(name)' holds a NUL byte, which an environment variable cannot carry")
            }
            environment.append((variable, value))
        }
        return environment
    }

    /// `template` (read from `path`, for error messages) with each `{{ secret('NAME') }}`
    /// replaced by the value `scope` resolves NAME to; no-reveal entries are used too.
    public func render(template: [UInt8], path: String, scope: Scope, escape: TemplateRenderer.Escape = .none) throws -> [UInt8] {
        try TemplateRenderer.render(template, path: path, escape: escape) { name in
            try resolve(name, for: scope).map { try value(for: name, in: $0.scope) }
        }
    }

    /// The secrets `scope` resolves (only `names`, when given) written in `format`.
    /// Refuses no-reveal entries with `notRevealable`, before decrypting anything.
    public func export(
        format: ExportFormat, scope: Scope, only names: [String]? = nil,
        k8sName: String = "coffer-secrets", k8sNamespace: String? = nil
    ) throws -> [UInt8] {
        if let hidden = try resolvedEntries(for: scope, only: names).first(where: \.isNoReveal) {
            throw CofferError.notRevealable(name: hidden.name)
        }
        return try SecretExport.render(
            try secrets(for: scope, only: names), format: format, k8sName: k8sName, k8sNamespace: k8sNamespace)
    }
}
