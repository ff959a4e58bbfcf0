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


        @Flag(name: .long, help: "Check the vault file's git history instead: every parent -> child edge from HEAD back to REVISION. Needs no key.")
        var history = false

        @Argument(help: "With --history: the oldest commit to check (default: the whole history).")
        var revision: String?

        func validate() throws {
            if revision != nil && !history { throw ValidationError("a REVISION is only taken with --history") }
        }

        func run() throws {
            if history { return try checkHistory() }
            let (vault, trustFindings, historyBreak) = try location.openWithFindings()
            let findings = trustFindings.map(\.message) + (historyBreak.map { [$0] } ?? [])
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

        /// Every version of the vault file in git's history, along every parent -> child edge.
        private func checkHistory() throws {
            let path = try location.resolvedPath()
            do {
                let checked = try GitHistory.check(vaultAt: path, back: revision)
                Terminal.output("history ok: \(checked.versions) version\(checked.versions == 1 ? "" : "s") checked\n")
            } catch let broken as HistoryCheck.Break {
                throw Failure(.corrupted, "history check failed at commit \(broken.commit): \(broken.reason)")
            }
        }

        /// A rollback, fork or replaced key (warned about on open) makes verify exit 4: the file
        /// is intact, but it is not the vault this user has seen.
        static func failOn(_ findings: [String]) throws {
            guard !findings.isEmpty else { return }
            throw Failure(.corrupted, "the vault verifies, but not as the vault seen before: \(findings.count) trust finding(s) above")
        }
    }
}
