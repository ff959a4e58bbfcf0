internal import CSodium

/// SHA-256 (`crypto_hash_sha256`): only where another format fixes it (OpenSSH key fingerprints).
public enum SHA256 {
    public static func hash(_ data: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialized()
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        _ = crypto_hash_sha256(&digest, data, UInt64(data.count))
        return digest
    }
}
