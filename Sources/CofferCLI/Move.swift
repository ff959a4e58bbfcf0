import ArgumentParser
import Coffer

extension CofferCommand {
    struct Move: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mv",
            abstract: "Rename a secret (or move it to another scope), keeping its times, description and flags.",
            aliases: ["rename"])

        @Argument(help: "The secret's current name.", completion: Completions.names)
        var old: String

        @Argument(help: "Its new name.")
        var new: String

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var sides: TransferOptions
        @OptionGroup var unlock: UnlockOptions

        func run() throws {
            try sides.transfer(old, to: new, location: location, scopeOptions: scopeOptions, unlock: unlock, removingSource: true)
        }
    }
}
