public import CofferCodec

/// Vaults a user of this machine has vouched for as writable without a passphrase or a pin
/// (Specs/vault-format.md §8, "No silent first use"): confirmed on the terminal, or unlocked here
/// by a passphrase whose slot authenticator held. Kept apart from the trust store, which also
/// remembers vaults that were only read: a read must not make the next write silent.
/// `confirmed-vaults` beside the trust store, one `<vault id> <genesis key>` line (hex) per vault.
public struct ConfirmedVaults: Sendable {
    private let file: StateLines
    public var path: String { file.path }

    /// Beside the trust store at `trustStorePath`.
    public init(besideTrustStore trustStorePath: String) {
        file = StateLines(besideTrustStore: trustStorePath, named: "confirmed-vaults", fieldLengths: [32, 64])
    }

    private static func record(_ vault: Vault) -> [String] {
        [TextView.hex(vault.vaultID), TextView.hex(vault.keyChain.genesisKey)]
    }

    public func contains(_ vault: Vault) throws -> Bool {
        try file.records().contains(Self.record(vault))
    }

    /// Records `vault` as confirmed; nothing when it already is.
    public func remember(_ vault: Vault) throws {
        guard try !contains(vault) else { return }
        try file.add(Self.record(vault))
    }
}
