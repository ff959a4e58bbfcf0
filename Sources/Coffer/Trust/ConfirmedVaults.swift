public import CofferCodec
#if canImport(Glibc)
import Glibc
#endif

/// Vaults a user of this machine has vouched for as writable without a passphrase or a pin
/// (Specs/vault-format.md §8, "No silent first use"): confirmed on the terminal, or unlocked here
/// by a passphrase whose slot authenticator held. Kept apart from the trust store, which also
/// remembers vaults that were only read: a read must not make the next write silent.
/// A text file beside the trust store, `confirmed-vaults`, one `<vault id> <genesis key>` line
/// (hex) per vault, mode 0600, rewritten atomically under a lock.
public struct ConfirmedVaults: Sendable {
    public let path: String

    /// Beside the trust store at `trustStorePath`.
    public init(besideTrustStore trustStorePath: String) {
        path = FileSystem.directory(of: trustStorePath) + "/confirmed-vaults"
    }

    private static func line(_ vault: Vault) -> String {
        TextView.hex(vault.vaultID) + " " + TextView.hex(vault.keyChain.genesisKey)
    }

    public func contains(_ vault: Vault) throws -> Bool {
        try load().contains(Self.line(vault))
    }

    /// Records `vault` as confirmed; nothing when it already is.
    public func remember(_ vault: Vault) throws {
        guard try !contains(vault) else { return }
        try FileSystem.makeFolders(FileSystem.directory(of: path))
        let lock = try FileLock(path + ".lock")
        defer { withExtendedLifetime(lock) {} }
        let lines = try load().union([Self.line(vault)]).sorted()
        try FileSystem.atomicReplace(path, with: Array(lines.map { $0 + "\n" }.joined().utf8), mode: 0o600)
    }

    /// A missing file is empty; a malformed one is an error, never a reason to accept everything.
    private func load() throws -> Set<String> {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.read(path, limit: 16 << 20)
        } catch CofferError.io(_, let reason) where reason == "no such file" {
            return []
        }
        var lines: Set<String> = []
        for (number, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n").enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[0].utf8.count == 32, fields[1].utf8.count == 64 else {
                throw CofferError.corrupted(part: "\(path), line \(number + 1)")
            }
            lines.insert(String(line))
        }
        return lines
    }
}
