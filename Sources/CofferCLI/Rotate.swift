import ArgumentParser
import Coffer

extension CofferCommand {
    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Re-key the vault: a fresh master key, every entry re-sealed, every slot re-wrapped.",
            discussion: "Names, scopes and metadata are unchanged. The new verification key is linked to the old one by a signed key-chain entry.")

        @OptionGroup var location: VaultOptions
        @OptionGroup var unlock: UnlockOptions

        func run() throws {
            let key = try location.modify(unlock: unlock) { vault in
                try vault.rotate()
                try vault.save()
                Sessions.refresh(after: vault)
                return vault.verificationKey
            }
            Terminal.writeAll(2, Array("coffer: rotated; new verification key \(TextView.hex(key))\n".utf8))
        }
    }
}
