public import CofferCodec
public import CofferCrypto

/// Key rotation on a decoded vault: changing one slot, adding and removing slots, and re-keying
/// everything under a fresh master key (Specs/rotation.md).
public enum Rotation {
    /// Re-keys the vault `index` holds: a fresh master key, every entry re-sealed (and opened
    /// again under the new key in the same pass: the result needs no further check), every slot
    /// re-wrapped, and a key-chain link, signed by the old key, to the new verification key.
    /// Names, scopes, metadata and slot ids are unchanged, and so is every byte of the entries
    /// but their sealed values: the result is `index` with those bytes replaced. The generation
    /// is left to the save that writes the result.
    public static func rekey(_ index: VaultIndex, from old: KeyGrant) throws -> (index: VaultIndex, grant: KeyGrant) {
        var header = index.header
        guard header.generation < UInt64.max else { throw KeyError.tampered(part: "header: generation at its maximum") }
        let oldSigningKey = try old.signingKey()
        let new = KeyGrant.generate()
        let bytes = try reseal(index, from: old, to: new)
        for position in header.slots.indices {
            let slot = header.slots[position]
            header.slots[position].wrapped = try SlotWrapping.wrap(
                grant: new, vaultID: header.vaultID, slotID: slot.id, scope: slot.scope, publicKey: slot.publicKey)
        }
        let nextKey = try new.signingKey().publicKey
        let generation = header.generation + 1
        let message = FormatMessages.chainLink(vaultID: header.vaultID, generation: generation, nextKey: nextKey)
        header.keyChain.links.append(KeyChain.Link(
            generation: generation, nextKey: nextKey, signature: oldSigningKey.signature(for: message)))
        return (index.replacing(header: header, bytes: bytes), new)
    }

    /// Vaults with at least this many entries are re-sealed in parts on several threads; below
    /// it, starting the threads costs more than splitting the work saves.
    public static let parallelEntryCount = 4096

    /// The bytes of `index` with every sealed value re-sealed from `old` to `new`
    /// (`EntryCipher.reseal`), each in place of the one it replaces. A large vault is split into
    /// one contiguous part per CPU it may use (at least two, so that every machine runs the same path; at
    /// most eight; `Concurrently`), each with its own ciphers, nonces and scratch; the parts touch no reference
    /// counts (the file read and written through pointers) and share the grants, which they
    /// only read. An error is the one the first failing entry gives, as in one pass from the
    /// first entry to the last.
    static func reseal(_ index: VaultIndex, from old: KeyGrant, to new: KeyGrant) throws -> [UInt8] {
        let partCount = index.entryCount >= parallelEntryCount ? min(max(Concurrently.usableCores, 2), 8) : 1
        var failures = [KeyError?](repeating: nil, count: partCount)
        var output = index.bytes
        output.withUnsafeMutableBytes { output in
            failures.withUnsafeMutableBufferPointer { failures in
                index.withSealedPlaces { places in
                    let job = ResealJob(
                        places: places, output: output, failures: failures, vaultID: index.header.vaultID, old: old, new: new)
                    Concurrently.forEachPart(partCount) { part in job.run(part: part, of: partCount) }
                }
            }
        }
        if let failure = failures.first(where: { $0 != nil }) ?? nil { throw failure }
        return output
    }

    /// What the parts of a re-seal share. Unchecked: `output` and `failures` are written by each
    /// part only at its own places (its entries' sealed values, its part number), the places
    /// and grants only read; `forEachPart` returns only when every part has finished.
    private struct ResealJob: @unchecked Sendable {
        let places: VaultIndex.SealedPlaces
        let output: UnsafeMutableRawBufferPointer
        let failures: UnsafeMutableBufferPointer<KeyError?>
        let vaultID: [UInt8]
        let old: KeyGrant
        let new: KeyGrant

        /// Re-seals part `part` of `partCount` contiguous parts of the entries into their bytes
        /// of `output`, stopping at the first entry that fails.
        func run(part: Int, of partCount: Int) {
            let range = (places.count * part / partCount)..<(places.count * (part + 1) / partCount)
            let reader = EntryCipher(vaultID: vaultID, grant: old)
            let writer = EntryCipher(vaultID: vaultID, grant: new)
            var scratch = EntryCipher.ResealScratch()
            defer { scratch.wipe() }
            var nonces = NonceBatch(nonceByteCount: XChaCha20Poly1305.nonceByteCount)
            do throws(KeyError) {
                for position in range {
                    let place = places[position]
                    try reader.reseal(
                        place, of: places.bytes, to: writer, nonces: &nonces, scratch: &scratch,
                        into: UnsafeMutableRawBufferPointer(rebasing: output[place.sealedValue]))
                }
            } catch {
                failures[part] = error
            }
        }
    }

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
