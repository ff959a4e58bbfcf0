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
    public static func rekey(_ file: consuming VaultFile, from old: KeyGrant) throws -> (file: VaultFile, grant: KeyGrant) {
        guard file.generation < UInt64.max else { throw KeyError.tampered(part: "header: generation at its maximum") }
        let oldSigningKey = try old.signingKey()
        let new = KeyGrant.generate()
        // `file` is this function's own: its entries are re-sealed in place, not copied.
        try reseal(&file.entries, vaultID: file.vaultID, from: old, to: new)
        for index in file.slots.indices {
            let slot = file.slots[index]
            file.slots[index].wrapped = try SlotWrapping.wrap(
                grant: new, vaultID: file.vaultID, slotID: slot.id, scope: slot.scope, publicKey: slot.publicKey)
        }
        let nextKey = try new.signingKey().publicKey
        let generation = file.generation + 1
        let message = FormatMessages.chainLink(vaultID: file.vaultID, generation: generation, nextKey: nextKey)
        file.keyChain.links.append(KeyChain.Link(
            generation: generation, nextKey: nextKey, signature: oldSigningKey.signature(for: message)))
        return (file, new)
    }

    /// Vaults with at least this many entries are re-sealed in parts on several threads; below
    /// it, starting the threads costs more than splitting the work saves.
    public static let parallelEntryCount = 4096

    /// Re-seals every entry of `entries` from `old` to `new` (`EntryCipher.reseal`). The new
    /// sealed values are written into one buffer, which each entry then holds a slice of: no
    /// allocation per entry. A large vault is split into one contiguous part per core (at least
    /// two, so that every machine runs the same path; at most eight), each with its own ciphers,
    /// nonces and scratch; the parts touch no reference counts (the entries are read in place,
    /// the buffer written through a pointer). An error is the one the first failing entry gives,
    /// as in one pass from the first entry to the last, and leaves `entries` unchanged.
    static func reseal(_ entries: inout [Entry], vaultID: [UInt8], from old: KeyGrant, to new: KeyGrant) throws {
        // A re-sealed value is as long as the one it replaces.
        var offsets = [Int](repeating: 0, count: entries.count + 1)
        for index in entries.indices { offsets[index + 1] = offsets[index] + entries[index].sealedValue.count }
        let partCount: Int
        if entries.count >= parallelEntryCount {
            partCount = min(max(onlineCores, 2), 8)
            // `KeyGrant.scopeKey` caches each key it derives: derive them all here, so the parts
            // below only read the grants.
            var lastScope: Scope?
            for entry in entries where entry.scope != lastScope {
                _ = try old.scopeKey(for: entry.scope)
                _ = try new.scopeKey(for: entry.scope)
                lastScope = entry.scope
            }
        } else {
            partCount = 1
        }
        var failures = [KeyError?](repeating: nil, count: partCount)
        let sealed = entries.withUnsafeBufferPointer { entries in
            offsets.withUnsafeBufferPointer { offsets in
                failures.withUnsafeMutableBufferPointer { failures in
                    [UInt8](unsafeUninitializedCapacity: offsets[entries.count]) { output, initialized in
                        let job = ResealJob(
                            entries: entries, offsets: offsets, output: UnsafeMutableRawBufferPointer(output),
                            failures: failures, vaultID: vaultID, old: old, new: new)
                        if partCount == 1 {
                            job.run(part: 0, of: 1)
                        } else {
                            DispatchQueue.concurrentPerform(iterations: partCount) { part in job.run(part: part, of: partCount) }
                        }
                        // Bytes, which need no initialising; unread when a part failed.
                        initialized = output.count
                    }
                }
            }
        }
        if let failure = failures.first(where: { $0 != nil }) ?? nil { throw failure }
        for index in entries.indices { entries[index].sealedValue = sealed[offsets[index]..<offsets[index + 1]] }
    }

    /// What the parts of a re-seal share. Unchecked: `output` and `failures` are written by each
    /// part only at its own places (its entries' ranges of bytes, its part number), the entries
    /// and offsets only read, and the grants only read (their scope keys derived before the parts
    /// start); `concurrentPerform` returns only when every part has finished.
    private struct ResealJob: @unchecked Sendable {
        let entries: UnsafeBufferPointer<Entry>
        let offsets: UnsafeBufferPointer<Int>
        let output: UnsafeMutableRawBufferPointer
        let failures: UnsafeMutableBufferPointer<KeyError?>
        let vaultID: [UInt8]
        let old: KeyGrant
        let new: KeyGrant

        /// Re-seals part `part` of `partCount` contiguous parts of `entries` into their bytes of
        /// `output`, stopping at the first entry that fails.
        func run(part: Int, of partCount: Int) {
            let range = (entries.count * part / partCount)..<(entries.count * (part + 1) / partCount)
            let reader = EntryCipher(vaultID: vaultID, grant: old)
            let writer = EntryCipher(vaultID: vaultID, grant: new)
            var scratch = EntryCipher.ResealScratch()
            defer { scratch.wipe() }
            var nonces = NonceBatch(nonceByteCount: XChaCha20Poly1305.nonceByteCount)
            do throws(KeyError) {
                for index in range {
                    try reader.reseal(
                        entries[index], to: writer, nonces: &nonces, scratch: &scratch,
                        into: UnsafeMutableRawBufferPointer(rebasing: output[offsets[index]..<offsets[index + 1]]))
                }
            } catch {
                failures[part] = error
            }
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
