internal import CSodium

/// Password hashing with Argon2id v1.3 (`crypto_pwhash`, ALG_ARGON2ID13).
public enum Argon2id {
    public static let saltByteCount = Int(crypto_pwhash_argon2id_SALTBYTES)

    /// Cost parameters: passes over memory (`opsLimit`) and memory in bytes (`memLimit`).
    public struct Parameters: Hashable, Sendable {
        public let opsLimit: UInt64
        public let memLimit: UInt64

        /// libsodium's accepted range; callers add their own, stricter caps for untrusted input.
        public static let opsLimitRange: ClosedRange<UInt64> =
            UInt64(crypto_pwhash_argon2id_OPSLIMIT_MIN)...UInt64(crypto_pwhash_argon2id_OPSLIMIT_MAX)
        public static let memLimitRange: ClosedRange<UInt64> =
            UInt64(crypto_pwhash_argon2id_MEMLIMIT_MIN)...UInt64(crypto_pwhash_argon2id_memlimit_max())

        public init(opsLimit: UInt64, memLimit: UInt64) throws {
            guard Self.opsLimitRange.contains(opsLimit) else {
                throw CryptoError.invalidParameters("Argon2id opslimit \(opsLimit) is outside \(Self.opsLimitRange)")
            }
            guard Self.memLimitRange.contains(memLimit), memLimit % 1024 == 0 else {
                throw CryptoError.invalidParameters("Argon2id memlimit \(memLimit) must be a multiple of 1024 in \(Self.memLimitRange)")
            }
            self.opsLimit = opsLimit
            self.memLimit = memLimit
        }

        private init(trusted opsLimit: UInt32, _ memLimit: UInt32) {
            self.opsLimit = UInt64(opsLimit)
            self.memLimit = UInt64(memLimit)
        }

        /// libsodium's presets (2 passes/64 MiB, 3/256 MiB, 4/1 GiB).
        public static let interactive = Parameters(
            trusted: crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE)
        public static let moderate = Parameters(
            trusted: crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE)
        public static let sensitive = Parameters(
            trusted: crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE, crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE)
    }

    /// Derives `byteCount` bytes of key from `passphrase` and a 16-byte `salt`.
    public static func deriveKey(
        passphrase: SecureBytes, salt: [UInt8], parameters: Parameters, byteCount: Int = 32
    ) throws -> SecureBytes {
        Sodium.ensureInitialized()
        guard salt.count == saltByteCount else { throw CryptoError.invalidKey }
        guard byteCount >= Int(crypto_pwhash_argon2id_BYTES_MIN) else {
            throw CryptoError.invalidParameters("Argon2id output of \(byteCount) bytes is too short")
        }
        let key = SecureBytes(count: byteCount)
        let status = key.withUnsafeMutableBytes { output in
            passphrase.withUnsafeBytes { password in
                salt.withUnsafeBytes { salt in
                    crypto_pwhash(
                        output.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(byteCount),
                        password.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(password.count),
                        salt.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        parameters.opsLimit, Int(parameters.memLimit), crypto_pwhash_ALG_ARGON2ID13)
                }
            }
        }
        guard status == 0 else { throw CryptoError.outOfMemory }
        return key
    }
}
