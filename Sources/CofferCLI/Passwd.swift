import ArgumentParser
import Coffer
import CofferCodec

extension CofferCommand {
    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passwd",
            abstract: "Change a passphrase: one key slot re-wrapped, every entry left byte-identical.",
            discussion: "Changes the slot the current passphrase opens, or --slot ID. KDF parameters stay as they were unless given.")

        @OptionGroup var location: VaultOptions
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var kdf: KDFOptions

        @Option(name: .long, help: "The passphrase slot to change (its id from `coffer slots list`).", completion: Completions.slotIDs)
        var slot: String?

        @Option(name: .long, help: "Read the new passphrase from this file.", completion: .file())
        var newPassphraseFile: String?

        func run() throws {
            let slotID = try slot.map(SlotArgument.parse)
            // Asked before the vault's folder is locked, so other writers never wait on a prompt.
            let newPassphrase = try UnlockOptions.newPassphrase(file: newPassphraseFile)
            try location.modify(unlock: unlock) { vault in
                guard let target = slotID ?? vault.unlockedSlot?.id, let current = vault.slots.first(where: { $0.id == target }) else {
                    throw Failure(.notFound, slotID == nil ? "name the passphrase slot to change with --slot" : "no key slot \(slot ?? "")")
                }
                guard case let .passphrase(_, ops, mem) = current.kind else {
                    throw Failure(.usage, "slot \(current.idText) is a recipient slot, not a passphrase")
                }
                let parameters = kdf.isSet ? try kdf.parameters() : try Argon2idParameters.make(ops: ops, mem: mem)
                try vault.changePassphrase(slot: target, to: newPassphrase, kdf: parameters)
            }
            Terminal.writeAll(2, Array("coffer: passphrase changed\n".utf8))
        }
    }
}
