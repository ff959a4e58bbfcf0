import ArgumentParser
import Coffer

extension CofferCommand {
    struct Upgrade: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "upgrade",
            abstract: "Give a format 1.0 vault's passphrase slot its authenticator (format 1.1).",
            discussion: """
                Coffer 1.1 refuses a passphrase slot without an authenticator: such a slot could have \
                been copied into a forged vault. Run this once per passphrase, on the vault you know \
                is yours; it opens the slot the passphrase derives and adds the authenticator \
                (Specs/vault-format.md §3.6). A 1.0 reader can still read the upgraded file, not write it.
                """)

        @OptionGroup var location: VaultOptions

        @OptionGroup var unlock: UnlockOptions

        func run() throws {
            guard unlock.identity == nil else { throw Failure(.usage, "upgrade needs a passphrase: only passphrase slots get an authenticator") }
            var upgraded = false
            try location.modify(unlocking: { vault in
                upgraded = try vault.upgrade(passphrase: try unlock.passphrase(prompt: "Passphrase for \(vault.path): "))
            }) { _ in }
            let what = upgraded ? "authenticator added to the passphrase slot" : "the passphrase slot already has its authenticator"
            Terminal.writeAll(2, Array("coffer: \(what)\n".utf8))
        }
    }
}
