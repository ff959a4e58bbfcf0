import ArgumentParser
import Coffer
import CofferCodec
import CofferRotation

extension CofferCommand {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect",
            abstract: "Show the vault's format, id, generation, keys and slots. Needs no passphrase, shows no secret.")

        @OptionGroup var location: VaultOptions

        func run() throws {
            let vault = try location.open()
            let path = vault.path
            var rows: [[String]] = [
                ["vault", path],
                ["format", "\(VaultFile.major).\(vault.minorVersion)"],
                ["vault id", TextView.hex(vault.vaultID)],
                ["generation", String(vault.generation)],
                ["verification key", TextView.hex(vault.verificationKey)],
                ["key chain", "\(vault.keyChain.links.count) rotation(s)"],
                ["entries", String(vault.entryCount)],
                ["file size", "\(FileStats.size(of: path)) bytes"],
                ["slots", String(vault.slots.count)],
            ]
            rows += vault.slots.map { ["  " + $0.idText, Self.describe($0)] }
            let branch = GitBranch.current(forFileAt: path)
            if let record = try VaultOptions.trustStore.record(for: vault, branch: branch) {
                rows.append(["remembered", "generation \(record.generation)\(branch.isEmpty ? "" : " on \(branch)")"])
            }
            if let pinned = try VaultOptions.trustStore.pinnedKey(for: vault) {
                rows.append(["pinned key", TrustStore.fingerprint(pinned)])
            }
            rows.append(["this file", "generation \(vault.generation), key \(TrustStore.fingerprint(vault.verificationKey))"])
            Terminal.output(Formatting.table(rows))
        }

        /// One line per slot: type, label, scope, KDF parameters or recipient key.
        static func describe(_ slot: Slot) -> String {
            var parts: [String]
            switch slot.kind {
            case let .passphrase(_, ops, mem):
                parts = ["passphrase", "argon2id ops=\(ops) mem=\(mem >> 20)MiB"]
            case .recipient:
                parts = ["recipient", (try? Recipient(publicKey: slot.publicKey))?.text ?? TextView.hex(slot.publicKey)]
            }
            parts.append("scope=\(slot.scope)")
            if !slot.label.isEmpty { parts.append("label=\(Formatting.json(slot.label))") }
            parts.append("created=\(Formatting.timestamp(slot.created))")
            return parts.joined(separator: " ")
        }
    }
}
