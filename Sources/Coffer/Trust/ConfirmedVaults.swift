public import CofferCodec

/// Vaults a user of this machine has vouched for as writable without a passphrase or a pin
/// (Specs/vault-format.md §8, "No silent first use"): confirmed on the terminal, or unlocked here
/// by a passphrase whose slot authenticator held. Kept apart from the trust store, which also
/// remembers vaults that were only read: a read must not make the next write silent.
/// `confirmed-vaults` beside the trust store, one `<vault id> <genesis key>` line (hex) per vault;
/// read and written through `TrustState`.
enum ConfirmedVaults {
    static func lines(besideTrustStore trustStorePath: String) -> StateLines {
        StateLines(besideTrustStore: trustStorePath, named: "confirmed-vaults", fieldLengths: [32, 64])
    }

    static func record(_ vault: Vault) -> [String] {
        [TextView.hex(vault.vaultID), TextView.hex(vault.keyChain.genesisKey)]
    }
}
