import ArgumentParser
import Coffer

extension CofferCommand {
    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "describe",
            abstract: "Change a secret's description or no-reveal flag without touching its value.",
            discussion: """
                `coffer describe NAME TEXT` sets the description ("" clears it); --no-reveal and --reveal \
                change the flag. Making a no-reveal secret revealable again asks for confirmation on a \
                terminal and needs --force without one.
                """)

        @Argument(help: "The secret's name.", completion: Completions.names)
        var name: String

        @Argument(help: "The new description (leave out to change only the flag).")
        var text: String?

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        @Flag(name: .long, help: "Mark the secret no-reveal: usable by run and render, never printed.")
        var noReveal = false

        @Flag(name: .long, help: "Make a no-reveal secret printable again.")
        var reveal = false

        @Flag(name: .long, help: "With --reveal: no confirmation (needed without a terminal).")
        var force = false

        func validate() throws {
            if noReveal && reveal { throw ValidationError("--reveal and --no-reveal exclude each other") }
            if text == nil && !noReveal && !reveal { throw ValidationError("give a description, --no-reveal or --reveal") }
        }

        func run() throws {
            let scope = scopeOptions.scope
            guard let entry = try location.open().entry(name, in: scope) else {
                throw CofferError.entryMissing(name: name, scope: scope.description)
            }
            if reveal && entry.isNoReveal {
                try Confirmation.require("Make \(name) (\(scope)) printable by get, list --values and export?", force: force, what: "--reveal")
            }
            try location.modify(unlock: unlock) { vault in
                try vault.describe(name, in: scope, description: text, noReveal: noReveal ? true : reveal ? false : nil)
            }
        }
    }
}
