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
                a rolled back or forked vault (a warning) exits 4.
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
            let (vault, findings) = try location.openWarning()
            if unlockVault || unlock.hasKeySource {
                try unlock.unlock(vault)
            } else if !Sessions.resume(vault) {
                report(vault, opened: nil)
                try failOnWarnings(findings)
                return
            }
            var opened = 0
            for entry in vault.entries where vault.keyGrant?.canOpen(entry.scope) == true {
                _ = try vault.value(for: entry.name, in: entry.scope)
                opened += 1
            }
            report(vault, opened: opened)
            try failOnWarnings(findings)
        }

        /// A rolled back or forked vault verifies as a file but is not what was seen before: exit 4.
        private func failOnWarnings(_ findings: [TrustStore.Finding]) throws {
            guard !findings.isEmpty else { return }
            throw Failure(.corrupted, "not verified: the signature holds, but this is not the newest version seen (see the warning above)")
        }
    }
}
