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
        Sodium.ensureInitialized()
        precondition(key.count == keyByteCount, "XChaCha20-Poly1305 takes a 32-byte key")
        precondition(nonce == nil || nonce!.count == nonceByteCount, "XChaCha20-Poly1305 takes a 24-byte nonce")
        let total = plaintext.count + overhead
        let combined = [UInt8](unsafeUninitializedCapacity: total) { output, initialized in
            let out = UnsafeMutableRawBufferPointer(output)
            if let nonce {
                out.copyBytes(from: nonce)
            } else {
                SecureRandom.fill(UnsafeMutableRawBufferPointer(rebasing: out[0..<nonceByteCount]))
            }
            key.withUnsafeBytes { key in
                _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                    output.baseAddress! + nonceByteCount, nil,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
                    nil, output.baseAddress!, key.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            initialized = total
        }
        return SealedBox(unchecked: combined)
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
        Sodium.ensureInitialized()
        guard key.count == keyByteCount else { throw CryptoError.invalidKey }
        precondition(output.count == box.plaintextCount)
        let status = box.combined.withUnsafeBytes { sealed in
            key.withUnsafeBytes { key in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    output.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, nil,
                    sealed.baseAddress!.assumingMemoryBound(to: UInt8.self) + nonceByteCount,
                    UInt64(sealed.count - nonceByteCount),
                    associatedData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(associatedData.count),
                    sealed.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    key.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
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
