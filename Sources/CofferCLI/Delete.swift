import ArgumentParser
import Coffer

extension CofferCommand {
    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Delete one or more secrets; if any name is unknown, nothing is deleted.",
            aliases: ["rm"])

        @Argument(help: "The names to delete.", completion: Completions.names)
        var names: [String]

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        func validate() throws {
            if names.isEmpty { throw ValidationError("name at least one secret to delete") }
        }

        func run() throws {
            let scope = scopeOptions.scope
            let missing = try location.open().missing(names, in: scope)
            if let first = missing.first { throw CofferError.entryMissing(name: first, scope: scope.description) }
            try location.modify(unlock: unlock) { vault in
                if let first = vault.missing(names, in: scope).first {
                    throw CofferError.entryMissing(name: first, scope: scope.description)
                }
                for name in Set(names) { try vault.remove(name, in: scope) }
            }
            Terminal.writeAll(2, Array("coffer: deleted \(Set(names).count)\n".utf8))
        }
    }
}

extension Vault {
    /// The names among `names` with no entry in `scope`.
    func missing(_ names: [String], in scope: Scope) -> [String] {
        names.filter { entry($0, in: scope) == nil }
    }
}
