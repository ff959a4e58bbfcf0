import ArgumentParser
import Coffer
import CofferCodec
import CofferCrypto
import CofferRotation
#if canImport(Glibc)
import Glibc
#endif

extension CofferCommand {
    struct Slots: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "slots",
            abstract: "List, add and remove key slots (passphrases and age recipients).",
            subcommands: [ListSlots.self, AddPassphrase.self, AddRecipient.self, Remove.self],
            defaultSubcommand: ListSlots.self)
    }
}

/// Parses slot ids as `slots list` prints them.
enum SlotArgument {
    static func parse(_ text: String) throws -> UInt32 {
        guard let id = Slot.id(fromText: text.lowercased()) else {
            throw Failure(.usage, "\(text) is not a slot id (8 hex digits, as `coffer slots list` shows)")
        }
        return id
    }
}

enum Argon2idParameters {
    static func make(ops: UInt64, mem: UInt64) throws -> Argon2id.Parameters {
        do {
            return try Argon2id.Parameters(opsLimit: ops, memLimit: mem)
        } catch {
            throw Failure(.corrupted, "the slot's Argon2id parameters are invalid")
        }
    }
}

extension CofferCommand.Slots {
    struct ListSlots: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "One line per slot: id, type, recipient or KDF parameters, scope, label. Needs no key.")

        @OptionGroup var location: VaultOptions

        @Flag(name: .long, help: "JSON output.")
        var json = false

        func run() throws {
            let vault = try location.open()
            if json {
                Terminal.output("[" + vault.slots.map(JSONOutput.slot).joined(separator: ",\n") + "]\n")
            } else {
                Terminal.output(vault.slots.map { $0.idText + "  " + CofferCommand.Inspect.describe($0) + "\n" }.joined())
            }
        }
    }

    struct AddPassphrase: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-passphrase", abstract: "Add a passphrase slot (a second person, or a recovery passphrase).")

        @OptionGroup var location: VaultOptions
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var kdf: KDFOptions

        @Option(name: .long, help: "Read the new passphrase from this file.", completion: .file())
        var newPassphraseFile: String?

        @Option(name: .long, help: "A label for the slot.")
        var label = "passphrase"

        func run() throws {
            try Vault.validateText(nil, label: label)
            let parameters = try kdf.parameters()
            let newPassphrase = try UnlockOptions.newPassphrase(file: newPassphraseFile)
            let slot = try location.modify(unlock: unlock) { vault in
                try vault.addPassphraseSlot(newPassphrase, kdf: parameters, label: label)
            }
            Terminal.output(slot.idText + "\n")
        }
    }

    struct AddRecipient: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-recipient",
            abstract: "Add age recipients (age1..., age plugin or ssh-ed25519 public keys); --project/--domain grant that scope only, read-only.",
            discussion: """
                An SSH key's slot is labelled with the key's comment unless --label is given. A -R file \
                (an age recipients file, ~/.ssh/id_ed25519.pub, or https://github.com/USER.keys) takes the \
                same keys, age plugin recipients (age1yubikey1...) included; SSH keys \
                of other types than ssh-ed25519 are listed and skipped; --strict refuses the file instead.
                """)

        @Argument(help: "age1... public keys, age plugin recipients (age1yubikey1...), or SSH public keys (\"ssh-ed25519 AAAA... comment\", quoted).")
        var publicKeys: [String] = []

        @Option(name: [.customShort("R"), .customLong("recipients-file")], help: "A file of age1..., age plugin or ssh-ed25519 keys, one a line, # comments.", completion: .file())
        var recipientsFile: String?

        @Flag(name: .long, help: "Refuse a -R file holding SSH keys of unsupported types instead of skipping them.")
        var strict = false

        @OptionGroup var location: VaultOptions
        @OptionGroup var unlock: UnlockOptions
        @OptionGroup var scopeOptions: ScopeOptions

        @Option(name: .long, help: "A label for the slot(s) (default: an SSH key's comment, else \"recipient\").")
        var label: String?

        @Option(name: .long, help: "Make a new identity for the slot and write it here, with the vault's pin (the one file a CI secret needs).")
        var identityOut: String?

        func validate() throws {
            if publicKeys.isEmpty && recipientsFile == nil && identityOut == nil {
                throw ValidationError("give an age1... or ssh-ed25519 key, -R FILE or --identity-out FILE")
            }
        }

        func run() throws {
            try Vault.validateText(nil, label: label ?? "recipient")
            try Vault.validate(scope: scopeOptions.scope)
            var recipients: [RecipientKey] = []
            var plugins: [PluginKey] = []
            do {
                recipients = try publicKeys.compactMap { text in
                    if let plugin = PluginKey.recipient(text) {
                        plugins.append(plugin)
                        return nil
                    }
                    return try RecipientKey(parsing: text)
                }
                if let recipientsFile {
                    let text = String(decoding: try FileInput.readContent(recipientsFile, limit: 1 << 20, what: "recipients"), as: UTF8.self)
                    let parsed = try IdentityFile.parseRecipients(text, path: recipientsFile, strict: strict)
                    for skipped in parsed.skipped {
                        Terminal.warn("\(recipientsFile), \(skipped): unsupported key type skipped (supported: ssh-ed25519, age1...)")
                    }
                    guard !parsed.keys.isEmpty || !parsed.plugins.isEmpty else {
                        throw Failure(.usage, "\(recipientsFile) holds no supported key")
                    }
                    recipients += parsed.keys
                    plugins += parsed.plugins
                }
            } catch let error as IdentityError {
                throw Failure(error)
            }
            let made = identityOut.map { _ in Identity.generate() }
            if let made { recipients.append(.age(made.recipient)) }
            // Plugins wrap before the vault is locked: they may ask for a PIN or a touch.
            let pluginSlots = try plugins.map { plugin in
                let pluginKey = SecureBytes.random(count: 16)
                let stanzas = try AgePlugin.wrap(pluginKey, to: plugin)
                return (plugin, stanzas, try X25519.publicKey(for: SlotWrapping.pluginSecretKey(pluginKey)))
            }
            var written: String?
            let slots: [Slot]
            do {
                slots = try location.modify(unlock: unlock) { vault in
                    let slots = try recipients.map {
                        try vault.addRecipientSlot(
                            $0.publicKey, kind: $0.slotKind, label: label ?? $0.comment ?? "recipient", scope: scopeOptions.scope)
                    } + pluginSlots.map { plugin, stanzas, publicKey in
                        try vault.addRecipientSlot(
                            publicKey, kind: .plugin(recipient: plugin.text, stanzas: stanzas), label: label ?? "plugin \(plugin.name)",
                            scope: scopeOptions.scope)
                    }
                    if let made, let identityOut {
                        // Written before the save; removed again if the save fails.
                        let contents = CofferCommand.Keygen.prefixed(Array(VaultPin(vault).identityFileLine.utf8), IdentityFile.render(made))
                        try CofferCommand.Keygen.writeNew(identityOut, contents)
                        written = identityOut
                    }
                    return slots
                }
            } catch {
                if let written { unlink(written) }
                throw error
            }
            if let written { Terminal.writeAll(2, Array("coffer: wrote identity \(written) (with the vault's pin)\n".utf8)) }
            Terminal.output(slots.map { $0.idText + "\n" }.joined())
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a key slot and re-key the vault (the last slot cannot be removed).",
            discussion: """
                Re-keying means the removed party's copy of the master key opens nothing written from now \
                on. It cannot undo the past: every copy of the old file (git history included) still opens \
                with that party's key, so the entries it could read are listed: change them at their source.
                """)

        @Argument(help: "The slot id (from `coffer slots list`).", completion: Completions.slotIDs)
        var id: String

        @OptionGroup var location: VaultOptions
        @OptionGroup var unlock: UnlockOptions

        @Flag(name: .long, help: "Do not re-key (the removed party may have kept the master key: not recommended).")
        var noRekey = false

        func run() throws {
            let slotID = try SlotArgument.parse(id)
            if noRekey { Terminal.warn("--no-rekey: whoever held this slot may still hold the master key and read future changes") }
            let exposed = try location.modify(unlock: unlock) { vault in
                let exposed = try vault.removeSlot(slotID, rekey: !noRekey)
                try vault.save()
                Sessions.refresh(after: vault)
                return exposed
            }
            var report = "removed slot \(Slot.idText(slotID))\(noRekey ? "" : "; vault re-keyed")\n"
            if !exposed.isEmpty {
                report += "the removed party could read these \(exposed.count) secrets in older copies; change them at their source:\n"
                report += exposed.map { "  \($0.scope)/\($0.name)\n" }.joined()
            }
            Terminal.output(report)
        }
    }
}
