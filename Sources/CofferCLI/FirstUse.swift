import Coffer

/// No silent first use (Specs/vault-format.md §8): a vault no user of this machine has vouched
/// for, opened with an identity or a session and no pin, is written only after the user confirms
/// it on the terminal, and read with a warning the first time. A passphrase unlock needs neither: the slot authenticator
/// proves the vault was made by a holder of the passphrase. The rule is VaultTrust's (shared with libcoffer);
/// the terminal's part is here.
enum FirstUse {
    /// After an unlock by identity or session: warns for a read, asks (or refuses without a
    /// terminal, exit 4) for a write, when `vault` is unpinned and no user here has vouched for
    /// it (a passphrase unlock or a confirmation on this machine). A read does not vouch: the
    /// trust store remembers read vaults, so the read warns only the first time.
    static func check(_ vault: Vault, forWriting: Bool) throws {
        guard let unconfirmed = try VaultOptions.trust.unconfirmed(vault) else { return }
        guard forWriting else {
            if unconfirmed.firstSeenNow { Terminal.warn("\(unconfirmed.about); \(unconfirmed.howTo)") }
            return
        }
        guard let answer = try Terminal.prompt("coffer: \(unconfirmed.about).\n  pin: \(unconfirmed.pin)\nWrite to this vault? [y/N] ") else {
            throw unconfirmed.refusal
        }
        let yes = answer.withUnsafeBytes { ["y", "yes"].contains(String(decoding: $0, as: UTF8.self).lowercased()) }
        guard yes else { throw Failure(.corrupted, "not confirmed: nothing written to \(vault.path)") }
        try VaultOptions.trust.confirm(vault)
    }
}
