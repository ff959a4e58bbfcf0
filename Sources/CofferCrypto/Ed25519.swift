internal import CSodium

/// Ed25519 signatures: the vault file's signature and the key-continuity chain.
public enum Ed25519 {
    public static let seedByteCount = Int(crypto_sign_SEEDBYTES)
    public static let publicKeyByteCount = Int(crypto_sign_PUBLICKEYBYTES)
    public static let signatureByteCount = Int(crypto_sign_BYTES)

    /// A signing key pair determined by a 32-byte seed (`crypto_sign_seed_keypair`).
    public final class SigningKey {
        private let secretKey: SecureBytes
        public let publicKey: [UInt8]

        public init(seed: SecureBytes) throws {
            Sodium.ensureInitialized()
            guard seed.count == seedByteCount else { throw CryptoError.invalidKey }
            let secretKey = SecureBytes(count: Int(crypto_sign_SECRETKEYBYTES))
            var publicKey = [UInt8](repeating: 0, count: publicKeyByteCount)
            secretKey.withUnsafeMutableBytes { secret in
                seed.withUnsafeBytes { seed in
                    _ = crypto_sign_seed_keypair(
                        &publicKey, secret.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        seed.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            self.secretKey = secretKey
            self.publicKey = publicKey
        }

        /// The X25519 secret key of the same key pair (`crypto_sign_ed25519_sk_to_curve25519`), as
        /// age uses an `ssh-ed25519` identity; its public key is `x25519PublicKey(publicKey)`.
        public func x25519SecretKey() -> SecureBytes {
            let output = SecureBytes(count: X25519.keyByteCount)
            output.withUnsafeMutableBytes { out in
                secretKey.withUnsafeBytes { secret in
                    _ = crypto_sign_ed25519_sk_to_curve25519(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self), secret.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            return output
        }

        public func signature(for message: UnsafeRawBufferPointer) -> [UInt8] {
            var signature = [UInt8](repeating: 0, count: signatureByteCount)
            secretKey.withUnsafeBytes { secret in
                _ = crypto_sign_detached(
                    &signature, nil, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                    secret.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
            return signature
        }

        public func signature(for message: [UInt8]) -> [UInt8] {
            message.withUnsafeBytes { signature(for: $0) }
        }
    }

    /// The X25519 public key of an Ed25519 public key (`crypto_sign_ed25519_pk_to_curve25519`);
    /// throws `invalidKey` for a point that is not a valid Ed25519 key.
    public static func x25519PublicKey(_ publicKey: [UInt8]) throws -> [UInt8] {
        Sodium.ensureInitialized()
        guard publicKey.count == publicKeyByteCount else { throw CryptoError.invalidKey }
        var output = [UInt8](repeating: 0, count: X25519.keyByteCount)
        guard crypto_sign_ed25519_pk_to_curve25519(&output, publicKey) == 0 else { throw CryptoError.invalidKey }
        return output
    }

    public static func isValidSignature(
        _ signature: [UInt8], for message: UnsafeRawBufferPointer, publicKey: [UInt8]
    ) -> Bool {
        Sodium.ensureInitialized()
        guard signature.count == signatureByteCount, publicKey.count == publicKeyByteCount else { return false }
        return crypto_sign_verify_detached(
            signature, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count), publicKey) == 0
    }

    public static func isValidSignature(_ signature: [UInt8], for message: [UInt8], publicKey: [UInt8]) -> Bool {
        message.withUnsafeBytes { isValidSignature(signature, for: $0, publicKey: publicKey) }
    }
}
