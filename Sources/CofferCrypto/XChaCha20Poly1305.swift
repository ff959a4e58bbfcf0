internal import CSodium

/// XChaCha20-Poly1305-IETF authenticated encryption with associated data.
public enum XChaCha20Poly1305 {
    public static let keyByteCount = Int(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    public static let nonceByteCount = Int(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES)
    public static let tagByteCount = Int(crypto_aead_xchacha20poly1305_ietf_ABYTES)
    /// Bytes a sealed box adds to its plaintext: nonce and tag.
    public static let overhead = nonceByteCount + tagByteCount

    /// A sealed message: `nonce || ciphertext || tag` in one buffer.
    public struct SealedBox: Hashable, Sendable {
        public let combined: [UInt8]

        /// Wraps bytes read from a file; fails when they are too short to hold a nonce and tag.
        public init(combined: [UInt8]) throws {
            guard combined.count >= XChaCha20Poly1305.overhead else { throw CryptoError.authenticationFailed }
            self.combined = combined
        }

        fileprivate init(unchecked combined: [UInt8]) { self.combined = combined }

        public var nonce: ArraySlice<UInt8> { combined.prefix(nonceByteCount) }
        public var ciphertext: ArraySlice<UInt8> { combined[nonceByteCount..<(combined.count - tagByteCount)] }
        public var tag: ArraySlice<UInt8> { combined.suffix(tagByteCount) }
        /// Length of the plaintext this box opens to.
        public var plaintextCount: Int { combined.count - overhead }
    }

    /// Seals `plaintext` under `key` with a fresh random nonce (or `nonce`, for test vectors).
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, key: SecureBytes, nonce: [UInt8]? = nil,
        authenticating associatedData: UnsafeRawBufferPointer
    ) -> SealedBox {
        precondition(nonce == nil || nonce!.count == nonceByteCount, "XChaCha20-Poly1305 takes a 24-byte nonce")
        let total = plaintext.count + overhead
        let combined = [UInt8](unsafeUninitializedCapacity: total) { output, initialized in
            let out = UnsafeMutableRawBufferPointer(output)
            let nonceBytes = UnsafeMutableRawBufferPointer(rebasing: out[0..<nonceByteCount])
            if let nonce { nonceBytes.copyBytes(from: nonce) } else { SecureRandom.fill(nonceBytes) }
            seal(plaintext, key: key, nonce: UnsafeRawBufferPointer(nonceBytes), authenticating: associatedData, into: out)
            initialized = total
        }
        return SealedBox(unchecked: combined)
    }

    /// Seals `plaintext` with `nonce` into `output` (`nonce || ciphertext || tag`, exactly
    /// `plaintext.count + overhead` bytes; `nonce` may already be its first bytes).
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, key: SecureBytes, nonce: UnsafeRawBufferPointer,
        authenticating associatedData: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) {
        Sodium.ensureInitialized()
        precondition(key.count == keyByteCount, "XChaCha20-Poly1305 takes a 32-byte key")
        precondition(nonce.count == nonceByteCount, "XChaCha20-Poly1305 takes a 24-byte nonce")
        precondition(output.count == plaintext.count + overhead)
        let out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if UnsafeRawPointer(out) != nonce.baseAddress { output.baseAddress!.copyMemory(from: nonce.baseAddress!, byteCount: nonceByteCount) }
        key.withUnsafeBytes { key in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                out + nonceByteCount, nil,
                plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
                nil, out, key.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }

    public static func seal(
        _ plaintext: [UInt8], key: SecureBytes, nonce: [UInt8]? = nil, authenticating associatedData: [UInt8]
    ) -> SealedBox {
        plaintext.withUnsafeBytes { p in
            associatedData.withUnsafeBytes { ad in seal(p, key: key, nonce: nonce, authenticating: ad) }
        }
    }

    /// Opens `box` into `output`, which must hold exactly `box.plaintextCount` bytes.
    public static func open(
        _ box: SealedBox, key: SecureBytes, authenticating associatedData: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws {
        try box.combined.withUnsafeBytes { sealed throws in
            try open(combined: sealed, key: key, authenticating: associatedData, into: output)
        }
    }

    /// Opens `nonce || ciphertext || tag` read in place into `output`, which must hold exactly
    /// `combined.count - overhead` bytes; fails when `combined` is shorter than `overhead`.
    public static func open(
        combined sealed: UnsafeRawBufferPointer, key: SecureBytes, authenticating associatedData: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws {
        Sodium.ensureInitialized()
        guard key.count == keyByteCount else { throw CryptoError.invalidKey }
        guard sealed.count >= overhead else { throw CryptoError.authenticationFailed }
        precondition(output.count == sealed.count - overhead)
        let status = key.withUnsafeBytes { key in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                output.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, nil,
                sealed.baseAddress!.assumingMemoryBound(to: UInt8.self) + nonceByteCount,
                UInt64(sealed.count - nonceByteCount),
                associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
                sealed.baseAddress!.assumingMemoryBound(to: UInt8.self),
                key.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard status == 0 else { throw CryptoError.authenticationFailed }
    }

    /// Opens `box` into a new array.
    public static func open(
        _ box: SealedBox, key: SecureBytes, authenticating associatedData: UnsafeRawBufferPointer
    ) throws -> [UInt8] {
        var failure: CryptoError?
        let plaintext = [UInt8](unsafeUninitializedCapacity: box.plaintextCount) { output, initialized in
            do {
                try open(box, key: key, authenticating: associatedData, into: UnsafeMutableRawBufferPointer(output))
                initialized = box.plaintextCount
            } catch {
                failure = error as? CryptoError ?? .authenticationFailed
                initialized = 0
            }
        }
        if let failure { throw failure }
        return plaintext
    }

    public static func open(_ box: SealedBox, key: SecureBytes, authenticating associatedData: [UInt8]) throws -> [UInt8] {
        try associatedData.withUnsafeBytes { ad throws in try open(box, key: key, authenticating: ad) }
    }

    /// Opens `box` into guarded memory, for boxes that hold keys.
    public static func openKey(_ box: SealedBox, key: SecureBytes, authenticating associatedData: [UInt8]) throws -> SecureBytes {
        let plaintext = SecureBytes(count: box.plaintextCount)
        try plaintext.withUnsafeMutableBytes { output throws in
            try associatedData.withUnsafeBytes { ad throws in
                try open(box, key: key, authenticating: ad, into: output)
            }
        }
        return plaintext
    }

    /// Seals key material held in guarded memory.
    public static func seal(_ plaintext: SecureBytes, key: SecureBytes, authenticating associatedData: [UInt8]) -> SealedBox {
        plaintext.withUnsafeBytes { p in
            associatedData.withUnsafeBytes { ad in seal(p, key: key, authenticating: ad) }
        }
    }
}
