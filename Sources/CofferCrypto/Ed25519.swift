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
