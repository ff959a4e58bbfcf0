internal import CSodium

/// The primitives age's file format fixes (age v1): scrypt for passphrases, HKDF-SHA-256 and
/// HMAC-SHA-256 for the header, ChaCha20-Poly1305-IETF for the file key and the payload. Used only
/// to read and write age's passphrase-protected identity files.
public enum AgePrimitives {
    public static let chachaKeyByteCount = Int(crypto_aead_chacha20poly1305_ietf_KEYBYTES)
    public static let chachaNonceByteCount = Int(crypto_aead_chacha20poly1305_ietf_NPUBBYTES)
    public static let chachaTagByteCount = Int(crypto_aead_chacha20poly1305_ietf_ABYTES)

    /// scrypt (`crypto_pwhash_scryptsalsa208sha256_ll`) with N = 2^logN, r = 8, p = 1, 32 bytes.
    /// The caller bounds `logN`; throws `outOfMemory` when the derivation cannot run.
    public static func scrypt(_ passphrase: SecureBytes, salt: [UInt8], logN: Int) throws -> SecureBytes {
        Sodium.ensureInitialized()
        precondition((1...30).contains(logN))
        let key = SecureBytes(count: 32)
        let status = key.withUnsafeMutableBytes { out in
            passphrase.withUnsafeBytes { password in
                crypto_pwhash_scryptsalsa208sha256_ll(
                    password.baseAddress!.assumingMemoryBound(to: UInt8.self), password.count, salt, salt.count,
                    UInt64(1) << UInt64(logN), 8, 1, out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count)
            }
        }
        guard status == 0 else { throw CryptoError.outOfMemory }
        return key
    }

    /// HMAC-SHA-256 of `message` under `key` (`crypto_auth_hmacsha256`, any key length).
    public static func hmacSHA256(key: SecureBytes, _ message: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialized()
        var state = crypto_auth_hmacsha256_state()
        var mac = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        key.withUnsafeBytes { key in
            _ = crypto_auth_hmacsha256_init(&state, key.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
        }
        _ = crypto_auth_hmacsha256_update(&state, message, UInt64(message.count))
        _ = crypto_auth_hmacsha256_final(&state, &mac)
        sodium_memzero(&state, MemoryLayout<crypto_auth_hmacsha256_state>.size)
        return mac
    }

    /// HKDF-SHA-256 (RFC 5869) of `ikm` with `salt` and `info`, 32 bytes (one expand block).
    /// libsodium 1.0.18 has no HKDF; this is RFC 5869's two HMAC steps over libsodium's HMAC.
    public static func hkdfSHA256(_ ikm: SecureBytes, salt: [UInt8], info: [UInt8]) -> SecureBytes {
        // RFC 5869: no salt means HashLen zero bytes.
        let saltKey = SecureBytes(copying: salt.isEmpty ? [UInt8](repeating: 0, count: 32) : salt)
        let prk = ikm.withUnsafeBytes { SecureBytes(copying: hmacSHA256(key: saltKey, Array($0))) }
        var block = hmacSHA256(key: prk, info + [1])
        defer { sodium_memzero(&block, block.count) }
        return SecureBytes(copying: block)
    }

    /// ChaCha20-Poly1305-IETF without associated data; nil when the tag does not verify.
    public static func chachaOpen(_ ciphertext: UnsafeRawBufferPointer, nonce: [UInt8], key: SecureBytes) -> SecureBytes? {
        Sodium.ensureInitialized()
        guard ciphertext.count >= chachaTagByteCount, nonce.count == chachaNonceByteCount, key.count == chachaKeyByteCount else {
            return nil
        }
        let plaintext = SecureBytes(count: ciphertext.count - chachaTagByteCount)
        let status = plaintext.withUnsafeMutableBytes { out in
            key.withUnsafeBytes { key in
                crypto_aead_chacha20poly1305_ietf_decrypt(
                    out.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, nil,
                    ciphertext.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(ciphertext.count), nil, 0,
                    nonce, key.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return status == 0 ? plaintext : nil
    }

    /// ChaCha20-Poly1305-IETF without associated data: ciphertext || tag.
    public static func chachaSeal(_ plaintext: SecureBytes, nonce: [UInt8], key: SecureBytes) -> [UInt8] {
        Sodium.ensureInitialized()
        precondition(nonce.count == chachaNonceByteCount && key.count == chachaKeyByteCount)
        var output = [UInt8](repeating: 0, count: plaintext.count + chachaTagByteCount)
        plaintext.withUnsafeBytes { message in
            key.withUnsafeBytes { key in
                _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                    &output, nil, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count), nil, 0, nil,
                    nonce, key.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return output
    }
}
