import Coffer

/// No silent first use (Specs/vault-format.md §8): a vault this machine has never seen, opened
/// with an identity or a session and no pin, is written only after the user confirms it on the
/// terminal, and read with a warning. A passphrase unlock needs neither: the slot authenticator
/// proves the vault was made by a holder of the passphrase.
enum FirstUse {
    /// Vaults this process found unseen when it opened them, before opening remembered them.
    nonisolated(unsafe) static var unseenWhenOpened: Set<[UInt8]> = []
    /// Vaults this process checked against at least one pin, successfully.
    nonisolated(unsafe) static var pinned: Set<[UInt8]> = []

    /// Notes, before the trust store remembers `vault`, whether this machine had seen it.
    static func noteOpening(_ vault: Vault) throws {
        if try VaultOptions.trustStore.pinnedKey(for: vault) == nil { unseenWhenOpened.insert(vault.vaultID) }
    }

    /// After an unlock by identity or session: warns for a read, asks (or refuses without a
    /// terminal, exit 4) for a write, when `vault` is unseen and unpinned.
    static func check(_ vault: Vault, forWriting: Bool) throws {
        guard !pinned.contains(vault.vaultID) else { return }
        let unseen = try unseenWhenOpened.contains(vault.vaultID) || VaultOptions.trustStore.pinnedKey(for: vault) == nil
        guard unseen else { return }
        let pin = VaultPin(vault)
        let about = "\(vault.path) is vault \(pin.fingerprint), never seen on this machine, opened without a passphrase or a pin"
        let howTo = "if it is the vault you mean (its owner's `coffer pin` tells), pin it: --pin \(pin), $\(VaultPin.environmentVariable), or the line '# \(pin)' in the identity file"
        guard forWriting else {
            Terminal.warn("\(about); \(howTo)")
            return
        }
        guard let answer = try Terminal.prompt("coffer: \(about).\n  pin: \(pin)\nWrite to this vault? [y/N] ") else {
            throw Failure(.corrupted, "refused to write: \(about); \(howTo)")
        }
        let yes = answer.withUnsafeBytes { ["y", "yes"].contains(String(decoding: $0, as: UTF8.self).lowercased()) }
        guard yes else { throw Failure(.corrupted, "not confirmed: nothing written to \(vault.path)") }
    }
}
