import ArgumentParser
import Coffer

extension CofferCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check the vault's signature; with a key, also open every entry.",
            discussion: """
                Without a key source (--passphrase-file, --passphrase-fd, --identity, a session) or --unlock, \
                only the signature is checked and no prompt is shown. Exit 0 only if all that was checked is intact; \
                exit 4 also when the vault is a rollback, a fork or under a replaced key (said on stderr).
                """)

        @OptionGroup var location: VaultOptions
        @OptionGroup var unlock: UnlockOptions

        @Flag(name: [.customLong("unlock"), .customLong("unlock-vault")], help: "Ask for the passphrase on the terminal and open every entry.")
        var unlockVault = false

        @Flag(name: .long, help: "JSON output (schema: Specs/cli-json.md).")
        var json = false

        private func report(_ vault: Vault, opened: Int?) {
            let count = vault.entryCount
            if json {
                Terminal.output(JSONOutput.object([
                    ("signature", JSONOutput.string("ok")),
                    ("generation", "\(vault.generation)"),
                    ("entries", "\(count)"),
                    ("valuesChecked", "\(opened != nil)"),
                    ("valuesOpened", opened.map { "\($0)" } ?? "null"),
                ]) + "\n")
            } else if let opened {
                Terminal.output("signature ok (generation \(vault.generation)); \(opened) of \(count) values open and verify\n")
            } else {
                Terminal.output("signature ok (generation \(vault.generation), \(count) entries); values not checked: no key given\n")
            }
        }

        func run() throws {
            let (vault, findings) = try location.openWithFindings()
            if unlockVault || unlock.hasKeySource {
                try unlock.unlock(vault)
            } else if !Sessions.resume(vault) {
                report(vault, opened: nil)
                try Self.failOn(findings)
                return
            }
            var opened = 0
            for entry in vault.entries where vault.keyGrant?.canOpen(entry.scope) == true {
                _ = try vault.value(for: entry.name, in: entry.scope)
                opened += 1
            }
            report(vault, opened: opened)
            try Self.failOn(findings)
        }

        /// A rollback, fork or replaced key (warned about on open) makes verify exit 4: the file
        /// is intact, but it is not the vault this user has seen.
        static func failOn(_ findings: [TrustStore.Finding]) throws {
            guard !findings.isEmpty else { return }
            throw Failure(.corrupted, "the vault verifies, but not as the vault seen before: \(findings.count) trust finding(s) above")
        }
    }
}
