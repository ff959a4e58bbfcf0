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

        @Flag(name: .long, help: "JSON output (schema: Specs/cli-json.md).")
        var json = false

        func run() throws {
            let vault = try location.open()
            let path = vault.path
            let branch = GitBranch.current(forFileAt: path)
            let record = try VaultOptions.trust.record(for: vault, branch: branch)
            let pinned = try VaultOptions.trust.pinnedKey(for: vault)
            if json {
                Terminal.output(JSONOutput.object([
                    ("vault", JSONOutput.string(path)),
                    ("format", JSONOutput.string("\(VaultFile.major).\(vault.minorVersion)")),
                    ("vaultId", JSONOutput.string(TextView.hex(vault.vaultID))),
                    ("generation", "\(vault.generation)"),
                    ("verificationKey", JSONOutput.string(TextView.hex(vault.verificationKey))),
                    ("keyFingerprint", JSONOutput.string(TrustStore.fingerprint(vault.verificationKey))),
                    ("keyChainRotations", "\(vault.keyChain.links.count)"),
                    ("entries", "\(vault.entryCount)"),
                    ("fileSize", "\(FileStats.size(of: path))"),
                    ("slots", JSONOutput.array(vault.slots.map(JSONOutput.slot))),
                    ("branch", JSONOutput.string(branch)),
                    ("rememberedGeneration", record.map { (record: TrustStore.Record) -> String in String(record.generation) } ?? "null"),
                    ("pinnedKey", JSONOutput.optional(pinned.map(TrustStore.fingerprint))),
                ]) + "\n")
                return
            }
            var rows: [[String]] = [
                ["vault", path],
                ["format", "\(VaultFile.major).\(vault.minorVersion)"],
                ["vault id", TextView.hex(vault.vaultID)],
                ["pin", VaultPin(vault).description],
                ["generation", String(vault.generation)],
                ["verification key", TextView.hex(vault.verificationKey)],
                ["key chain", "\(vault.keyChain.links.count) rotation(s)"],
                ["entries", String(vault.entryCount)],
                ["file size", "\(FileStats.size(of: path)) bytes"],
                ["slots", String(vault.slots.count)],
            ]
            rows += vault.slots.map { ["  " + $0.idText, Self.describe($0)] }
            if let record {
                rows.append(["remembered", "generation \(record.generation)\(branch.isEmpty ? "" : " on \(branch)")"])
            }
            if let pinned {
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
            case let .sshEd25519(sshKey):
                parts = ["ssh-ed25519", SSHPublicKey.fingerprint(ed25519: sshKey)]
            case let .plugin(recipient, _):
                parts = ["plugin", recipient]
            }
            parts.append("scope=\(slot.scope)")
            if !slot.label.isEmpty { parts.append("label=\(Formatting.json(slot.label))") }
            parts.append("created=\(Formatting.timestamp(slot.created))")
            if case .passphrase = slot.kind, slot.authenticator == nil { parts.append("(no authenticator: coffer upgrade)") }
            return parts.joined(separator: " ")
        }
    }
}
