public import CofferCodec

/// The passphrase slots this machine has seen, by salt and public key, each with its vault's id
/// (Specs/vault-format.md §8, "Copied passphrase slots"). A vault with another id carrying one of them was
/// built from a known vault's public parts: no one else makes a slot with that salt and key.
/// A text file beside the trust store, `passphrase-slots`, one `<salt><public key> <vault id>`
/// line (hex) per slot, mode 0600, rewritten atomically under a lock; read and written through
/// `TrustState`.
enum KnownPassphraseSlots {
    static func lines(besideTrustStore trustStorePath: String) -> StateLines {
        StateLines(besideTrustStore: trustStorePath, named: "passphrase-slots", fieldLengths: [96, 32])
    }

    private static func key(_ slot: Slot) -> String? {
        guard case let .passphrase(salt, _, _) = slot.kind else { return nil }
        return TextView.hex(salt) + TextView.hex(slot.publicKey)
    }

    /// Refuses (`forged`, exit 4) a vault whose passphrase slot is known here (`records`) from another vault.
    static func check(_ vault: Vault, against records: [[String]]) throws {
        let known = Dictionary(records.map { ($0[0], $0[1]) }) { first, _ in first }
        let id = TextView.hex(vault.vaultID)
        for slot in vault.slots {
            guard let key = Self.key(slot), let other = known[key], other != id else { continue }
            throw CofferError.forged(
                "\(vault.path) (vault \(id)) carries passphrase slot \(slot.idText) of vault \(other), seen on this machine: a copy made to forge it")
        }
    }

    /// The record of the passphrase slot `vault` was unlocked with, once its authenticator has
    /// shown that the vault was made by a holder of the passphrase; nil otherwise. Only that slot:
    /// recording slots not yet authenticated would let a forged vault, opened first, claim a real
    /// vault's slots.
    static func record(ofUnlockedSlot vault: Vault) -> [String]? {
        guard let slot = vault.unlockedSlot, slot.authenticator != nil, let key = Self.key(slot) else { return nil }
        return [key, TextView.hex(vault.vaultID)]
    }
}
