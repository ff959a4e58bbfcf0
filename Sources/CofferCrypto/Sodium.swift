internal import CSodium

/// libsodium's one-time initialisation; every entry point of this module touches it first.
enum Sodium {
    private static let initialized: Bool = sodium_init() >= 0

    static func ensureInitialized() {
        precondition(initialized, "libsodium failed to initialise")
    }
}

/// Errors from the cryptographic core.
public enum CryptoError: Error, Equatable, Sendable {
    /// A ciphertext, sealed box or signature did not verify (wrong key, or altered bytes).
    case authenticationFailed
    /// A key, nonce or salt has the wrong length, or a public key is unusable.
    case invalidKey
    /// KDF or length parameters outside the accepted bounds; the text says which.
    case invalidParameters(String)
    /// The KDF could not get the memory it was asked for.
    case outOfMemory
}

/// Cryptographically secure random bytes from libsodium.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        Sodium.ensureInitialized()
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { randombytes_buf(buffer.baseAddress!, count) }
            initialized = count
        }
    }

    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        Sodium.ensureInitialized()
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }
}

/// Nonces for many seals, a batch at a time (re-keying seals every entry): one 32-byte draw of the
/// system's randomness seeds libsodium's `randombytes_buf_deterministic` (ChaCha20), which fills
/// a buffer of `perDraw` nonces. Filling the buffer from the system directly cost one `getrandom`
/// call per 256 bytes (libsodium asks the kernel in chunks of that size): a hundred calls per
/// batch, 3% of a re-key's CPU time at 100,000 entries (perf).
public struct NonceBatch {
    private var buffer: [UInt8]
    private var next: Int
    private let nonceByteCount: Int

    public init(nonceByteCount: Int, perDraw: Int = 1024) {
        self.nonceByteCount = nonceByteCount
        buffer = [UInt8](repeating: 0, count: nonceByteCount * perDraw)
        next = buffer.count
    }

    /// Copies a fresh nonce, never handed out before, into `nonce` (`nonceByteCount` bytes).
    public mutating func take(into nonce: UnsafeMutableRawBufferPointer) {
        precondition(nonce.count == nonceByteCount, "one nonce at a time")
        if next == buffer.count {
            withUnsafeTemporaryAllocation(byteCount: randombytes_seedbytes(), alignment: 1) { seed in
                SecureRandom.fill(seed)
                buffer.withUnsafeMutableBytes { batch in
                    randombytes_buf_deterministic(batch.baseAddress!, batch.count, seed.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
                SecureMemory.wipe(seed)
            }
            next = 0
        }
        buffer.withUnsafeBytes { nonce.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[next..<(next + nonceByteCount)])) }
        next += nonceByteCount
    }
}

extension Array where Element == UInt8 {
    /// Overwrites the bytes with zeros through `sodium_memzero`, which the compiler cannot drop:
    /// for plaintext that ends up in an ordinary array.
    public mutating func wipe() {
        withUnsafeMutableBytes { SecureMemory.wipe($0) }
    }
}

public enum SecureMemory {
    /// Overwrites `bytes` with zeros through `sodium_memzero` (buffers handed to C callers too).
    public static func wipe(_ bytes: UnsafeMutableRawBufferPointer) {
        if let base = bytes.baseAddress { sodium_memzero(base, bytes.count) }
    }
}

/// Comparisons whose time does not depend on where the inputs differ.
public enum ConstantTime {
    public static func equals(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        Sodium.ensureInitialized()
        guard a.count == b.count else { return false }
        guard a.count > 0 else { return true }
        return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
    }

    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.withUnsafeBytes { a in b.withUnsafeBytes { b in equals(a, b) } }
    }
}
