import ArgumentParser
import Coffer
#if canImport(Glibc)
import Glibc
#endif

extension CofferCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List secrets: names, scopes, updated time, description. Values only with --values.",
            discussion: """
                Without --values no passphrase is needed. With --project/--domain the list is the resolved \
                view: one line per name, the most specific entry, and the scope it comes from.
                """,
            aliases: ["ls"])

        @Argument(help: "Only names matching one of these shell patterns (quote them: 'pg.*').", completion: Completions.names)
        var patterns: [String] = []

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        @Flag(name: .long, help: "Show values too (needs a key; a no-reveal secret shows [no-reveal] instead).")
        var values = false

        @Flag(name: .long, help: "JSON output.")
        var json = false

        func run() throws {
            let vault = try location.open()
            let shown = (scopeOptions.isSet ? vault.resolvedEntries(for: scopeOptions.scope) : vault.entries).filter { entry in
                patterns.isEmpty || patterns.contains { fnmatch($0, entry.name, 0) == 0 }
            }
            var secrets: [[UInt8]?] = Array(repeating: nil, count: shown.count)
            if values {
                try unlock.unlock(vault)
                for (index, entry) in shown.enumerated() {
                    if !entry.isNoReveal { secrets[index] = try vault.value(for: entry.name, in: entry.scope) }
                }
            }
            Terminal.output(json ? jsonText(shown, secrets) : tableText(shown, secrets))
        }

        private func valueText(_ entry: VaultEntry, _ value: [UInt8]?) -> String {
            if entry.isNoReveal { return "[no-reveal]" }
            guard let value else { return "" }
            return String(validating: value, as: UTF8.self) ?? "(binary, \(value.count) bytes)"
        }

        private func tableText(_ entries: [VaultEntry], _ secrets: [[UInt8]?]) -> String {
            var rows = [["NAME", "SCOPE", "UPDATED"] + (values ? ["VALUE"] : []) + ["DESCRIPTION"]]
            for (entry, value) in zip(entries, secrets) {
                let flags = entry.isNoReveal ? " [no-reveal]" : ""
                rows.append(
                    [entry.name, entry.scope.description, Formatting.timestamp(entry.updated)]
                        + (values ? [valueText(entry, value)] : []) + [entry.description + flags])
            }
            return entries.isEmpty ? "" : Formatting.table(rows)
        }

        private func jsonText(_ entries: [VaultEntry], _ secrets: [[UInt8]?]) -> String {
            let objects = zip(entries, secrets).map { entry, value in
                var fields = entry.jsonFields
                if let value {
                    if let text = String(validating: value, as: UTF8.self) {
                        fields.append("\"value\":\(Formatting.json(text))")
                    } else {
                        fields.append("\"valueHex\":\(Formatting.json(TextView.hex(value)))")
                    }
                }
                return "{" + fields.joined(separator: ",") + "}"
            }
            return "[" + objects.joined(separator: ",\n") + "]\n"
        }
    }
}
