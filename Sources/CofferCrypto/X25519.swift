internal import CSodium

/// X25519 keys and anonymous sealed boxes (`crypto_box_seal`) for recipient key slots.
///
/// A secret key is 32 random bytes (the format age uses); its public key is
/// `crypto_scalarmult_base` of it.
public enum X25519 {
    public static let keyByteCount = Int(crypto_box_PUBLICKEYBYTES)
    /// Bytes a sealed box adds: an ephemeral public key and a tag.
    public static let sealOverhead = Int(crypto_box_PUBLICKEYBYTES + crypto_box_MACBYTES)

    public static func generateSecretKey() -> SecureBytes {
        SecureBytes.random(count: keyByteCount)
    }

    public static func publicKey(for secretKey: SecureBytes) throws -> [UInt8] {
        Sodium.ensureInitialized()
        guard secretKey.count == keyByteCount else { throw CryptoError.invalidKey }
        var publicKey = [UInt8](repeating: 0, count: keyByteCount)
        let status = secretKey.withUnsafeBytes { secret in
            crypto_scalarmult_base(&publicKey, secret.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard status == 0 else { throw CryptoError.invalidKey }
        return publicKey
    }

    /// Seals `plaintext` so that only the holder of `publicKey`'s secret key can open it.
    public static func seal(_ plaintext: SecureBytes, to publicKey: [UInt8]) throws -> [UInt8] {
        Sodium.ensureInitialized()
        guard publicKey.count == keyByteCount else { throw CryptoError.invalidKey }
        var sealed = [UInt8](repeating: 0, count: plaintext.count + sealOverhead)
        let status = plaintext.withUnsafeBytes { message in
            crypto_box_seal(
                &sealed, message.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(message.count), publicKey)
        }
        guard status == 0 else { throw CryptoError.invalidKey }
        return sealed
    }

    /// Opens a sealed box with `secretKey`, into guarded memory.
    public static func open(_ sealed: [UInt8], secretKey: SecureBytes) throws -> SecureBytes {
        Sodium.ensureInitialized()
        guard sealed.count >= sealOverhead else { throw CryptoError.authenticationFailed }
        let publicKey = try publicKey(for: secretKey)
        let plaintext = SecureBytes(count: sealed.count - sealOverhead)
        let status = plaintext.withUnsafeMutableBytes { output in
            secretKey.withUnsafeBytes { secret in
                crypto_box_seal_open(
                    output.baseAddress!.assumingMemoryBound(to: UInt8.self), sealed, UInt64(sealed.count),
                    publicKey, secret.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard status == 0 else { throw CryptoError.authenticationFailed }
        return plaintext
    }
}
