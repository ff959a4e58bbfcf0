import Coffer
import CofferCodec
import CofferCrypto
import Testing

/// Every byte of a small vault is covered: by the signature for everyone, and by the AEAD, slot
/// binding and verification-key check for key holders (§3–4).
@Suite struct VaultTamperTests {
    /// A small vault's bytes, its signing key and its readable content.
    static func sample() throws -> (bytes: [UInt8], signingKey: Ed25519.SigningKey, content: [String: [UInt8]]) {
        let directory = try TemporaryDirectory()
        let vault = try makeVault(at: directory.file("v.coffer"), entries: [
            (.global, "a", Array("one".utf8)), (.global, "b", Array("two".utf8)),
            (Scope(project: "web", domain: "prod"), "a", [0, 0xFF]),
        ])
        try vault.set("a", value: Array("one".utf8), overwrite: true, description: "first", noReveal: true)
        try vault.save()
        return (try readBytes(vault.path), try #require(vault.keyGrant).signingKey(), try readableValues(vault))
    }

    /// Opens `bytes`, and with `unlock` also unlocks them with the passphrase and reads every value.
    static func open(_ bytes: [UInt8], unlock: Bool) throws -> [String: [UInt8]] {
        let vault = try Vault(bytes: bytes, path: "v.coffer")
        guard unlock else { return [:] }
        try vault.unlock(passphrase: secure(testPassphrase))
        return try readableValues(vault)
    }

    @Test func flippingAnyByteFailsToOpenWithoutAKey() throws {
        let sample = try Self.sample()
        for offset in sample.bytes.indices {
            for mask: UInt8 in [0x01, 0x80] {
                #expect(throws: CofferError.self, "byte \(offset) ^ \(mask)") {
                    try Self.open(flipping(sample.bytes, at: offset, mask: mask), unlock: false)
                }
            }
        }
    }

    /// With the key, each flipped file fails with a `CofferError` or reads exactly the original
    /// names, scopes and values. That holds even when the key holder re-signs the flipped file:
    /// metadata (dates, descriptions, flags, labels) is theirs to change, values and names are
    /// bound by the AEAD.
    @Test func flippingAnyByteNeverShowsAlteredContentToAKeyHolder() throws {
        let sample = try Self.sample()
        let signedCount = sample.bytes.count - VaultFile.signatureByteCount
        var opened = 0
        for offset in sample.bytes.indices {
            for mask: UInt8 in [0x01, 0x80] {
                let flipped = flipping(sample.bytes, at: offset, mask: mask)
                var candidates = [flipped]
                if offset < signedCount { candidates.append(signed(Array(flipped.prefix(signedCount)), with: sample.signingKey)) }
                for (resigned, bytes) in zip([false, true], candidates) {
                    do {
                        let content = try Self.open(bytes, unlock: true)
                        #expect(resigned, "byte \(offset) ^ \(mask) opened without a new signature")
                        #expect(content == sample.content, "byte \(offset) ^ \(mask) changed the content")
                        opened += 1
                    } catch {
                        #expect(error is CofferError, "byte \(offset) ^ \(mask): \(error)")
                    }
                }
            }
        }
        #expect(opened > 0, "some re-signed metadata edits (a date, a description) open")
    }

    /// A vault of 256 KiB or more is hashed on a second thread while its fields are checked
    /// (`Concurrently.worthwhileBytes`): a byte tampered with past the first 256 KiB, a forged
    /// signature (another key over the same bytes), a truncation and a bad magic are refused
    /// as they are in a small vault.
    @Test func aTamperedOrForgedLargeVaultIsRefused() throws {
        let directory = try TemporaryDirectory()
        let value = [UInt8](repeating: 0x41, count: 40_000)
        let vault = try makeVault(at: directory.file("v.coffer"), entries: (0..<8).map { (.global, "e\($0)", value) })
        let bytes = try readBytes(vault.path)
        let signedCount = bytes.count - VaultFile.signatureByteCount
        #expect(signedCount - 20_000 > 256 * 1024)
        #expect(try Self.open(bytes, unlock: true).count == 8)
        let signature = CofferError.tampered(part: "signature")
        // Inside the last entry's sealed value, and in the signature.
        for offset in [signedCount - 20_000, bytes.count - 1] {
            #expect(throws: signature, "byte \(offset)") { try Self.open(flipping(bytes, at: offset), unlock: false) }
        }
        let forger = try Ed25519.SigningKey(seed: SecureBytes(copying: [UInt8](repeating: 7, count: 32)))
        #expect(throws: signature) { try Self.open(signed(Array(bytes.prefix(signedCount)), with: forger), unlock: false) }
        #expect(throws: CofferError.self) { try Self.open(Array(bytes.dropLast(100_000)), unlock: false) }
        #expect(throws: CofferError.notAVault(path: "v.coffer")) { try Self.open(flipping(bytes, at: 0), unlock: false) }
    }

    @Test func everyTruncationFailsToOpen() throws {
        let sample = try Self.sample()
        for length in 0..<sample.bytes.count {
            #expect(throws: CofferError.self, "length \(length)") { try Self.open(Array(sample.bytes.prefix(length)), unlock: false) }
        }
    }
}
