import ArgumentParser
import Coffer
import CofferCrypto
import CofferRotation

extension CofferCommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create a new vault (./secrets.coffer unless --vault or --local says otherwise).",
            discussion: "The passphrase is asked twice on the terminal, or read from --passphrase-file. With --recipient the first key slot belongs to an age public key instead.")

        @OptionGroup var location: VaultOptions
        @OptionGroup var kdf: KDFOptions

        @Option(name: .long, help: "Read the new vault's passphrase from this file (also $COFFER_PASSPHRASE_FILE).", completion: .file())
        var passphraseFile: String?

        @Option(name: .long, help: "Make the first key slot an age recipient (age1...) instead of a passphrase.")
        var recipient: String?

        @Option(name: .long, help: "A label for the first key slot.")
        var label: String?

        func run() throws {
            let path = try location.resolvedPath(creating: true)
            try Vault.validateText(nil, label: label ?? "")
            let vault: Vault
            if let recipient {
                let parsed = try Recipient(parsing: recipient)
                vault = try Vault.create(at: path, recipient: parsed.publicKey, label: label ?? "recipient")
            } else {
                let passphrase = try UnlockOptions.newPassphrase(
                    file: passphraseFile ?? ProcessInfoLite.environment["COFFER_PASSPHRASE_FILE"], fileOption: "--passphrase-file or --recipient")
                vault = try Vault.create(at: path, passphrase: passphrase, kdf: try kdf.parameters(), label: label ?? "passphrase")
            }
            // A new vault at this path is trusted as made: it pins its own key and replaces any record.
            try VaultOptions.trust.acceptCreated(vault, at: path)
            try VaultOptions.trust.finish()
            Terminal.writeAll(2, Array("coffer: created \(path)\n".utf8))
        }
    }
}

/// Argon2id cost for a new passphrase slot.
struct KDFOptions: ParsableArguments {
    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case interactive, moderate, sensitive
    }

    @Option(name: .long, help: "Argon2id preset: interactive (2 passes, 64 MiB), moderate (3, 256 MiB; the default), sensitive (4, 1 GiB).")
    var kdf: Preset?

    @Option(name: .long, help: "Argon2id passes (with --kdf-memory).")
    var kdfOps: UInt64?

    @Option(name: .long, help: "Argon2id memory in MiB (with --kdf-ops).")
    var kdfMemory: UInt64?

    /// The default: about 0.6 s on a 2-core machine (README, "Choosing the KDF").
    static let defaultPreset = Preset.moderate

    func validate() throws {
        if (kdfOps == nil) != (kdfMemory == nil) { throw ValidationError("--kdf-ops and --kdf-memory go together") }
        if kdf != nil && kdfOps != nil { throw ValidationError("use either --kdf or --kdf-ops/--kdf-memory") }
    }

    func parameters() throws -> Argon2id.Parameters {
        if let kdfOps, let kdfMemory { return try Vault.kdf(passes: kdfOps, memoryMiB: kdfMemory) }
        switch kdf ?? Self.defaultPreset {
        case .interactive: return .interactive
        case .moderate: return .moderate
        case .sensitive: return .sensitive
        }
    }

    /// Whether any KDF option was given.
    var isSet: Bool { kdf != nil || kdfOps != nil }
}
