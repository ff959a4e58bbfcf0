import ArgumentParser
import Coffer
import CofferCrypto
#if canImport(Glibc)
import Glibc
#endif

extension CofferCommand {
    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "edit",
            abstract: "Edit a scope's secrets in $VISUAL or $EDITOR; the changes are applied as one atomic save.",
            discussion: """
                Opens the secrets stored exactly in the selected scope (global without --project/--domain) \
                as dotenv or YAML, in a 0600 file in a private folder under $XDG_RUNTIME_DIR; the file is \
                overwritten with zeros and removed afterwards, also when the editor fails or coffer is \
                interrupted. Add, change, delete or rename lines; a line whose value is the placeholder \
                keeps a value that is not shown (no-reveal, or not text). On save the changes are named \
                (never a value) and applied under the vault's lock. If the vault changed meanwhile, nothing \
                is applied. A syntax error reopens the editor with the error on top when there is a terminal.
                """)

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        @Option(name: .long, help: "dotenv or yaml.")
        var format: EditFormat = .dotenv

        @Flag(name: .long, help: "Allow the plaintext scratch file on persistent storage ($XDG_RUNTIME_DIR unset or not a tmpfs).")
        var unsafeTmp = false

        /// The vault changed on disk while the editor was open.
        struct ChangedMeanwhile: Error {}

        func run() throws {
            let scope = scopeOptions.scope
            var base = try location.open()
            try unlock.unlock(base, forWriting: true)
            guard base.canWrite else { throw Failure(.authentication, "this key can read but not write the vault") }
            let scratch = try ScratchFile(extension: format.fileExtension, allowPersistent: unsafeTmp)
            defer { scratch.destroy() }
            var view = try Self.view(of: base, scope: scope, format: format)
            defer { view.wipe() }
            var text = view.render(header: Self.header(base, scope: scope))
            defer { text.wipe() }
            while true {
                try scratch.write(text)
                try scratch.edit()
                var edited = try scratch.read()
                defer { edited.wipe() }
                if edited == text, !Self.hasNotes(text) {
                    Terminal.writeAll(2, Array("coffer: no changes\n".utf8))
                    return
                }
                var changes: EditView.Changes
                do {
                    changes = try view.changes(in: edited, path: scratch.displayName, scope: scope)
                } catch let error as CofferError {
                    let message = Failure(error).message
                    guard Terminal.stdinIsTTY, edited != text else { throw Failure(.usage, message + "; nothing changed") }
                    text.wipe()
                    text = Self.withNotes(["error: " + message, "fix it and save, or save unchanged to abandon the edit"], edited)
                    continue
                }
                defer { changes.wipe() }
                if changes.isEmpty {
                    Terminal.writeAll(2, Array("coffer: no changes\n".utf8))
                    return
                }
                do {
                    let generation = try apply(changes, over: base, scope: scope)
                    Terminal.writeAll(2, Array("coffer: \(changes.summary) (generation \(generation))\n".utf8))
                    return
                } catch is ChangedMeanwhile {
                    let current = try location.open()
                    let message = "\(current.path) changed while you edited (generation \(base.generation) -> \(current.generation)): nothing applied"
                    guard Terminal.stdinIsTTY else { throw Failure(.conflict, message) }
                    try unlock.unlock(current)
                    var previous = view
                    defer { previous.wipe() }
                    base = current
                    view = try Self.view(of: base, scope: scope, format: format)
                    let meanwhile = (try? previous.changes(in: view.render(header: []), path: "", scope: scope))?.summary ?? ""
                    text.wipe()
                    text = Self.withNotes(
                        [message, "changed meanwhile: " + (meanwhile.isEmpty ? "nothing in this scope" : meanwhile),
                         "saving this text makes it the scope's content in the current vault"],
                        Self.withoutNotes(edited))
                }
            }
        }

        /// Applies `changes` if the vault is still the one `base` read; returns the new generation.
        private func apply(_ changes: EditView.Changes, over base: Vault, scope: Scope) throws -> UInt64 {
            guard let grant = base.keyGrant else { throw Failure(.authentication, "the vault is locked") }
            let unchanged = { (vault: Vault) throws in
                guard vault.signature == base.signature else { throw ChangedMeanwhile() }
            }
            return try location.modify(unlocking: { vault in
                try unchanged(vault)
                try vault.unlock(grant: grant, slot: base.unlockedSlot)
            }) { vault in
                try unchanged(vault)
                try EditView.apply(changes, to: vault, in: scope)
                try vault.save()
                return vault.generation
            }
        }

        static func view(of vault: Vault, scope: Scope, format: EditFormat) throws -> EditView {
            let secrets = try vault.entries.filter { $0.scope == scope }.map { entry in
                EditView.Secret(name: entry.name, value: try vault.value(for: entry.name, in: scope), hidden: entry.isNoReveal)
            }
            return EditView(secrets, format: format)
        }

        static func header(_ vault: Vault, scope: Scope) -> [String] {
            [
                "coffer edit: \(vault.path), scope \(scope), generation \(vault.generation)",
                "add, change, delete or rename lines; \(EditView.placeholder) keeps a value not shown here",
            ]
        }

        /// Notes go on top as `# !! ` lines, and are taken off before the text is offered again.
        private static let notePrefix = "# !! "

        static func withNotes(_ notes: [String], _ text: [UInt8]) -> [UInt8] {
            Array(notes.map { notePrefix + $0 + "\n" }.joined().utf8) + withoutNotes(text)
        }

        static func withoutNotes(_ text: [UInt8]) -> [UInt8] {
            var rest = text[...]
            let prefix = Array(notePrefix.utf8)
            while rest.starts(with: prefix) {
                guard let newline = rest.firstIndex(of: UInt8(ascii: "\n")) else { return [] }
                rest = rest[(newline + 1)...]
            }
            return Array(rest)
        }

        static func hasNotes(_ text: [UInt8]) -> Bool { text.starts(with: Array(notePrefix.utf8)) }
    }
}

extension EditFormat: ExpressibleByArgument {}
