public import CofferCodec
public import CofferCrypto
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Key rotation on a decoded vault: changing one slot, adding and removing slots, and re-keying
/// everything under a fresh master key (Specs/rotation.md).
public enum Rotation {
    /// Re-keys `file`: a fresh master key, every entry re-sealed (and opened again under the new
    /// key in the same pass: the result needs no further check), every slot re-wrapped, and a
    /// key-chain link, signed by the old key, to the new verification key. Names, scopes, metadata
    /// and slot ids are unchanged. The generation is left to the save that writes the result.
    public static func rekey(_ file: VaultFile, from old: KeyGrant) throws -> (file: VaultFile, grant: KeyGrant) {
        guard file.generation < UInt64.max else { throw KeyError.tampered(part: "header: generation at its maximum") }
        let oldSigningKey = try old.signingKey()
        let new = KeyGrant.generate()
        var result = file
        result.entries = try resealed(file.entries, vaultID: file.vaultID, from: old, to: new)
        for index in result.slots.indices {
            let slot = result.slots[index]
            result.slots[index].wrapped = try SlotWrapping.wrap(
                grant: new, vaultID: file.vaultID, slotID: slot.id, scope: slot.scope, publicKey: slot.publicKey)
        }
        let nextKey = try new.signingKey().publicKey
        let generation = file.generation + 1
        let message = FormatMessages.chainLink(vaultID: file.vaultID, generation: generation, nextKey: nextKey)
        result.keyChain.links.append(KeyChain.Link(
            generation: generation, nextKey: nextKey, signature: oldSigningKey.signature(for: message)))
        return (result, new)
    }

    /// Vaults with at least this many entries are re-sealed in parts on several threads; below
    /// it, starting the threads costs more than splitting the work saves.
    public static let parallelEntryCount = 4096

    /// `entries` re-sealed from `old` to `new` (`EntryCipher.reseal`), in their order. A large
    /// vault is split into one contiguous part per core (at least two, so that every machine runs
    /// the same path; at most eight), each with its own ciphers, nonces and scratch; an error is
    /// the one the first failing entry gives, as in one pass from the first entry to the last.
    static func resealed(_ entries: [Entry], vaultID: [UInt8], from old: KeyGrant, to new: KeyGrant) throws -> [Entry] {
        var output = entries
        guard entries.count >= parallelEntryCount else {
            try output.withUnsafeMutableBufferPointer { output in
                try resealPart(entries, 0..<entries.count, into: output, vaultID: vaultID, from: old, to: new)
            }
            return output
        }
        // `KeyGrant.scopeKey` caches each key it derives: derive them all here, so the parts
        // below only read the grants.
        var lastScope: Scope?
        for entry in entries where entry.scope != lastScope {
            _ = try old.scopeKey(for: entry.scope)
            _ = try new.scopeKey(for: entry.scope)
            lastScope = entry.scope
        }
        let partCount = min(max(onlineCores, 2), 8)
        var failures = [KeyError?](repeating: nil, count: partCount)
        output.withUnsafeMutableBufferPointer { output in
            failures.withUnsafeMutableBufferPointer { failures in
                let job = ResealJob(entries: entries, output: output, failures: failures, vaultID: vaultID, old: old, new: new)
                DispatchQueue.concurrentPerform(iterations: partCount) { part in
                    let range = (entries.count * part / partCount)..<(entries.count * (part + 1) / partCount)
                    do throws(KeyError) {
                        try resealPart(job.entries, range, into: job.output, vaultID: job.vaultID, from: job.old, to: job.new)
                    } catch {
                        job.failures[part] = error
                    }
                }
            }
        }
        if let failure = failures.first(where: { $0 != nil }) ?? nil { throw failure }
        return output
    }

    /// What the parts of a parallel re-seal share. Unchecked: `output` and `failures` are written
    /// by each part only at its own indices (its range of entries, its part number), and the
    /// grants are only read (their scope keys derived before the parts start); `concurrentPerform`
    /// returns only when every part has finished.
    private struct ResealJob: @unchecked Sendable {
        let entries: [Entry]
        let output: UnsafeMutableBufferPointer<Entry>
        let failures: UnsafeMutableBufferPointer<KeyError?>
        let vaultID: [UInt8]
        let old: KeyGrant
        let new: KeyGrant
    }

    /// Re-seals `entries[range]` into the same positions of `output`, stopping at the first entry
    /// that fails.
    private static func resealPart(
        _ entries: [Entry], _ range: Range<Int>, into output: UnsafeMutableBufferPointer<Entry>, vaultID: [UInt8],
        from old: KeyGrant, to new: KeyGrant
    ) throws(KeyError) {
        let reader = EntryCipher(vaultID: vaultID, grant: old)
        let writer = EntryCipher(vaultID: vaultID, grant: new)
        var scratch = EntryCipher.ResealScratch()
        defer { scratch.wipe() }
        var nonces = NonceBatch(nonceByteCount: XChaCha20Poly1305.nonceByteCount)
        for index in range {
            output[index].sealedValue = try reader.reseal(entries[index], to: writer, nonces: &nonces, scratch: &scratch)[...]
        }
    }

    private static var onlineCores: Int { max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1) }

    /// The slot re-made for a new passphrase (fresh salt, new KDF parameters): one slot
    /// rewritten, every entry untouched.
    public static func changePassphrase(
        of slot: Slot, to passphrase: SecureBytes, parameters: Argon2id.Parameters, grant: KeyGrant, vaultID: [UInt8],
        genesisKey: [UInt8]
    ) throws -> Slot {
        guard case .passphrase = slot.kind else { throw KeyError.tampered(part: "slot \(slot.idText) is not a passphrase slot") }
        let salt = SecureRandom.bytes(Argon2id.saltByteCount)
        let secret = try SlotWrapping.passphraseSecretKey(
            passphrase, salt: salt, opsLimit: parameters.opsLimit, memLimit: parameters.memLimit)
        let publicKey = try X25519.publicKey(for: secret)
        var changed = slot
        changed.kind = .passphrase(salt: salt, opsLimit: parameters.opsLimit, memLimit: parameters.memLimit)
        changed.publicKey = publicKey
        changed.wrapped = try SlotWrapping.wrap(
            grant: grant, vaultID: vaultID, slotID: slot.id, scope: slot.scope, publicKey: publicKey)
        changed.authenticator = SlotWrapping.authenticator(of: changed, secretKey: secret, vaultID: vaultID, genesisKey: genesisKey)
        return changed
    }

    /// Inserts `slot` keeping slots ordered by id.
    public static func adding(_ slot: Slot, to file: VaultFile) -> VaultFile {
        var result = file
        let position = result.slots.firstIndex { $0.id > slot.id } ?? result.slots.endIndex
        result.slots.insert(slot, at: position)
        return result
    }

    /// The entries a slot's holder could open: all of them for a full slot, else its scopes'.
    public static func readableEntries(by slot: Slot, in file: VaultFile) -> [Entry] {
        guard !slot.scope.isGlobal else { return file.entries }
        let visible = Set(slot.scope.visibleScopes)
        return file.entries.filter { visible.contains($0.scope) }
    }
}
