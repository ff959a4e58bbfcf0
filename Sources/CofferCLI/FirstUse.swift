import Coffer

/// No silent first use (Specs/vault-format.md §8): a vault no user of this machine has vouched
/// for, opened with an identity or a session and no pin, is written only after the user confirms
/// it on the terminal, and read with a warning the first time. A passphrase unlock needs neither: the slot authenticator
/// proves the vault was made by a holder of the passphrase.
enum FirstUse {
    /// Vaults this process checked against at least one pin, successfully.
    nonisolated(unsafe) static var pinned: Set<[UInt8]> = []
    /// Vaults this process found unseen when it opened them, before opening remembered them.
    nonisolated(unsafe) static var unseenWhenOpened: Set<[UInt8]> = []
    static let confirmed = ConfirmedVaults(besideTrustStore: VaultOptions.trustStore.path)

    /// Notes, before the trust store remembers `vault`, whether this machine had seen it.
    static func noteOpening(_ vault: Vault) throws {
        if try VaultOptions.trustStore.pinnedKey(for: vault) == nil { unseenWhenOpened.insert(vault.vaultID) }
    }

    /// After an unlock by identity or session: warns for a read, asks (or refuses without a
    /// terminal, exit 4) for a write, when `vault` is unpinned and no user here has vouched for
    /// it (a passphrase unlock or a confirmation on this machine). A read does not vouch: the
    /// trust store remembers read vaults, so the read warns only the first time.
    static func check(_ vault: Vault, forWriting: Bool) throws {
        guard !pinned.contains(vault.vaultID), try !confirmed.contains(vault) else { return }
        let pin = VaultPin(vault)
        let about = "\(vault.path) is vault \(pin.fingerprint), never confirmed on this machine, opened without a passphrase or a pin"
        let howTo = "if it is the vault you mean (its owner's `coffer pin` tells), pin it: --pin \(pin), $\(VaultPin.environmentVariable), or the line '# \(pin)' in the identity file"
        guard forWriting else {
            if unseenWhenOpened.contains(vault.vaultID) { Terminal.warn("\(about); \(howTo)") }
            return
        }
        guard let answer = try Terminal.prompt("coffer: \(about).\n  pin: \(pin)\nWrite to this vault? [y/N] ") else {
            throw Failure(.corrupted, "refused to write: \(about); \(howTo)")
        }
        let yes = answer.withUnsafeBytes { ["y", "yes"].contains(String(decoding: $0, as: UTF8.self).lowercased()) }
        guard yes else { throw Failure(.corrupted, "not confirmed: nothing written to \(vault.path)") }
        try confirmed.remember(vault)
    }
}
