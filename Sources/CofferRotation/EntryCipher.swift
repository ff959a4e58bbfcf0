public import CofferCodec
import CofferCrypto

/// Seals and opens entry values of one vault under a grant (Specs/vault-format.md §3.2).
public struct EntryCipher {
    public let vaultID: [UInt8]
    public let grant: KeyGrant
    /// Reused for every entry key, so sealing many entries allocates no guarded memory per entry.
    private let entryKey = SecureBytes(count: 32)

    public init(vaultID: [UInt8], grant: KeyGrant) {
        self.vaultID = vaultID
        self.grant = grant
    }

    private func deriveEntryKey(scope: Scope, name: String) throws(KeyError) {
        let scopeKey = try grant.scopeKey(for: scope)
        FormatMessages.entryKey(name: name).withUnsafeBytes {
            BLAKE2b.keyedHash($0, key: scopeKey, into: entryKey)
        }
    }

    /// `nonce || ciphertext || tag` of `value`, with a fresh nonce.
    public func seal(_ value: [UInt8], name: String, scope: Scope) throws(KeyError) -> [UInt8] {
        try deriveEntryKey(scope: scope, name: name)
        let ad = FormatMessages.entryAssociatedData(vaultID: vaultID, scope: scope, name: name)
        return XChaCha20Poly1305.seal(value, key: entryKey, authenticating: ad).combined
    }

    public func open(_ entry: Entry) throws(KeyError) -> [UInt8] {
        try deriveEntryKey(scope: entry.scope, name: entry.name)
        let ad = FormatMessages.entryAssociatedData(vaultID: vaultID, scope: entry.scope, name: entry.name)
        do {
            let box = try XChaCha20Poly1305.SealedBox(combined: Array(entry.sealedValue))
            return try XChaCha20Poly1305.open(box, key: entryKey, authenticating: ad)
        } catch {
            throw .tampered(part: "entry \(entry.scope)/\(entry.name)")
        }
    }
}
