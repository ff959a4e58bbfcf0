import ArgumentParser
import Coffer

extension CofferCommand {
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cp",
            abstract: "Copy a secret to a new name or scope, with its times, description and flags.",
            aliases: ["copy"])

        @Argument(help: "The secret to copy.", completion: Completions.names)
        var source: String

        @Argument(help: "The copy's name.", completion: Completions.names)
        var destination: String

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var sides: TransferOptions
        @OptionGroup var unlock: UnlockOptions

        func run() throws {
            try sides.transfer(
                source, to: destination, location: location, scopeOptions: scopeOptions, unlock: unlock, removingSource: false)
        }
    }
}
