import ArgumentParser
import Coffer

/// Shell completion of what only the vault knows: secret names, projects, domains and slot ids.
/// Names and metadata are plaintext, so no key is needed; the vault is the one the words being
/// completed select (--vault, --local), else the usual search.
enum Completions {
    static let names = CompletionKind.custom { words, _, prefix in matching(prefix, vault(words)?.entries.map(\.name)) }
    static let projects = CompletionKind.custom { words, _, prefix in
        matching(prefix, vault(words).map { $0.entries.map(\.scope.project) + $0.slots.map(\.scope.project) })
    }
    static let domains = CompletionKind.custom { words, _, prefix in
        matching(prefix, vault(words).map { $0.entries.map(\.scope.domain) + $0.slots.map(\.scope.domain) })
    }
    /// `VAR=NAME` (run --env): once `=` is typed, the secret names after it.
    static let variableMappings = CompletionKind.custom { words, _, prefix in
        guard let equals = prefix.firstIndex(of: "=") else { return [] }
        let variable = prefix[...equals]
        return matching(String(prefix[prefix.index(after: equals)...]), vault(words)?.entries.map(\.name)).map { variable + $0 }
    }
    static let slotIDs = CompletionKind.custom { words, _, prefix in matching(prefix, vault(words)?.slots.map(\.idText)) }
    static let vaultFiles = CompletionKind.file(extensions: ["coffer"])

    private static func matching(_ prefix: String, _ candidates: [String]?) -> [String] {
        Array(Set((candidates ?? []).filter { !$0.isEmpty && $0.hasPrefix(prefix) })).sorted()
    }

    /// The vault the command line being completed would use, opened and verified; nil if none.
    private static func vault(_ words: [String]) -> Vault? {
        var path: String?
        var local = false
        for (index, word) in words.enumerated() {
            if word == "--vault", index + 1 < words.count {
                path = words[index + 1]
            } else if word.hasPrefix("--vault=") {
                path = String(word.dropFirst("--vault=".count))
            } else if word == "--local" {
                local = true
            }
        }
        let environment = ProcessInfoLite.environment
        let resolved = path
            ?? (local
                ? VaultLocation.localVaultPath(environment: environment)
                : VaultLocation.discover(environment: environment, currentDirectory: ProcessInfoLite.currentDirectory))
        return try? Vault.open(at: resolved)
    }
}
