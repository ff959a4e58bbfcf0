public import CofferCodec
#if canImport(Glibc)
import Glibc
#endif

/// The passphrase slots this machine has seen, by salt and public key, each with its vault's id
/// (Specs/vault-format.md §8, "Copied passphrase slots"). A vault with another id carrying one of them was
/// built from a known vault's public parts: no one else makes a slot with that salt and key.
/// A text file beside the trust store, `passphrase-slots`, one `<salt><public key> <vault id>`
/// line (hex) per slot, mode 0600, rewritten atomically under a lock.
public struct KnownPassphraseSlots: Sendable {
    public let path: String

    /// Beside the trust store at `trustStorePath`.
    public init(besideTrustStore trustStorePath: String) {
        path = FileSystem.directory(of: trustStorePath) + "/passphrase-slots"
    }

    private static func key(_ slot: Slot) -> String? {
        guard case let .passphrase(salt, _, _) = slot.kind else { return nil }
        return TextView.hex(salt) + TextView.hex(slot.publicKey)
    }

    /// Refuses (`forged`, exit 4) a vault whose passphrase slot is known here from another vault.
    public func check(_ vault: Vault) throws {
        let known = try load()
        let id = TextView.hex(vault.vaultID)
        for slot in vault.slots {
            guard let key = Self.key(slot), let other = known[key], other != id else { continue }
            throw CofferError.forged(
                "\(vault.path) (vault \(id)) carries passphrase slot \(slot.idText) of vault \(other), seen on this machine: a copy made to forge it")
        }
    }

    /// Records the passphrase slot `vault` was unlocked with, once its authenticator has shown
    /// that the vault was made by a holder of the passphrase. Only that slot: recording slots not
    /// yet authenticated would let a forged vault, opened first, claim a real vault's slots.
    public func rememberUnlockedSlot(of vault: Vault) throws {
        let id = TextView.hex(vault.vaultID)
        guard let slot = vault.unlockedSlot, slot.authenticator != nil, let key = Self.key(slot) else { return }
        let slots = [key]
        let seen = try load()
        guard seen[key] == nil else { return }
        try FileSystem.makeFolders(FileSystem.directory(of: path))
        let lock = try FileLock(path + ".lock")
        defer { withExtendedLifetime(lock) {} }
        var known = try load()
        for key in slots where known[key] == nil { known[key] = id }
        let text = known.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
        try FileSystem.atomicReplace(path, with: Array(text.utf8), mode: 0o600)
    }

    /// A missing file is empty; a malformed one is an error, never a reason to accept everything.
    private func load() throws -> [String: String] {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(path, limit: 16 << 20)
        } catch CofferError.io(_, let reason) where reason == "no such file" {
            return [:]
        }
        var known: [String: String] = [:]
        for (number, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n").enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[0].utf8.count == 96, fields[1].utf8.count == 32 else {
                throw CofferError.corrupted(part: "\(path), line \(number + 1)")
            }
            known[String(fields[0])] = String(fields[1])
        }
        return known
    }
}
