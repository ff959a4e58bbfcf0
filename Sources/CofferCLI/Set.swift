import ArgumentParser
import Coffer
import CofferCrypto

extension CofferCommand {
    struct SetSecret: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Store a secret. The value is typed hidden, or read from stdin or --from-file.",
            discussion: """
                From a terminal the value is asked twice with echo off (--once: once); a value of several \
                lines pasted there is refused (give it with --from-file or on a pipe). From a pipe, stdin is read whole and one \
                final newline is dropped. --from-file keeps the file's bytes exactly. `coffer set @FILE` \
                imports a whole file (see `coffer import`).
                """)

        @Argument(help: "The secret's name (A-Z a-z 0-9 . _ -), or @FILE to import a file.", completion: Completions.names)
        var name: String

        @OptionGroup var location: VaultOptions
        @OptionGroup var scopeOptions: ScopeOptions
        @OptionGroup var unlock: UnlockOptions

        @Flag(name: .long, help: "Replace an existing secret of this name.")
        var overwrite = false

        @Option(name: .long, help: "A description stored in plaintext beside the name.")
        var description: String?

        @Option(name: .long, help: "Read the value from this file, bytes exactly.", completion: .file())
        var fromFile: String?

        @Option(name: .long, help: "The value itself (it lands in shell history and process lists: avoid).")
        var value: String?

        @Flag(name: .long, help: "Mark the secret no-reveal: usable by run and render, never printed.")
        var noReveal = false

        @Flag(name: .long, help: "At a terminal, ask for the value once instead of twice.")
        var once = false

        func run() throws {
            if name.hasPrefix("@") {
                try Import.importFile(
                    String(name.dropFirst()), format: nil, into: location, scope: scopeOptions.scope, unlock: unlock,
                    overwrite: overwrite)
                return
            }
            // Everything that needs no key is checked before the value and the passphrase are asked for.
            try Vault.validate(name: name, scope: scopeOptions.scope)
            try Vault.validateText(description, label: "")
            if !overwrite, try location.open().entry(name, in: scopeOptions.scope) != nil {
                throw CofferError.entryExists(name: name, scope: scopeOptions.scope.description)
            }
            let secret = try readValue()
            guard !secret.isEmpty else { throw Failure(.usage, "the value is empty: coffer stores no empty values") }
            let warnings = try location.modify(unlock: unlock) { vault in
                try vault.set(
                    name, value: secret, in: scopeOptions.scope, overwrite: overwrite,
                    description: description, noReveal: noReveal ? true : nil)
                return StoreWarnings.lines(for: [(name, secret.count)], in: vault)
            }
            warnings.forEach(Terminal.warn)
        }

        private func readValue() throws -> [UInt8] {
            if let value {
                Terminal.warn("--value puts the secret in your shell history and the process list; prefer stdin or the prompt")
                return Array(value.utf8)
            }
            let secret: SecureBytes
            if let fromFile {
                secret = try FileInput.read(fromFile, limit: 1 << 20)
            } else if Terminal.stdinIsTTY {
                guard let typed = try Terminal.prompt("Value for \(name): ", limit: 1 << 20, refusingPaste: true) else {
                    throw Failure(.usage, "no value: give it on stdin, with --from-file, or at a terminal")
                }
                if !once, typed.count > 0 {
                    let again = try Terminal.prompt("Repeat the value for \(name): ", limit: 1 << 20, refusingPaste: true)
                    guard again == typed else { throw Failure(.usage, "the two values differ: nothing stored") }
                }
                secret = typed
            } else {
                secret = Terminal.droppingFinalNewline(try Terminal.readSecret(fd: 0, limit: 1 << 20, what: "standard input"))
            }
            return secret.withUnsafeBytes { Array($0) }
        }
    }
}
