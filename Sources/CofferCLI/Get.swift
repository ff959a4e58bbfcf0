import ArgumentParser
import Coffer

extension CofferCommand {
    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "get",
            abstract: "Print a secret's value exactly as stored (a newline is added only on a terminal).",
            discussion: "With --project/--domain the most specific entry wins: project+domain, project, domain, global.")

        @Argument(help: "The secret's name.", completion: Completions.names)
        var name: String

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        func run() throws {
            let vault = try location.open(reading: name, for: scopeOptions.scope)
            let entry = try vault.revealableEntry(name, for: scopeOptions.scope)
            try unlock.unlock(vault)
            var value = try vault.value(for: name, in: entry.scope)
            if Terminal.stdoutIsTTY { value.append(0x0A) }
            Terminal.writeAll(1, value)
        }
    }
}
