import ArgumentParser
import Coffer

extension CofferCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check the vault's signature; with a key, also open every entry.",
            discussion: """
                Without a key source (--passphrase-file, --passphrase-fd, --identity, a session) or --unlock, \
                only the signature is checked and no prompt is shown. Exit 0 only if all that was checked is intact.
                """)

        @OptionGroup var location: VaultOptions
        @OptionGroup var unlock: UnlockOptions

        @Flag(name: [.customLong("unlock"), .customLong("unlock-vault")], help: "Ask for the passphrase on the terminal and open every entry.")
        var unlockVault = false

        func run() throws {
            let vault = try location.open()
            let count = vault.entryCount
            if unlockVault || unlock.hasKeySource {
                try unlock.unlock(vault)
            } else if !Sessions.resume(vault) {
                Terminal.output("signature ok (generation \(vault.generation), \(count) entries); values not checked: no key given\n")
                return
            }
            var opened = 0
            for entry in vault.entries where vault.keyGrant?.canOpen(entry.scope) == true {
                _ = try vault.value(for: entry.name, in: entry.scope)
                opened += 1
            }
            Terminal.output("signature ok (generation \(vault.generation)); \(opened) of \(count) values open and verify\n")
        }
    }
}
