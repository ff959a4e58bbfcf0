import ArgumentParser
import Coffer

/// The two sides of `mv` and `cp`: each side's scope defaults to `--project`/`--domain`.
struct TransferOptions: ParsableArguments {
    @Option(name: .long, help: "The source's project (default: --project).", completion: Completions.projects)
    var fromProject: String?

    @Option(name: .long, help: "The source's domain (default: --domain).", completion: Completions.domains)
    var fromDomain: String?

    @Option(name: .long, help: "The destination's project (default: --project).", completion: Completions.projects)
    var toProject: String?

    @Option(name: .long, help: "The destination's domain (default: --domain).", completion: Completions.domains)
    var toDomain: String?

    @Flag(name: .long, help: "Replace an existing secret at the destination.")
    var overwrite = false

    func scopes(_ shared: ScopeOptions) -> (from: Scope, to: Scope) {
        (Scope(project: fromProject ?? shared.project ?? "", domain: fromDomain ?? shared.domain ?? ""),
         Scope(project: toProject ?? shared.project ?? "", domain: toDomain ?? shared.domain ?? ""))
    }

    /// Copies (or, with `removingSource`, moves) `source` to `destination` in one locked save.
    func transfer(
        _ source: String, to destination: String, location: VaultOptions, scopeOptions: ScopeOptions,
        unlock: UnlockOptions, removingSource: Bool
    ) throws {
        let (from, to) = scopes(scopeOptions)
        try Vault.validate(name: destination, scope: to)
        // Missing sources and taken destinations fail before any key is asked for.
        let vault = try location.open()
        guard vault.entry(source, in: from) != nil else { throw CofferError.entryMissing(name: source, scope: from.description) }
        if !overwrite, vault.entry(destination, in: to) != nil {
            throw CofferError.entryExists(name: destination, scope: to.description)
        }
        try location.modify(unlock: unlock) { vault in
            if removingSource {
                try vault.move(source, in: from, to: destination, in: to, overwrite: overwrite)
            } else {
                try vault.copy(source, in: from, to: destination, in: to, overwrite: overwrite)
            }
        }
    }
}
