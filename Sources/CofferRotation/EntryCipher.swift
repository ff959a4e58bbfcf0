public import CofferCodec
public import CofferCrypto

/// Seals and opens entry values of one vault under a grant (Specs/vault-format.md §3.2).
public struct EntryCipher {
    public let vaultID: [UInt8]
    public let grant: KeyGrant
    /// The entry key last derived, reused so that sealing many entries allocates no guarded
    /// memory per entry; and the hasher keyed with the key of the scope it was derived in.
    private let keys = EntryKeys()

    private final class EntryKeys {
        let entryKey = SecureBytes(count: 32)
        /// The scope `hasher` is keyed for, as UTF-8: entries of one scope follow one another.
        var project: [UInt8] = []
        var domain: [UInt8] = []
        var hasher: BLAKE2b.KeyedHasher?
    }

    private var entryKey: SecureBytes { keys.entryKey }

    public init(vaultID: [UInt8], grant: KeyGrant) {
        self.vaultID = vaultID
        self.grant = grant
    }

    /// EK(scope, name) into `entryKey` (Specs/vault-format.md §3.2), the scope given as the UTF-8
    /// of its project and domain, `message` being `FormatMessages.entryKey(name:)`.
    private func deriveEntryKey(
        project: some Collection<UInt8>, domain: some Collection<UInt8>, message: [UInt8]
    ) throws(KeyError) {
        if keys.hasher == nil || !project.elementsEqual(keys.project) || !domain.elementsEqual(keys.domain) {
            let scopeKey = try grant.scopeKey(for: Scope(
                project: String(decoding: project, as: UTF8.self), domain: String(decoding: domain, as: UTF8.self)))
            if let hasher = keys.hasher { hasher.setKey(scopeKey) } else { keys.hasher = BLAKE2b.KeyedHasher(key: scopeKey) }
            keys.project = Array(project)
            keys.domain = Array(domain)
        }
        guard let hasher = keys.hasher else { preconditionFailure("keyed just above") }
        message.withUnsafeBytes { hasher.hash($0, into: keys.entryKey) }
    }

    private func deriveEntryKey(scope: Scope, name: String) throws(KeyError) {
        try deriveEntryKey(project: scope.project.utf8, domain: scope.domain.utf8, message: FormatMessages.entryKey(name: name))
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

    private enum ResealOutcome { case checked, oldDidNotOpen, newDidNotOpen }

    /// Buffers that `reseal` reuses from one entry to the next. `value` and `check` hold
    /// plaintext between one entry's open and its check: call `wipe()` when done.
    public struct ResealScratch {
        fileprivate var keyMessage: [UInt8] = []
        fileprivate var associatedData: [UInt8] = []
        fileprivate var value: [UInt8] = []
        fileprivate var check: [UInt8] = []

        public init() {}

        public mutating func wipe() {
            value.wipe()
            check.wipe()
        }

        fileprivate mutating func reserve(_ count: Int) {
            guard value.count < count else { return }
            wipe()
            value = [UInt8](repeating: 0, count: count)
            check = [UInt8](repeating: 0, count: count)
        }
    }

    /// The value of the entry at `place` in `file`, opened with this cipher and sealed under
    /// `writer` with the next nonce of `nonces` into `output` (exactly as many bytes as the sealed
    /// value at `place`); the new seal is opened again and compared with the value, so a re-key
    /// checks each entry in the same pass. Allocates nothing once `scratch` has grown to the
    /// largest value.
    public func reseal(
        _ place: VaultIndex.SealedPlace, of file: UnsafeBufferPointer<UInt8>, to writer: EntryCipher,
        nonces: inout NonceBatch, scratch: inout ResealScratch, into output: UnsafeMutableRawBufferPointer
    ) throws(KeyError) {
        precondition(writer.vaultID == vaultID, "re-sealing stays within one vault")
        func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: file[range])) }
        let (project, domain, name, old) = (bytes(place.project), bytes(place.domain), bytes(place.name), bytes(place.sealedValue))
        FormatMessages.entryKey(name: name, into: &scratch.keyMessage)
        try deriveEntryKey(project: project, domain: domain, message: scratch.keyMessage)
        try writer.deriveEntryKey(project: project, domain: domain, message: scratch.keyMessage)
        FormatMessages.entryAssociatedData(vaultID: vaultID, project: project, domain: domain, name: name, into: &scratch.associatedData)
        precondition(output.count == old.count, "a re-sealed value is as long as the one it replaces")
        let count = old.count - XChaCha20Poly1305.overhead
        scratch.reserve(max(count, 0))
        // Array.withUnsafeBytes rethrows untyped errors: the closures report through `outcome`.
        var outcome = ResealOutcome.oldDidNotOpen
        scratch.associatedData.withUnsafeBytes { ad in
            scratch.value.withUnsafeMutableBytes { valueBuffer in
                guard count >= 0 else { return }
                let value = UnsafeMutableRawBufferPointer(rebasing: valueBuffer[0..<count])
                guard (try? XChaCha20Poly1305.open(combined: old, key: entryKey, authenticating: ad, into: value)) != nil else { return }
                // Only now is `output` known to hold a nonce: a forged value may be shorter.
                let nonce = UnsafeMutableRawBufferPointer(rebasing: output[0..<XChaCha20Poly1305.nonceByteCount])
                nonces.take(into: nonce)
                XChaCha20Poly1305.seal(
                    UnsafeRawBufferPointer(value), key: writer.entryKey, nonce: UnsafeRawBufferPointer(nonce),
                    authenticating: ad, into: output)
                scratch.check.withUnsafeMutableBytes { checkBuffer in
                    let check = UnsafeMutableRawBufferPointer(rebasing: checkBuffer[0..<count])
                    let reopened = (try? XChaCha20Poly1305.open(
                        combined: UnsafeRawBufferPointer(output), key: writer.entryKey, authenticating: ad, into: check)) != nil
                    outcome = reopened && ConstantTime.equals(UnsafeRawBufferPointer(value), UnsafeRawBufferPointer(check))
                        ? .checked : .newDidNotOpen
                }
            }
        }
        guard outcome != .checked else { return }
        let part = "entry \(Scope(project: String(decoding: project, as: UTF8.self), domain: String(decoding: domain, as: UTF8.self)))/\(String(decoding: name, as: UTF8.self))"
        throw .tampered(part: outcome == .oldDidNotOpen ? part : part + " did not open after re-sealing")
    }
}
